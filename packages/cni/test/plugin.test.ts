import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { configFromEnv, Datastore } from '@tricolor/datastore';
import { Ipam } from '@tricolor/ipam';
import {
  connectVeth,
  EtcdServer,
  LoopbackBridge,
  Netns,
  requireCommands,
  requireRoot,
} from '@tricolor/testkit';
import { PLUGIN_BUNDLE } from '../src/install.js';

/** What the installed launcher runs. */
const MAIN = PLUGIN_BUNDLE;

interface Run {
  code: number;
  out: Record<string, unknown>;
  stderr: string;
}

/** Runs the plugin exactly as a runtime does: in the node's namespace, CNI_* env, config on stdin. */
function cni(node: Netns, env: Record<string, string>, stdin: string): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn('ip', ['netns', 'exec', node.name, process.execPath, MAIN], {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...env },
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) =>
      resolve({ code: code ?? 1, out: stdout.trim() ? JSON.parse(stdout) : {}, stderr }),
    );
    child.stdin.end(stdin);
  });
}

let etcd: EtcdServer;
let bridge: LoopbackBridge;
let node: Netns;
let fabric: Netns;
let ds: Datastore;
let prefix: string;
const skip = { reason: '' };

before(async () => {
  if (process.getuid?.() !== 0) {
    skip.reason = 'needs root';
    return;
  }
  etcd = await EtcdServer.start();
  bridge = await LoopbackBridge.create(etcd.clientPort);
  node = await Netns.create('cninode');
  // A node always has a default route; proxy ARP for 169.254.1.1 depends on it.
  fabric = await Netns.create('fabric');
  await connectVeth(node, '192.0.2.10/24', fabric, '192.0.2.1/24');
  await node.exec('ip', ['route', 'add', 'default', 'via', '192.0.2.1']);
  await bridge.expose(node, 2379);
  prefix = `/cni-${randomUUID().slice(0, 8)}/`;
  ds = Datastore.connect(configFromEnv({}, { endpoints: [etcd.endpoint], prefix }));
  await ds.create({
    kind: 'IPPool',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: 'default' },
    spec: { cidr: '10.244.0.0/16' },
  });
  // felix registers its node at start; the plugin allocates only for registered nodes.
  await addNode(ds, 'node-a');
});

async function addNode(store: Datastore, name: string): Promise<void> {
  await store.apply({ kind: 'Node', apiVersion: 'tricolor.dev/v1', metadata: { name }, spec: {} });
}

after(async () => {
  ds?.close();
  await node?.destroy();
  await fabric?.destroy();
  await bridge?.close();
  await etcd?.destroy();
});

const netconf = (extra: Record<string, unknown> = {}) =>
  JSON.stringify({
    cniVersion: '1.0.0',
    name: 'k8s-pod-network',
    type: 'tricolor',
    mtu: 1450,
    nodename: 'node-a',
    etcd_endpoints: 'http://127.0.0.1:2379',
    datastore_prefix: prefix,
    args: { cni: { labels: [{ key: 'app', value: 'web' }] } },
    ...extra,
  });

