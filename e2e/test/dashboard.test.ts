// A real Prometheus (Debian's) scrapes a 2-node cluster the way the chart has it scraped
// (felix :9091, bird :9092, kube-controllers :9094 on the node's address, a `node` label on
// every target), and every query of the chart's Grafana dashboard must return data: a panel
// that shows nothing fails here. What the error, restart and GC panels show is caused first:
// an operator's rule that keeps felix from deleting a chain and an ipset, a full disk under
// felix's log, a felix restart, a route of bird deleted by hand.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { FakeApiServer, hasCommand, isRoot, LoopbackBridge, Netns, run, waitFor } from '@tricolor/testkit';
import { Cluster, type NodeHandle } from '../src/cluster.js';
import { Daemon } from '../src/daemon.js';
import { expand, panelQueries, readDashboard } from '../src/dashboard.js';
import { BINARIES, REPO_ROOT } from '../src/paths.js';
import { Prometheus, type Sample } from '../src/prometheus.js';

const SCRAPE_S = 1;
const KC_METRICS_PORT = 9094;
const CALICO_LIST = join(REPO_ROOT, 'packages/felix/test/fixtures/calico-felix-dashboard-metrics.json');

const skip = !isRoot()
  ? 'SKIPPED (not a pass): the e2e suite needs root'
  : !hasCommand('prometheus')
    ? 'SKIPPED (not a pass): no prometheus binary (run scripts/setup.sh)'
    : false;

