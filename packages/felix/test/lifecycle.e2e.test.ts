import assert from 'node:assert/strict';
import { test } from 'node:test';
import { felixStatusKey } from '@tricolor/datastore';
import { connectVeth, Netns, requireCommands, requireRoot } from '@tricolor/testkit';
import {
  addPod,
  Cluster,
  Felix,
  httpGet,
  routesIn,
  saveIn,
  sourceSeenOutside,
  sysctlIn,
  untilDispatched,
} from './harness.js';
import { pool, until, wep } from './helpers.js';

test('felix daemon: workload lifecycle, nat-outgoing, drift repair, foreign rules untouched', async (t) => {
  if (!requireRoot(t) || !requireCommands(t, 'iptables-nft-save', 'ipset', 'etcd')) return;
  const cluster = await Cluster.start();
  const n1 = await Netns.create('n1');
  const ext = await Netns.create('ext');
  const pods: Netns[] = [];
  let felix: Felix | undefined;
  try {
    await connectVeth(n1, '192.168.50.1/24', ext, '192.168.50.100/24');
    await cluster.bridge.expose(n1, 2379);
    const ds = cluster.ds;
    await ds.create(pool('default-pool', '10.244.0.0/16', { natOutgoing: true }));
    await cluster.claimBlock('n1', '10.244.1.0/26');
    // The operator's own state, present before felix starts: one rule per table and a route.
    const foreign: Record<string, string> = {
      filter: '-A FORWARD -s 203.0.113.1/32 -j DROP',
      nat: '-A POSTROUTING -s 203.0.113.2/32 -j RETURN',
      mangle: '-A PREROUTING -s 203.0.113.3/32 -j RETURN',
      raw: '-A PREROUTING -s 203.0.113.4/32 -j RETURN',
    };
    for (const [table, rule] of Object.entries(foreign))
      await n1.exec('iptables-nft', ['-t', table, ...rule.split(' ')]);
    await n1.exec('ip', ['route', 'add', '198.51.100.0/24', 'via', '192.168.50.100']);
    // A node has a default route; proxy ARP answers for 169.254.1.1 through it.
    await n1.exec('ip', ['route', 'add', 'default', 'via', '192.168.50.100']);

    felix = Felix.start(n1, { NODENAME: 'n1', IP: '192.168.50.1/24' });
    await until(
      async () => (await httpGet(n1, 'http://127.0.0.1:9099/readiness')).status === 200,
      30_000,
      'readiness',
    );
    const node = await ds.get('Node', 'n1');
    assert.equal(node?.spec.bgp?.ipv4Address, '192.168.50.1/24');
    assert.equal(node?.status?.felix?.ready, true);
    // The periodic report has a key of its own: a Node write wakes every daemon of the cluster.
    const report = await ds.kv.get(felixStatusKey(ds.prefix, 'n1'));
    assert.ok(report, 'status report written at the first converge');
    const r = JSON.parse(report.value) as { ready: boolean; lastConvergedAt?: string; uptimeSeconds: number };
    assert.equal(r.ready, true);
    assert.ok(r.lastConvergedAt && r.uptimeSeconds >= 0, report.value);
    assert.ok((await routesIn(n1)).includes('blackhole 10.244.1.0/26 proto 80'), 'blackhole of our block');
    assert.equal(await sysctlIn(n1, 'net/ipv4/ip_forward'), '1');

    // Create: pod veth + WorkloadEndpoint.
    const iface = 'cali0a1b2c3d4e5';
    const pod = await addPod(n1, iface, '10.244.1.5');
    pods.push(pod.ns);
    await ds.create(wep('pod-a', 'n1', iface, '10.244.1.5/32', pod.mac));
    await until(
      async () => (await routesIn(n1)).includes(`10.244.1.5 dev ${iface} proto 80 scope link`),
      10_000,
      'workload route',
    );
    for (const [k, v] of [
      [`net/ipv4/conf/${iface}/proxy_arp`, '1'],
      [`net/ipv4/neigh/${iface}/proxy_delay`, '0'],
      [`net/ipv4/conf/${iface}/forwarding`, '1'],
      [`net/ipv4/conf/${iface}/route_localnet`, '1'],
    ])
      assert.equal(await sysctlIn(n1, k!), v, k);
    const neigh = (await n1.exec('ip', ['neigh', 'show', 'dev', iface])).stdout;
    assert.match(neigh, new RegExp(`10\\.244\\.1\\.5 lladdr ${pod.mac} PERMANENT`));
    let filter = await untilDispatched(() => saveIn(n1, 'filter'), iface);
    assert.match(filter, new RegExp(`^:tri-fw-${iface} `, 'm'));
    assert.match(filter, new RegExp(`^:tri-tw-${iface} `, 'm'));
    assert.match(filter, /^-A FORWARD -m comment --comment "?tri:[\w-]+"? -j tri-FORWARD$/m);
    assert.match(filter, /-A tri-from-wl-dispatch .*-j DROP/);
    assert.match(filter, /-A tri-failsafe-in -p tcp -m tcp --dport 22 .*-j ACCEPT/);
    const ipsets = (await n1.exec('ipset', ['list', 'tri-masq-ipam-pools'])).stdout;
    assert.match(ipsets, /10\.244\.0\.0\/16/);
    assert.match(
      await saveIn(n1, 'nat'),
      /-A tri-nat-outgoing -m set --match-set tri-masq-ipam-pools src -m set ! --match-set tri-all-ipam-pools dst .*-j MASQUERADE/,
    );

    // nat-outgoing: the listener outside the pools sees the node's address, not the pod's.
    const heard = await sourceSeenOutside(pod.ns, ext, '192.168.50.100', '0.0.0.0');
    assert.match(heard, /192\.168\.50\.1\b/, `listener saw: ${heard}`);
    assert.doesNotMatch(heard, /10\.244\.1\.5/);

    // Change: the endpoint's address moves.
    const cur = (await ds.get('WorkloadEndpoint', 'pod-a', 'default'))!;
    cur.spec.ipNetworks = ['10.244.1.7/32'];
    await ds.update(cur);
    await until(
      async () => {
        const r = await routesIn(n1);
        return (
          r.includes(`10.244.1.7 dev ${iface} proto 80 scope link`) &&
          !r.some((l) => l.startsWith('10.244.1.5 '))
        );
      },
      10_000,
      'route follows the changed address',
    );

    // Drift: a route, a rule and a sysctl changed by hand come back within the refresh interval.
    await n1.exec('ip', ['route', 'del', '10.244.1.7/32']);
    await n1.exec('iptables-nft', ['-D', 'tri-FORWARD', '1']);
    await n1.exec('sh', ['-c', `echo 0 > /proc/sys/net/ipv4/conf/${iface}/proxy_arp`]);
    await until(
      async () => (await routesIn(n1)).includes(`10.244.1.7 dev ${iface} proto 80 scope link`),
      10_000,
      'route repaired',
    );
    await until(
      async () => (await sysctlIn(n1, `net/ipv4/conf/${iface}/proxy_arp`)) === '1',
      10_000,
      'sysctl repaired',
    );
    await until(
      async () => /-A tri-FORWARD -m conntrack --ctstate INVALID/.test(await saveIn(n1, 'filter')),
      10_000,
      'rule repaired',
    );
    // A route of ours rewritten in place (no deletion, so no netlink trigger): the refresh
    // timer's background read finds it and the next apply puts it back.
    await n1.exec('ip', ['route', 'replace', '10.244.1.7/32', 'via', '192.168.50.100', 'proto', '80']);
    await until(
      async () => (await routesIn(n1)).includes(`10.244.1.7 dev ${iface} proto 80 scope link`),
      10_000,
      'rewritten route repaired by the refresh',
    );
    // Foreign rules and routes are intact after several refreshes.
    await new Promise((r) => setTimeout(r, 2500));
    for (const [table, rule] of Object.entries(foreign))
      assert.ok((await saveIn(n1, table)).includes(rule), `${table}: ${rule} kept`);
    assert.ok(
      (await routesIn(n1)).includes('198.51.100.0/24 via 192.168.50.100 dev eth0'),
      'operator route kept',
    );

    // Metrics, with Calico's names, types and labels.
    const metric = (body: string, series: string) => {
      const line = body.split('\n').find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    let m = await httpGet(n1, 'http://127.0.0.1:9091/metrics');
    assert.equal(metric(m.body, 'felix_active_local_endpoints'), 1);
    assert.equal(metric(m.body, 'felix_resync_state'), 3, 'in sync with the datastore');
    assert.ok(metric(m.body, 'felix_int_dataplane_initial_resync_time_seconds')! > 0);
    assert.ok(metric(m.body, 'felix_iptables_restore_calls')! >= 1);
    assert.ok(metric(m.body, 'felix_iptables_save_calls')! >= 1);
    assert.ok(metric(m.body, 'felix_iptables_lines_executed{ip_version="4",table="filter"}')! > 0);
    assert.ok(metric(m.body, 'felix_ipset_calls')! >= 1);
    assert.ok(metric(m.body, 'felix_ipset_lines_executed')! >= 4, 'create and add lines of the pool sets');
    assert.equal(metric(m.body, 'felix_ipsets_calico{ip_version="inet"}'), 2);
    // The address change and the drift repairs were incremental applies: Calico's summary.
    assert.ok(metric(m.body, 'felix_int_dataplane_apply_time_seconds_count')! >= 1);
    assert.ok(Number.isFinite(metric(m.body, 'felix_int_dataplane_apply_time_seconds{quantile="0.99"}')));
    assert.ok(metric(m.body, 'felix_int_dataplane_apply_duration_seconds_count')! >= 1);
    assert.ok(
      metric(m.body, 'felix_datastore_convergence_seconds_count')! >= 1,
      'endpoint changes were timed',
    );
    assert.equal(metric(m.body, 'felix_route_table_num_routes{table="IPv4:254",ip_version="4"}'), 2);
    assert.equal(metric(m.body, 'felix_route_table_num_routes{table="IPv6:254",ip_version="6"}'), 0);
    assert.ok(
      metric(m.body, 'felix_route_table_resync_seconds_count')! >= 1,
      'the refresh timer read the routes',
    );
    assert.ok(
      metric(m.body, 'felix_int_dataplane_messages{type="route"}')! >= 3,
      'blackhole, the route, its move',
    );
    assert.ok(metric(m.body, 'felix_calc_graph_updates_processed{type="endpoint"}')! >= 2);
    assert.ok(metric(m.body, 'felix_calc_graph_update_time_seconds_count')! >= 2);
    assert.equal(metric(m.body, 'felix_iptables_restore_errors'), 0);
    assert.equal(metric(m.body, 'felix_log_errors'), 0);
    assert.ok(metric(m.body, 'process_cpu_seconds_total')! > 0, 'process metrics');
    assert.ok(metric(m.body, 'nodejs_heap_size_used_bytes')! > 0);
    // The claimed block counts for its pool; its object was never written: no addresses in use.
    assert.match(m.body, /^ipam_blocks\{ippool="default-pool",node="n1"\} 1$/m);
    assert.match(m.body, /^ipam_allocations_in_use\{ippool="default-pool",node="n1"\} 0$/m);

    // Delete while an operator's rule jumps to the endpoint's chain: iptables cannot delete a
    // chain in use, so felix's restore fails and is retried (counted as Calico counts it)
    // until the operator's rule is gone; then the endpoint's chains go.
    await n1.exec('iptables-nft', ['-A', 'INPUT', '-s', '203.0.113.9/32', '-j', `tri-tw-${iface}`]);
    await ds.delete('WorkloadEndpoint', 'pod-a', 'default');
    await until(async () => !(await routesIn(n1)).some((l) => l.includes(iface)), 10_000, 'route removed');
    m = await until(
      async () => {
        const r = await httpGet(n1, 'http://127.0.0.1:9091/metrics');
        return metric(r.body, 'felix_iptables_restore_errors')! >= 1 ? r : undefined;
      },
      10_000,
      'a failed iptables-restore counted',
    );
    assert.ok(metric(m.body, 'felix_int_dataplane_failures')! >= 1);
    assert.ok((await saveIn(n1, 'filter')).includes(`:tri-tw-${iface}`), 'the chain in use is still there');
    await n1.exec('iptables-nft', ['-D', 'INPUT', '-s', '203.0.113.9/32', '-j', `tri-tw-${iface}`]);
    filter = await until(
      async () => {
        const s = await saveIn(n1, 'filter');
        return s.includes(`tri-fw-${iface}`) ? undefined : s;
      },
      10_000,
      'endpoint chains removed',
    );
    assert.doesNotMatch(filter, new RegExp(iface));
    // Without its endpoint the source fails the anti-spoofing check (raw) or, failing that,
    // the unknown-interface rule of the dispatch chain (filter): both are felix's drops.
    const dropped = async () => {
      let n = 0;
      for (const [table, chain] of [
        ['raw', 'tri-PREROUTING'],
        ['filter', 'tri-from-wl-dispatch'],
      ]) {
        const out = (await n1.exec('iptables-nft', ['-t', table!, '-L', chain!, '-v', '-n', '-x'])).stdout;
        for (const l of out.split('\n')) if (/\bDROP\b/.test(l)) n += Number(l.trim().split(/\s+/)[0]);
      }
      return n;
    };
    const before = await dropped();
    const ping = await pod.ns.exec('ping', ['-c', '1', '-W', '1', '192.168.50.100'], { allowFail: true });
    assert.notEqual(ping.code, 0, 'an interface without endpoint is dropped');
    assert.ok((await dropped()) > before, 'dropped by felix (anti-spoofing or unknown-interface rule)');
    assert.ok(felix.running, 'felix still running');
  } finally {
    await felix?.stop();
    if (felix && process.env.FELIX_TEST_LOGS) console.error(felix.log.join('\n'));
    for (const p of pods) await p.destroy();
    await n1.destroy();
    await ext.destroy();
    await cluster.stop();
  }
});