const envFor = (cmd: string, containerId: string, netns: string, pod: string) => ({
  CNI_COMMAND: cmd,
  CNI_CONTAINERID: containerId,
  CNI_NETNS: netns,
  CNI_IFNAME: 'eth0',
  CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=${pod}`,
  CNI_PATH: '/opt/cni/bin',
});

test('ADD, CHECK, retried ADD, DEL and DEL again, as kubelet drives them', async (t) => {
  if (!requireRoot(t) || !requireCommands(t, 'nsenter', 'etcd')) return;
  const pod = await Netns.create('pod');
  const netns = `/var/run/netns/${pod.name}`;
  try {
    const add = await cni(node, envFor('ADD', 'c1', netns, 'web-0'), netconf());
    assert.equal(add.code, 0, JSON.stringify(add.out) + add.stderr);
    const ips = add.out.ips as { address: string; gateway: string }[];
    assert.equal(ips.length, 1);
    const ip = ips[0]!.address;
    assert.match(ip, /^10\.244\.\d+\.\d+\/32$/);
    assert.equal(ips[0]!.gateway, '169.254.1.1');
    const hostIf = (add.out.interfaces as { name: string }[])[0]!.name;
    assert.match(hostIf, /^cali[0-9a-f]{11}$/);

    // Inside the pod: eth0 with the /32 and the two routes of the data path.
    const addrs = await pod.ipJson<{ addr_info: { local: string; prefixlen: number }[]; mtu: number }[]>([
      'addr',
      'show',
      'dev',
      'eth0',
    ]);
    assert.ok(addrs[0]!.addr_info.some((a) => `${a.local}/${a.prefixlen}` === ip));
    assert.equal(addrs[0]!.mtu, 1450);
    const routes = await pod.ipJson<{ dst: string; gateway?: string; dev: string }[]>(['route', 'show']);
    assert.deepEqual(routes.map((r) => `${r.dst} ${r.gateway ?? ''}`).sort(), [
      '169.254.1.1 ',
      'default 169.254.1.1',
    ]);
    // On the node: the host end with proxy ARP and the /32 route.
    const hostRoutes = await node.ipJson<{ dst: string; dev: string; protocol: string }[]>([
      'route',
      'show',
      ip,
    ]);
    assert.equal(hostRoutes[0]?.dev, hostIf);
    const proxyArp = await node.exec('cat', [`/proc/sys/net/ipv4/conf/${hostIf}/proxy_arp`]);
    assert.equal(proxyArp.stdout.trim(), '1');
    const ping = await node.exec('ping', ['-c', '1', '-W', '2', ip.split('/')[0]!], { allowFail: true });
    assert.equal(ping.code, 0, `node cannot reach its pod: ${ping.stdout}`);

    // The endpoint record felix will act on.
    const weps = (await ds.list('WorkloadEndpoint', 'shop')).items;
    assert.equal(weps.length, 1);
    assert.equal(weps[0]!.spec.interfaceName, hostIf);
    assert.deepEqual(weps[0]!.spec.ipNetworks, [ip]);
    assert.equal(weps[0]!.metadata.labels?.app, 'web');

    const check = await cni(node, envFor('CHECK', 'c1', netns, 'web-0'), netconf({ prevResult: add.out }));
    assert.equal(check.code, 0, JSON.stringify(check.out));

    const retry = await cni(node, envFor('ADD', 'c1', netns, 'web-0'), netconf());
    assert.equal(retry.code, 0, JSON.stringify(retry.out));
    assert.equal((retry.out.ips as { address: string }[])[0]!.address, ip, 'a retried ADD keeps its address');

    await pod.exec('ip', ['addr', 'del', ip, 'dev', 'eth0']);
    const badCheck = await cni(node, envFor('CHECK', 'c1', netns, 'web-0'), netconf({ prevResult: add.out }));
    assert.notEqual(badCheck.code, 0);
    assert.match(String(badCheck.out.msg), /lacks address/);

    const del = await cni(node, envFor('DEL', 'c1', netns, 'web-0'), netconf());
    assert.equal(del.code, 0, JSON.stringify(del.out));
    assert.deepEqual(await new Ipam(ds).ipsByHandle('k8s-pod-network.c1'), []);
    assert.equal((await ds.list('WorkloadEndpoint', 'shop')).items.length, 0);
    const gone = await node.exec('ip', ['link', 'show', hostIf], { allowFail: true });
    assert.notEqual(gone.code, 0, 'the host end is deleted');
    const again = await cni(node, envFor('DEL', 'c1', netns, 'web-0'), netconf());
    assert.equal(again.code, 0, 'a second DEL is a no-op');
  } finally {
    await pod.destroy();
  }
});

test('a dual-stack ADD gives the pod an IPv6 address and default route, and the host its /128 route', async (t) => {
  if (!requireRoot(t) || !requireCommands(t, 'nsenter', 'etcd')) return;
  await ds.apply({
    kind: 'IPPool',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: 'default-v6' },
    spec: { cidr: 'fd00:10:244::/48' },
  });
  const pod = await Netns.create('pod');
  const netns = `/var/run/netns/${pod.name}`;
  try {
    const conf = netconf({ ipam: { type: 'tricolor-ipam', assign_ipv4: true, assign_ipv6: true } });
    const add = await cni(node, envFor('ADD', 'c6', netns, 'web-6'), conf);
    assert.equal(add.code, 0, JSON.stringify(add.out) + add.stderr);
    const ips = (add.out.ips as { address: string }[]).map((i) => i.address);
    const v6 = ips.find((a) => a.includes(':'));
    assert.ok(v6 && /\/128$/.test(v6), `an IPv6 /128 among ${ips}`);
    const podRoutes = await pod.ipJson<{ dst: string; gateway?: string }[]>([
      '-6',
      'route',
      'show',
      'default',
    ]);
    assert.equal(podRoutes[0]?.gateway, 'fe80::ecee:eeff:feee:eeee');
    const hostIf = (add.out.interfaces as { name: string }[])[0]!.name;
    const hostRoutes = await node.ipJson<{ dev: string; protocol: string }[]>(['-6', 'route', 'show', v6]);
    assert.equal(hostRoutes[0]?.dev, hostIf);
    const del = await cni(node, envFor('DEL', 'c6', netns, 'web-6'), conf);
    assert.equal(del.code, 0, JSON.stringify(del.out));
  } finally {
    await pod.destroy();
    await ds.delete('IPPool', 'default-v6');
  }
});

test('DEL after the netns is gone still releases everything', async (t) => {
  if (!requireRoot(t)) return;
  const pod = await Netns.create('pod');
  const netns = `/var/run/netns/${pod.name}`;
  const add = await cni(node, envFor('ADD', 'c2', netns, 'db-0'), netconf());
  assert.equal(add.code, 0, JSON.stringify(add.out));
  await pod.destroy();
  const del = await cni(node, { ...envFor('DEL', 'c2', '', 'db-0') }, netconf());
  assert.equal(del.code, 0, JSON.stringify(del.out));
  assert.deepEqual(await new Ipam(ds).ipsByHandle('k8s-pod-network.c2'), []);
});

test('a failed ADD releases its address and leaves no endpoint', async (t) => {
  if (!requireRoot(t)) return;
  const notANetns = join(tmpdir(), `not-a-netns-${randomUUID()}`);
  writeFileSync(notANetns, '');
  const add = await cni(node, envFor('ADD', 'c3', notANetns, 'broken-0'), netconf());
  assert.equal(add.code, 1, add.stderr);
  assert.equal(add.out.code, 102, JSON.stringify(add.out) + add.stderr);
  assert.match(String(add.out.msg), /nsenter/);
  assert.deepEqual(
    await new Ipam(ds).ipsByHandle('k8s-pod-network.c3'),
    [],
    'the address went back to the pool',
  );
  assert.equal(
    (await ds.list('WorkloadEndpoint', 'shop')).items.filter((w) => w.spec.pod === 'broken-0').length,
    0,
  );

  const missing = await cni(node, envFor('ADD', 'c4', '/var/run/netns/does-not-exist', 'ghost-0'), netconf());
  assert.equal(missing.out.code, 3, 'an unknown container netns is error 3');
  assert.deepEqual(await new Ipam(ds).ipsByHandle('k8s-pod-network.c4'), []);
});

test('exhausted pools and unreachable etcd give clear CNI errors', async (t) => {
  if (!requireRoot(t)) return;
  const tiny = `/cni-tiny-${randomUUID().slice(0, 8)}/`;
  const tds = Datastore.connect(configFromEnv({}, { endpoints: [etcd.endpoint], prefix: tiny }));
  const pods: Netns[] = [];
  try {
    await tds.create({
      kind: 'IPPool',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'tiny' },
      spec: { cidr: '10.99.0.0/30', blockSize: 30 },
    });
    await addNode(tds, 'node-a');
    const conf = netconf({ datastore_prefix: tiny });
    let last: Run | undefined;
    for (let i = 0; i < 5; i++) {
      const pod = await Netns.create('tiny');
      pods.push(pod);
      last = await cni(node, envFor('ADD', `t${i}`, `/var/run/netns/${pod.name}`, `tiny-${i}`), conf);
      if (i < 4) assert.equal(last.code, 0, JSON.stringify(last.out));
    }
    assert.equal(last!.out.code, 100, JSON.stringify(last!.out));
    assert.match(String(last!.out.msg), /no free address/);
    const status = await cni(node, { CNI_COMMAND: 'STATUS' }, conf);
    assert.equal(status.code, 0);
  } finally {
    for (const p of pods) await p.destroy();
    tds.close();
  }
  const down = await cni(node, { CNI_COMMAND: 'STATUS' }, netconf({ etcd_endpoints: 'http://127.0.0.1:1' }));
  assert.equal(down.out.code, 50);
  const version = await cni(node, { CNI_COMMAND: 'VERSION' }, '');
  assert.ok((version.out.supportedVersions as string[]).includes('1.0.0'));
});

test('node identity: no nodename and no node name file fails (11) and allocates nothing; the file felix writes is used', async (t) => {
  if (!requireRoot(t)) return;
  const pod = await Netns.create('pod');
  const netns = `/var/run/netns/${pod.name}`;
  const dir = mkdtempSync(join(tmpdir(), 'cni-nodename-'));
  const file = join(dir, 'nodename');
  try {
    const blocksBefore = (await ds.kv.list(`${prefix}ipam/v2/assignment/`)).items.length;
    const none = await cni(
      node,
      envFor('ADD', 'n1', netns, 'who-0'),
      netconf({ nodename: undefined, nodename_file: file }),
    );
    assert.equal(none.code, 1);
    assert.equal(none.out.code, 11, JSON.stringify(none.out));
    assert.match(String(none.out.msg), new RegExp(`no "nodename" and ${file} does not exist`));
    assert.deepEqual(await new Ipam(ds).ipsByHandle('k8s-pod-network.n1'), []);
    assert.equal(
      (await ds.kv.list(`${prefix}ipam/v2/assignment/`)).items.length,
      blocksBefore,
      'no block claimed',
    );

    writeFileSync(file, 'node-a\n');
    const add = await cni(
      node,
      envFor('ADD', 'n1', netns, 'who-0'),
      netconf({ nodename: undefined, nodename_file: file }),
    );
    assert.equal(add.code, 0, JSON.stringify(add.out));
    const wep = (await ds.list('WorkloadEndpoint', 'shop')).items.find((w) => w.spec.pod === 'who-0');
    assert.equal(wep?.spec.node, 'node-a');
    assert.equal(wep?.metadata.name, 'node--a-k8s-who--0-eth0');
    const del = await cni(
      node,
      envFor('DEL', 'n1', netns, 'who-0'),
      netconf({ nodename: undefined, nodename_file: file }),
    );
    assert.equal(del.code, 0, JSON.stringify(del.out));
  } finally {
    await pod.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('node identity: a node without a Node resource gets no address and no block (105)', async (t) => {
  if (!requireRoot(t)) return;
  const pod = await Netns.create('pod');
  try {
    const before = (await ds.kv.list(`${prefix}ipam/v2/`)).items.map((i) => i.key);
    const add = await cni(
      node,
      envFor('ADD', 'u1', `/var/run/netns/${pod.name}`, 'lost-0'),
      netconf({ nodename: 'not-a-node' }),
    );
    assert.equal(add.code, 1);
    assert.equal(add.out.code, 105, JSON.stringify(add.out));
    assert.match(String(add.out.msg), /node "not-a-node" has no Node resource: no address is allocated/);
    assert.deepEqual(
      (await ds.kv.list(`${prefix}ipam/v2/`)).items.map((i) => i.key),
      before,
      'IPAM untouched',
    );
    assert.equal(
      (await ds.list('WorkloadEndpoint', 'shop')).items.filter((w) => w.spec.pod === 'lost-0').length,
      0,
    );
    const link = await pod.exec('ip', ['link', 'show', 'eth0'], { allowFail: true });
    assert.notEqual(link.code, 0, 'no interface in the pod');
  } finally {
    await pod.destroy();
  }
});

test('a DEL under another node name than the ADD still removes the endpoint with the address (no ghost)', async (t) => {
  if (!requireRoot(t)) return;
  const pod = await Netns.create('pod');
  const netns = `/var/run/netns/${pod.name}`;
  try {
    await addNode(ds, 'node-b');
    const add = await cni(node, envFor('ADD', 'd1', netns, 'moved-0'), netconf());
    assert.equal(add.code, 0, JSON.stringify(add.out));
    assert.equal(
      (await ds.list('WorkloadEndpoint', 'shop')).items.filter((w) => w.spec.pod === 'moved-0').length,
      1,
    );
    // The kubelet's config changed between ADD and DEL (node-a → node-b).
    const del = await cni(node, envFor('DEL', 'd1', netns, 'moved-0'), netconf({ nodename: 'node-b' }));
    assert.equal(del.code, 0, JSON.stringify(del.out));
    assert.deepEqual(await new Ipam(ds).ipsByHandle('k8s-pod-network.d1'), []);
    assert.deepEqual(
      (await ds.list('WorkloadEndpoint', 'shop')).items.filter((w) => w.spec.pod === 'moved-0'),
      [],
      'the endpoint went with its address',
    );
    const report = await new Ipam(ds, { leakGraceMs: 0 }).check();
    assert.deepEqual(
      report.problems.filter((p) => p.kind === 'ghost-endpoint'),
      [],
    );
    // A DEL with neither nodename nor node name file still works (kubelet must be able to clean up).
    const again = await cni(
      node,
      envFor('DEL', 'd1', netns, 'moved-0'),
      netconf({ nodename: undefined, nodename_file: '/nonexistent/nodename' }),
    );
    assert.equal(again.code, 0, JSON.stringify(again.out));
  } finally {
    await pod.destroy();
  }
});

test("GC releases only this node's stale addresses and removes their endpoints", async (t) => {
  if (!requireRoot(t)) return;
  const pods: Netns[] = [];
  try {
    await addNode(ds, 'node-b');
    const made: { id: string; node: string; ip: string }[] = [];
    for (const [id, nodename] of [
      ['g1', 'node-a'],
      ['g2', 'node-a'],
      ['g3', 'node-b'],
    ] as const) {
      const pod = await Netns.create('gc');
      pods.push(pod);
      const add = await cni(
        node,
        envFor('ADD', id, `/var/run/netns/${pod.name}`, `gc-${id}`),
        netconf({ nodename }),
      );
      assert.equal(add.code, 0, JSON.stringify(add.out));
      made.push({ id, node: nodename, ip: (add.out.ips as { address: string }[])[0]!.address });
    }
    // node-a's runtime still knows g1 only: g2 goes; g3 is node-b's business.
    const gc = await cni(
      node,
      { CNI_COMMAND: 'GC', CNI_PATH: '/opt/cni/bin' },
      JSON.stringify({
        ...JSON.parse(netconf({ cniVersion: '1.1.0' })),
        'cni.dev/valid-attachments': [{ containerID: 'g1', ifname: 'eth0' }],
      }),
    );
    assert.equal(gc.code, 0, JSON.stringify(gc.out) + gc.stderr);
    const ipam = new Ipam(ds);
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.g1'), [made[0]!.ip]);
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.g2'), [], "node-a's stale address is released");
    assert.deepEqual(
      await ipam.ipsByHandle('k8s-pod-network.g3'),
      [made[2]!.ip],
      "node-b's is not node-a's to judge",
    );
    const pods2 = (await ds.list('WorkloadEndpoint', 'shop')).items
      .map((w) => w.spec.pod)
      .filter((p) => p?.startsWith('gc-'));
    assert.deepEqual(pods2.sort(), ['gc-g1', 'gc-g3'], 'the endpoint of the released address is gone');
    for (const [i, m] of made.entries()) {
      if (m.id === 'g2') continue;
      const del = await cni(
        node,
        envFor('DEL', m.id, `/var/run/netns/${pods[i]!.name}`, `gc-${m.id}`),
        netconf({ nodename: m.node }),
      );
      assert.equal(del.code, 0);
    }
  } finally {
    for (const p of pods) await p.destroy();
  }
});