describe('the Grafana dashboard on a real Prometheus scraping a 2-node cluster', { skip }, () => {
  let cluster: Cluster;
  let mon: Netns;
  let prom: Prometheus;
  let api: FakeApiServer;
  let apiBridge: LoopbackBridge;
  let controllers: Daemon;
  let fullDisk: string | undefined;
  const dashboard = readDashboard();
  const logs = () =>
    [...cluster.nodes.values()].map((n) => `--- ${n.name} felix\n${n.felix.log().slice(-3000)}`).join('\n');

  /** Polls `fn` like testkit's waitFor; on timeout the error says what was seen last. */
  const poll = async (what: string, fn: () => Promise<boolean>, seen: () => string, ms = 30_000) => {
    try {
      await waitFor(what, async () => (await fn()) || undefined, ms, 500);
    } catch (e) {
      throw new Error(`${(e as Error).message}\nlast seen: ${seen()}\n${logs()}`);
    }
  };
  /** Polls a query until `ok` holds for its samples. */
  const until = async (expr: string, ok: (s: Sample[]) => boolean, what: string, ms = 30_000) => {
    let last: Sample[] = [];
    await poll(
      what,
      async () => {
        last = await prom.query(expr);
        return ok(last);
      },
      () => `${expr} = ${JSON.stringify(last)}`,
      ms,
    );
    return last;
  };

  before(async () => {
    cluster = await Cluster.up({ nodes: 2, mode: 'mesh', fastTimers: true, metricsOnNodeAddress: true });
    for (const n of cluster.nodes.keys()) {
      await cluster.createPod(n);
      await cluster.createPod(n);
    }
    const node1 = cluster.nodes.get('node-1')!;
    // tricolor-kube-controllers on node-1, as the chart's Deployment runs it on some node:
    // the (fake) API server and etcd on the node's loopback, its metrics on the node's address.
    api = await FakeApiServer.start();
    const apiPort = Number(new URL(api.url).port);
    apiBridge = await LoopbackBridge.create(apiPort);
    await apiBridge.expose(node1.ns, apiPort);
    for (const n of cluster.nodes.values())
      api.create({ kind: 'Node', metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } } });
    api.create({ kind: 'Namespace', metadata: { name: 'default' } });
    controllers = new Daemon(
      'kube-controllers',
      node1.ns,
      [process.execPath, BINARIES.kubeControllers],
      {
        KUBECONFIG: api.writeKubeconfig(),
        ...cluster.etcdEnv(),
        TRICOLOR_KUBECONTROLLERS_METRICSHOST: node1.ip,
        TRICOLOR_KUBECONTROLLERS_METRICSPORT: String(KC_METRICS_PORT),
      },
      join(cluster.dir, 'kube-controllers.log'),
    );
    controllers.start();
    // Prometheus on the segment, as in-cluster Prometheus reaches the nodes.
    mon = await Netns.create('mon');
    await cluster.segment.attach(mon, '192.168.200.250/24');
    const nodes = [...cluster.nodes.values()];
    const target = (n: NodeHandle, port: number) => ({
      address: `${n.ip}:${port}`,
      labels: { node: n.name },
    });
    prom = await Prometheus.start(
      mon,
      [
        { job: 'felix', targets: nodes.map((n) => target(n, 9091)) },
        { job: 'bird', targets: nodes.map((n) => target(n, 9092)) },
        { job: 'kube-controllers', targets: [{ address: `${node1.ip}:${KC_METRICS_PORT}` }] },
      ],
      { intervalS: SCRAPE_S },
    );
    let targets = new Map<string, string>();
    await poll(
      'every target up',
      async () => {
        targets = await prom.targets();
        return targets.size === 5 && [...targets.values()].every((h) => h === 'up');
      },
      () => `${JSON.stringify([...targets])}\n--- kube-controllers\n${controllers.log().slice(-3000)}`,
      60_000,
    );

    // An operator's rule jumps to a pod's chain when the pod is deleted: iptables cannot
    // delete a chain in use, felix's restore fails and is retried until the rule goes.
    const held = await cluster.createPod('node-1', 'held');
    const wep = (await cluster.ds.list('WorkloadEndpoint', 'default')).items.find(
      (w) => w.spec.pod === 'held',
    )!;
    const holdChain = ['INPUT', '-s', '203.0.113.9/32', '-j', `tri-tw-${wep.spec.interfaceName}`];
    await waitFor(
      'the pod chain',
      async () => (await node1.ns.exec('iptables-save', ['-t', 'filter'])).stdout.includes(holdChain[4]!),
      30_000,
      200,
    );
    await node1.ns.exec('iptables', ['-A', ...holdChain]);
    await cluster.deletePod(held.name);
    await until(
      'felix_iptables_restore_errors{node="node-1"} > 0',
      (s) => s.length === 1,
      'a failed restore',
    );
    await node1.ns.exec('iptables', ['-D', ...holdChain]);

    // An operator's rule names felix's IPv6 pool set when the IPv6 pool goes: the set cannot
    // be destroyed (felix_ipset_errors) until the rule goes.
    await cluster.ds.apply({
      kind: 'IPPool',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'v6' },
      spec: {
        cidr: 'fd00:10::/64',
        blockSize: 122,
        natOutgoing: true,
        ipipMode: 'Never',
        vxlanMode: 'Never',
      },
    });
    await waitFor(
      'the IPv6 pool set on node-1',
      async () => (await node1.ns.exec('ipset', ['list', '-n'])).stdout.includes('tri-all-ipam-pools-v6'),
      30_000,
      200,
    );
    const holdSet = ['INPUT', '-m', 'set', '--match-set', 'tri-all-ipam-pools-v6', 'src', '-j', 'ACCEPT'];
    await node1.ns.exec('ip6tables', ['-A', ...holdSet]);
    await cluster.ds.delete('IPPool', 'v6');
    await until('felix_ipset_errors{node="node-1"} > 0', (s) => s.length === 1, 'a failed ipset destroy');
    await node1.ns.exec('ip6tables', ['-D', ...holdSet]);

    // node-2's felix restarts with its log on a full disk (a 16 KiB tmpfs, filled): it runs
    // on, counting the failed writes (felix_log_errors); the restart shows in the restarts panel.
    fullDisk = mkdtempSync(join(tmpdir(), 'tricolor-full-'));
    await run('mount', ['-t', 'tmpfs', '-o', 'size=16k', 'tricolor-full', fullDisk]);
    writeFileSync(join(fullDisk, 'filler'), Buffer.alloc(12 * 1024));
    await run('sh', ['-c', `cat /dev/zero > ${join(fullDisk, 'filler2')} 2>/dev/null || true`]);
    const node2 = cluster.nodes.get('node-2')!;
    await node2.felix.stop();
    node2.felix = new Daemon(
      'felix',
      node2.ns,
      node2.felix.argv,
      node2.felix.env,
      join(fullDisk, 'felix.log'),
    );
    node2.felix.start();
    await cluster.waitFor(
      async () => (await cluster.httpInNode(node2, 'http://127.0.0.1:9099/readiness')).ok,
      30_000,
      'felix on node-2 ready with its log on a full disk',
    );
    await until('felix_log_errors{node="node-2"} > 0', (s) => s.length === 1, 'failed log writes');

    // A route bird installed is deleted by hand: its drift read-back writes it again (the
    // kernel-writes panel: a write and a repair).
    const birdRoute = (await node1.ns.exec('ip', ['route', 'show', 'proto', 'bird'])).stdout.split('\n')[0]!;
    assert.match(birdRoute, /^\d+\.\d+\.\d+\.\d+\/\d+ /, 'a route of bird on node-1');
    await node1.ns.exec('ip', ['route', 'del', birdRoute.split(' ')[0]!, 'proto', 'bird']);
    await until(
      'bird_kernel_repairs_total{node="node-1"} > 0',
      (s) => s.length === 1,
      'a kernel route repaired',
    );

    // Churn, so the apply-time quantiles and rates of the last minutes have data.
    for (const n of cluster.nodes.keys()) await cluster.createPod(n, `churn-${n}`);
    for (const n of cluster.nodes.keys()) await cluster.deletePod(`churn-${n}`);
    await until(
      'felix_int_dataplane_apply_time_seconds_count{node="node-2"} > 0',
      (s) => s.length === 1,
      'an incremental apply on the restarted felix',
    );
    // Two more scrapes of everything after the churn.
    await new Promise((r) => setTimeout(r, 3 * SCRAPE_S * 1000));
  });

  after(async () => {
    await prom?.stop();
    await controllers?.stop();
    await apiBridge?.close();
    await api?.close();
    await cluster?.down();
    await mon?.destroy();
    if (fullDisk) {
      await run('umount', [fullDisk], { allowFail: true });
      rmSync(fullDisk, { recursive: true, force: true });
    }
  });

  test('every target is scraped: felix and bird on each node, kube-controllers', async () => {
    const t = await prom.targets();
    assert.deepEqual([...t.keys()].sort(), [
      'bird/192.168.200.11:9092',
      'bird/192.168.200.12:9092',
      'felix/192.168.200.11:9091',
      'felix/192.168.200.12:9091',
      'kube-controllers/192.168.200.11:9094',
    ]);
    assert.deepEqual((await prom.labelValues('node', 'felix_active_local_endpoints')).sort(), [
      'node-1',
      'node-2',
    ]);
  });

  test('every panel of the dashboard returns data', async () => {
    const empty: string[] = [];
    const queries = panelQueries(dashboard);
    assert.ok(queries.length >= 40, `${queries.length} queries`);
    for (const q of queries) {
      const expr = expand(dashboard, q.expr, `${4 * SCRAPE_S}s`);
      const samples = await prom.query(expr);
      // NaN (a quantile of nothing) and ±Inf draw nothing either.
      if (!samples.some((s) => Number.isFinite(s.value)))
        empty.push(`${q.panel} [${q.refId}] ${expr} → ${JSON.stringify(samples)}`);
    }
    assert.deepEqual(empty, [], 'panels that show nothing');
  });

  test('the error, restart, GC and process panels show the events caused, per daemon', async () => {
    const value = async (expr: string) => (await prom.query(expr))[0]?.value ?? 0;
    assert.ok((await value('increase(felix_iptables_restore_errors{node="node-1"}[10m])')) > 0);
    assert.ok((await value('increase(felix_int_dataplane_failures{node="node-1"}[10m])')) > 0);
    assert.ok((await value('increase(felix_ipset_errors{node="node-1"}[10m])')) > 0);
    assert.ok((await value('increase(felix_log_errors{node="node-2"}[10m])')) > 0);
    assert.equal(await value('felix_log_errors{node="node-1"}'), 0);
    const restarted = await prom.query('changes(process_start_time_seconds[1h]) > 0');
    assert.deepEqual(
      restarted.map((s) => `${s.metric.job}/${s.metric.node}`),
      ['felix/node-2'],
    );
    for (const job of ['felix', 'bird', 'kube-controllers']) {
      for (const m of [
        'process_cpu_seconds_total',
        'process_resident_memory_bytes',
        'process_open_fds',
        'nodejs_heap_size_used_bytes',
        'nodejs_eventloop_lag_p99_seconds',
        'nodejs_gc_duration_seconds_count',
      ])
        assert.ok((await prom.query(`${m}{job="${job}"}`)).length > 0, `${m} of ${job}`);
    }
    // The datastore state and the first converge, as Calico reports them.
    assert.deepEqual(
      (await prom.query('felix_resync_state')).map((s) => s.value),
      [3, 3],
    );
    for (const s of await prom.query('felix_int_dataplane_initial_resync_time_seconds'))
      assert.ok(s.value > 0 && s.value < 60, `initial resync ${s.value} s`);
  });

  test("the BGP panels show the mesh: each session up, the other node's block accepted and our own exported", async () => {
    const byNode = async (expr: string) =>
      new Map((await prom.query(expr)).map((s) => [s.metric.node ?? '', s.value]));
    assert.deepEqual([...(await byNode('bird_protocol_up{proto="BGP", ip_version="4"}'))].sort(), [
      ['node-1', 1],
      ['node-2', 1],
    ]);
    for (const expr of [
      'sum by (node) (bgp_routes_accepted{route_family="ipv4-unicast"})',
      'sum by (node) (bird_protocol_prefix_export_count{ip_version="4"})',
      'sum by (node) (bgp_received_keepalive_total)',
      'min by (node) (bird_protocol_uptime{ip_version="4"})',
    ]) {
      const v = await byNode(expr);
      assert.ok(v.size === 2 && [...v.values()].every((x) => x > 0), `${expr}: ${JSON.stringify([...v])}`);
    }
  });

  test("every felix serves every metric of Calico's Felix dashboards that applies", async (t) => {
    const list = JSON.parse(readFileSync(CALICO_LIST, 'utf8')) as {
      metrics: Record<string, string>;
      policy: Record<string, string>;
    };
    const nodesServing = async (name: string, type: string) => {
      const series = type === 'summary' ? `${name}_count` : name;
      return new Set((await prom.query(`${series}{job="felix"}`)).map((s) => s.metric.node));
    };
    const missing: string[] = [];
    for (const [name, type] of Object.entries(list.metrics)) {
      const nodes = await nodesServing(name, type);
      if (nodes.size !== 2) missing.push(`${name}: ${[...nodes].join(', ') || 'no node'}`);
    }
    // The policy gauges come with felix's NetworkPolicy enforcement: once one node serves
    // one, every node must.
    for (const [name, type] of Object.entries(list.policy)) {
      const nodes = await nodesServing(name, type);
      if (nodes.size === 0) t.diagnostic(`${name}: not served yet (felix's policy gauges)`);
      else if (nodes.size !== 2) missing.push(`${name}: ${[...nodes].join(', ')}`);
    }
    assert.deepEqual(missing, []);
  });
});
