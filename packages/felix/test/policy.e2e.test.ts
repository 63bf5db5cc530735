import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { test } from 'node:test';
import {
  type NetworkPolicy,
  type Profile,
  validateResource,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import { convertKubernetesNetworkPolicy, kubernetesPolicyName } from '@tricolor/policy';
import { connectVeth, Netns, requireCommands, requireRoot } from '@tricolor/testkit';
import { addPod, Cluster, Felix, httpGet, saveIn } from './harness.js';
import { pool, until } from './helpers.js';

/** A TCP server on ports 80 and 81 inside a namespace, on every address it has. */
function serve(ns: Netns): ChildProcess {
  const script = `const net=require('net');for(const p of [80,81])net.createServer(c=>c.end()).listen(p,'0.0.0.0');net.createServer(c=>{c.on('error',()=>{});c.pipe(c);}).listen(82,'0.0.0.0');setInterval(()=>{},1e6);`;
  return spawn('ip', ['netns', 'exec', ns.name, process.execPath, '-e', script], {
    stdio: 'ignore',
    detached: true,
  });
}

/**
 * A long-lived TCP connection from `from` to the echo port 82 of `dst`: a byte every 100 ms,
 * `echoed()` counts the bytes that came back, `closed` whether it ended.
 */
function openConnection(from: Netns, dst: string): { echoed(): number; closed(): boolean; stop(): void } {
  const script = `const c=require('net').connect({host:${JSON.stringify(dst)},port:82});let n=0;c.on('data',d=>{n+=d.length;process.stdout.write('e'+n+'\\n')});setInterval(()=>c.write('x'),100);c.on('error',()=>process.stdout.write('closed\\n'));c.on('close',()=>{process.stdout.write('closed\\n');process.exit(0)});`;
  const child = spawn('ip', ['netns', 'exec', from.name, process.execPath, '-e', script], {
    stdio: ['ignore', 'pipe', 'ignore'],
    detached: true,
  });
  let n = 0;
  let closed = false;
  child.stdout!.on('data', (d: Buffer) => {
    for (const line of d.toString().split('\n')) {
      if (line === 'closed') closed = true;
      else if (line.startsWith('e')) n = Number(line.slice(1));
    }
  });
  return {
    echoed: () => n,
    closed: () => closed,
    stop: () => {
      try {
        if (child.pid) process.kill(-child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    },
  };
}

/** One TCP connect from `from` (bound to `source` when given) to dst:port within 1.5 s. */
async function reaches(from: Netns, dst: string, port: number, source?: string): Promise<boolean> {
  const opts = JSON.stringify({ host: dst, port, ...(source ? { localAddress: source } : {}) });
  const script = `const c=require('net').connect(${opts});c.on('connect',()=>process.exit(0));c.on('error',()=>process.exit(1));setTimeout(()=>process.exit(2),1500);`;
  return (await from.exec(process.execPath, ['-e', script], { allowFail: true })).code === 0;
}

function endpoint(
  name: string,
  namespace: string,
  node: string,
  iface: string,
  ip: string,
  labels: Record<string, string>,
  mac?: string,
): WorkloadEndpoint {
  return {
    kind: 'WorkloadEndpoint',
    apiVersion: 'tricolor.dev/v1',
    metadata: {
      name,
      namespace,
      labels: { ...labels, 'tricolor.dev/namespace': namespace, 'tricolor.dev/orchestrator': 'k8s' },
    },
    spec: {
      node,
      orchestrator: 'k8s',
      workload: `${namespace}/${name}`,
      endpoint: 'eth0',
      interfaceName: iface,
      ipNetworks: [`${ip}/32`],
      profiles: [`kns.${namespace}`],
      ports: [
        { name: 'web', protocol: 'TCP', port: 81 },
        { name: 'dns', protocol: 'UDP', port: 80 },
      ],
      ...(mac ? { mac } : {}),
    },
  };
}

/** A namespace's profile as the Kubernetes sync writes it: its labels, allow-all as the default. */
function namespaceProfile(namespace: string, labels: Record<string, string>): Profile {
  return validateResource({
    kind: 'Profile',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: `kns.${namespace}` },
    spec: {
      labelsToApply: { ...labels, 'kubernetes.io/metadata.name': namespace },
      ingress: [{ action: 'Allow' }],
      egress: [{ action: 'Allow' }],
    },
  }) as Profile;
}

const k8sPolicy = (name: string, namespace: string, spec: Record<string, unknown>): NetworkPolicy =>
  convertKubernetesNetworkPolicy({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name, namespace },
    spec,
  });

/**
 * felix enforcing policy on the real kernel: node n1 runs felix with two local pods — the
 * server `prod/server` (10.244.1.5) and the client `dev/client` (10.244.1.6) — and a remote
 * endpoint `prod/remote` (10.244.2.5, on node n2) whose traffic arrives from outside the
 * node. Every verdict is a transition observed on real connections (allowed before,
 * denied after, or the reverse), so none passes by accident of timing.
 */
test('felix policy on the kernel: default deny, selectors, namespaceSelector, ipBlock except, named port, remote relabel', async (t) => {
  if (!requireRoot(t) || !requireCommands(t, 'iptables-nft-save', 'ipset', 'etcd')) return;
  const cluster = await Cluster.start();
  const n1 = await Netns.create('n1');
  const ext = await Netns.create('ext');
  const spaces: Netns[] = [];
  const servers: ChildProcess[] = [];
  const opened: { stop(): void }[] = [];
  let felix: Felix | undefined;
  try {
    await connectVeth(n1, '192.168.60.1/24', ext, '192.168.60.100/24');
    await n1.exec('ip', ['route', 'add', 'default', 'via', '192.168.60.100']);
    // The remote pod's address lives behind ext (as behind another node).
    await ext.exec('ip', ['addr', 'add', '10.244.2.5/32', 'dev', 'lo']);
    await ext.exec('ip', ['route', 'add', '10.244.1.0/26', 'via', '192.168.60.1']);
    await n1.exec('ip', ['route', 'add', '10.244.2.5/32', 'via', '192.168.60.100']);
    await cluster.bridge.expose(n1, 2379);
    const ds = cluster.ds;
    await ds.create(pool('default-pool', '10.244.0.0/16'));
    await cluster.claimBlock('n1', '10.244.1.0/26');
    await ds.apply(namespaceProfile('prod', { env: 'prod' }));
    await ds.apply(namespaceProfile('dev', { env: 'dev' }));

    felix = Felix.start(n1, { NODENAME: 'n1', IP: '192.168.60.1/24' });
    await until(
      async () => (await httpGet(n1, 'http://127.0.0.1:9099/readiness')).status === 200,
      30_000,
      'readiness',
    );
    const server = await addPod(n1, 'calisrv0000000a', '10.244.1.5');
    const client = await addPod(n1, 'calicli0000000b', '10.244.1.6');
    spaces.push(server.ns, client.ns);
    servers.push(serve(server.ns), serve(client.ns));
    await ds.create(
      endpoint('server', 'prod', 'n1', 'calisrv0000000a', '10.244.1.5', { app: 'server' }, server.mac),
    );
    await ds.create(
      endpoint('client', 'dev', 'n1', 'calicli0000000b', '10.244.1.6', { app: 'client' }, client.mac),
    );
    await ds.create(endpoint('remote', 'prod', 'n2', 'caliremote00000', '10.244.2.5', { role: 'client' }));

    const fromClient = (port = 80) => reaches(client.ns, '10.244.1.5', port);
    const fromRemote = (port = 80) => reaches(ext, '10.244.1.5', port, '10.244.2.5');
    const becomes = async (want: boolean, probe: () => Promise<boolean>, what: string) => {
      await until(async () => (await probe()) === want, 15_000, what);
    };
    // felix's GET /status: every datastore change up to `revision` is programmed. After it
    // reports the revision of our writes, ONE probe must give the verdict.
    const programmed = async () => {
      const want = BigInt(await ds.kv.revision());
      await until(
        async () => {
          const r = await httpGet(n1, 'http://127.0.0.1:9099/status');
          return r.status === 200 && BigInt((JSON.parse(r.body) as { revision: string }).revision) >= want;
        },
        15_000,
        `felix reports revision ${want} programmed`,
      );
    };
    const verdict = async (want: boolean, probe: () => Promise<boolean>, what: string) => {
      await programmed();
      assert.equal(await probe(), want, what);
    };

    // No policy: the namespace profiles allow everything.
    await becomes(true, () => fromClient(), 'client → server allowed without policy');
    await becomes(true, () => fromRemote(), 'remote → server allowed without policy');
    const filter = await saveIn(n1, 'filter');
    // Conntrack decides before any policy: established flows accepted, invalid ones dropped.
    assert.match(filter, /-A tri-FORWARD -m conntrack --ctstate INVALID .*-j DROP/);
    assert.match(filter, /-A tri-FORWARD -m conntrack --ctstate RELATED,ESTABLISHED .*-j ACCEPT/);
    assert.ok(
      filter.indexOf('--ctstate RELATED,ESTABLISHED') < filter.indexOf('-j tri-to-wl-dispatch'),
      'conntrack before the dispatch to the endpoint chains',
    );

    // A connection open before policy arrives. Established flows are accepted before any
    // policy (conntrack first, as in Calico) and felix does not flush conntrack on a policy
    // change, so it keeps flowing while new connections are denied; it ends with its flow.
    const open1 = openConnection(client.ns, '10.244.1.5');
    opened.push(open1);
    await until(() => open1.echoed() > 0, 15_000, 'the long-lived connection echoes');

    // 1. Default deny ingress for prod: the server is isolated, the client (dev) is not.
    await ds.create(k8sPolicy('default-deny', 'prod', { podSelector: {}, policyTypes: ['Ingress'] }));
    await verdict(false, () => fromClient(), 'default deny: client → server denied');
    await verdict(false, () => fromRemote(), 'default deny: remote → server denied');
    assert.equal(await reaches(server.ns, '10.244.1.6', 80), true, 'server → client: dev is not isolated');
    const before = open1.echoed();
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(open1.echoed() > before, 'the connection opened before the policy keeps flowing');
    assert.equal(open1.closed(), false);
    open1.stop();

    // 2. Allow from a selector (a Tricolor policy of prod): role == 'client' — the remote pod only.
    await ds.apply({
      kind: 'NetworkPolicy',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'allow-clients', namespace: 'prod' },
      spec: {
        selector: "app == 'server'",
        types: ['Ingress'],
        ingress: [{ action: 'Allow', source: { selector: "role == 'client'" } }],
      },
    });
    await verdict(true, () => fromRemote(), 'allow-from-selector: remote (role=client) → server allowed');
    assert.equal(await fromClient(), false, 'the client (dev, no role label) stays denied');
    // The policy gauges (Calico's names): two policies active here, one selector followed,
    // both namespace profiles counted; ipsets: the two pool sets and the selector's.
    const metrics = (await httpGet(n1, 'http://127.0.0.1:9091/metrics')).body;
    const gauge = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(metrics)?.[1]);
    assert.equal(gauge('felix_active_local_policies'), 2);
    assert.equal(gauge('felix_active_local_selectors'), 1);
    assert.equal(gauge('felix_cluster_num_policies'), 2);
    assert.equal(gauge('felix_cluster_num_profiles'), 2);
    const allSets = (await n1.exec('ipset', ['list', '-n'])).stdout.split('\n').filter(Boolean);
    assert.equal(
      gauge('felix_ipsets_total'),
      allSets.length,
      `every ipset on the host: ${allSets.join(' ')}`,
    );
    assert.ok(allSets.length >= 3);
    const sets = (await n1.exec('ipset', ['list', '-t'])).stdout;
    assert.match(sets, /Name: tri-s:\S+\nType: hash:ip/, 'a selector set');

    // 3. The remote endpoint relabelled: its address leaves the selector's set, the verdict flips.
    const remote = (await ds.get('WorkloadEndpoint', 'remote', 'prod'))!;
    await ds.update({
      ...remote,
      metadata: { ...remote.metadata, labels: { ...remote.metadata.labels, role: 'other' } },
    });
    await verdict(false, () => fromRemote(), 'remote relabelled role=other → denied');
    const again = (await ds.get('WorkloadEndpoint', 'remote', 'prod'))!;
    await ds.update({
      ...again,
      metadata: { ...again.metadata, labels: { ...again.metadata.labels, role: 'client' } },
    });
    await verdict(true, () => fromRemote(), 'remote relabelled back to role=client → allowed');
    await ds.delete('NetworkPolicy', 'allow-clients', 'prod');
    await verdict(false, () => fromRemote(), 'allow-clients deleted → remote denied again');

    // 4. namespaceSelector through the namespace's profile: allow from namespaces team=web;
    // dev gets that label on its profile (kns.dev), and the client is allowed.
    await ds.create(
      k8sPolicy('from-team-web', 'prod', {
        podSelector: { matchLabels: { app: 'server' } },
        ingress: [{ from: [{ namespaceSelector: { matchLabels: { team: 'web' } } }] }],
      }),
    );
    await verdict(false, () => fromClient(), 'dev has no team label yet: denied');
    await ds.apply(namespaceProfile('dev', { env: 'dev', team: 'web' }));
    await verdict(true, () => fromClient(), 'kns.dev labelled team=web → client allowed');
    assert.equal(await fromRemote(), false, 'prod has no team label: remote denied');
    // A label change while a connection is open: the namespace loses the label, new
    // connections are denied, the open one (conntrack ESTABLISHED) keeps flowing.
    const open2 = openConnection(client.ns, '10.244.1.5');
    opened.push(open2);
    await until(() => open2.echoed() > 0, 15_000, 'the second long-lived connection echoes');
    await ds.apply(namespaceProfile('dev', { env: 'dev' }));
    await verdict(false, () => fromClient(), 'kns.dev without team=web → new connections denied');
    const before2 = open2.echoed();
    await new Promise((r) => setTimeout(r, 1000));
    assert.ok(open2.echoed() > before2, 'the connection opened before the relabel keeps flowing');
    open2.stop();
    await ds.apply(namespaceProfile('dev', { env: 'dev', team: 'web' }));
    await verdict(true, () => fromClient(), 'kns.dev labelled team=web again → client allowed');
    await ds.delete('NetworkPolicy', kubernetesPolicyName('from-team-web'), 'prod');
    await verdict(false, () => fromClient(), 'from-team-web deleted → client denied');

    // 5. ipBlock with except: the pool, except the client and another /24 (a hash:net set).
    await ds.create(
      k8sPolicy('from-block', 'prod', {
        podSelector: {},
        ingress: [
          { from: [{ ipBlock: { cidr: '10.244.0.0/16', except: ['10.244.1.6/32', '10.244.3.0/24'] } }] },
        ],
      }),
    );
    await verdict(true, () => fromRemote(), 'ipBlock: remote (10.244.2.5) allowed');
    assert.equal(await fromClient(), false, 'ipBlock except: client (10.244.1.6) denied');
    assert.match((await n1.exec('ipset', ['list', '-t'])).stdout, /Name: tri-c:\S+\nType: hash:net/);
    await ds.delete('NetworkPolicy', kubernetesPolicyName('from-block'), 'prod');
    await verdict(false, () => fromRemote(), 'from-block deleted → remote denied');

    // 6. A named port: `web` is TCP 81 on the server; 80 stays closed.
    await ds.create(
      k8sPolicy('to-web', 'prod', {
        podSelector: {},
        ingress: [{ ports: [{ port: 'web' }] }],
      }),
    );
    await verdict(true, () => fromClient(81), 'named port web (81/TCP): client → server:81 allowed');
    assert.equal(await fromClient(80), false, 'port 80 is not `web`: denied');
    assert.match((await n1.exec('ipset', ['list', '-t'])).stdout, /Name: tri-n:\S+\nType: hash:ip,port/);
    const members = (await n1.exec('ipset', ['list'])).stdout;
    assert.match(members, /10\.244\.1\.5,tcp:81/, 'the server address with its web port');

    // 7. Everything removed: the sets go with the policies, traffic flows again.
    await ds.delete('NetworkPolicy', kubernetesPolicyName('to-web'), 'prod');
    await ds.delete('NetworkPolicy', kubernetesPolicyName('default-deny'), 'prod');
    await verdict(true, () => fromClient(80), 'no policy: client → server:80 allowed');
    await verdict(true, () => fromRemote(80), 'no policy: remote → server:80 allowed');
    await until(
      async () => !/Name: tri-(s|n|c):/.test((await n1.exec('ipset', ['list', '-n'])).stdout),
      10_000,
      'policy sets destroyed once no rule names them',
    );
  } finally {
    for (const o of opened) o.stop();
    for (const s of servers) {
      try {
        if (s.pid) process.kill(-s.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
    await felix?.stop();
    for (const ns of spaces) await ns.destroy();
    await ext.destroy();
    await n1.destroy();
    await cluster.stop();
  }
});
