// The plugin and the Kubernetes API (testkit's fake API server over HTTPS, a real etcd): the
// pod's labels, service account, ports and UID at ADD; its IPAM annotations; an unreachable
// API server failing the ADD with nothing allocated; STATUS waiting for the node's agents.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { configFromEnv, Datastore, ipamKeys } from '@tricolor/datastore';
import { allocationsOf, Ipam, tryDecodeBlock } from '@tricolor/ipam';
import {
  connectVeth,
  EtcdServer,
  FakeApiServer,
  freePort,
  LoopbackBridge,
  Netns,
  requireRoot,
} from '@tricolor/testkit';
import { PLUGIN_BUNDLE } from '../src/install.js';
import { AnnotationError, endpointFromPod, ipamChoice } from '../src/k8s/pod.js';

/** What the installed launcher runs. */
const MAIN = PLUGIN_BUNDLE;

let etcd: EtcdServer;
let api: FakeApiServer;
let ds: Datastore;
let kubeconfig: string;
const prefix = `/cnik-${randomUUID().slice(0, 8)}/`;

before(async () => {
  etcd = await EtcdServer.start();
  api = await FakeApiServer.start({ tls: true });
  kubeconfig = api.writeKubeconfig();
  ds = Datastore.connect(configFromEnv({}, { endpoints: [etcd.endpoint], prefix }));
  for (const [name, cidr] of [
    ['default', '10.244.0.0/16'],
    ['special', '10.250.0.0/16'],
  ])
    await ds.create({
      kind: 'IPPool',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: name! },
      spec: { cidr: cidr! },
    });
  await ds.create({ kind: 'Node', apiVersion: 'tricolor.dev/v1', metadata: { name: 'node-a' }, spec: {} });
  api.create({
    kind: 'Namespace',
    metadata: { name: 'shop', annotations: { 'cni.projectcalico.org/ipv4pools': '["special"]' } },
  });
  api.create({
    kind: 'Pod',
    metadata: { name: 'web-0', namespace: 'shop', labels: { app: 'web' } },
    spec: {
      nodeName: 'node-a',
      serviceAccountName: 'web-sa',
      containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }],
    },
  });
});
after(async () => {
  ds?.close();
  await api?.close();
  await etcd?.destroy();
});

function cni(
  env: Record<string, string>,
  conf: object,
  netns?: Netns,
): Promise<{ code: number; out: Record<string, unknown> }> {
  const cmd = netns ? 'ip' : process.execPath;
  const args = netns ? ['netns', 'exec', netns.name, process.execPath, MAIN] : [MAIN];
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { env: { PATH: process.env.PATH ?? '/usr/bin:/bin', ...env } });
    let stdout = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.on('close', (code) => resolve({ code: code ?? 1, out: stdout.trim() ? JSON.parse(stdout) : {} }));
    child.stdin.end(JSON.stringify(conf));
  });
}

const conf = (extra: Record<string, unknown> = {}) => ({
  cniVersion: '1.1.0',
  name: 'k8s-pod-network',
  type: 'tricolor',
  nodename: 'node-a',
  etcd_endpoints: etcd.endpoint,
  datastore_prefix: prefix,
  kubernetes: { kubeconfig },
  ipam: { type: 'tricolor-ipam' },
  ...extra,
});

const addEnv = (cid: string, pod: string, netns = '/var/run/netns/none') => ({
  CNI_COMMAND: 'ADD',
  CNI_CONTAINERID: cid,
  CNI_NETNS: netns,
  CNI_IFNAME: 'eth0',
  CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=shop;K8S_POD_NAME=${pod}`,
});

test('pod → endpoint fields and IPAM annotations (pure)', () => {
  const pod = {
    metadata: {
      name: 'p',
      namespace: 'ns',
      annotations: { 'tricolor.dev/ipv4pools': '["a"]', 'cni.projectcalico.org/ipv4pools': '["b"]' },
    },
    spec: {
      containers: [
        {
          ports: [
            { name: 'dns', containerPort: 53, protocol: 'UDP' },
            { name: 'dns', containerPort: 54 },
            { name: 'Bad_Name', containerPort: 1 },
          ],
        },
      ],
    },
  };
  assert.deepEqual(endpointFromPod('ns', pod), {
    labels: { 'tricolor.dev/namespace': 'ns', 'tricolor.dev/orchestrator': 'k8s' },
    profiles: ['kns.ns'],
    ports: [{ name: 'dns', protocol: 'UDP', port: 53 }],
  });
  const cases: [string, object, object | undefined, object | RegExp][] = [
    ['tricolor.dev wins over Calico', pod, undefined, { ipv4Pools: ['a'] }],
    [
      'namespace pools when the pod has none',
      { metadata: {} },
      { metadata: { annotations: { 'tricolor.dev/ipv6pools': '["v6"]' } } },
      { ipv6Pools: ['v6'] },
    ],
    [
      'pod pools over namespace pools',
      { metadata: { annotations: { 'cni.projectcalico.org/ipv4pools': '["p"]' } } },
      { metadata: { annotations: { 'cni.projectcalico.org/ipv4pools': '["n"]' } } },
      { ipv4Pools: ['p'] },
    ],
    [
      'fixed addresses',
      { metadata: { annotations: { 'cni.projectcalico.org/ipAddrs': '["10.0.0.7"]' } } },
      undefined,
      { ipAddrs: ['10.0.0.7'] },
    ],
    [
      'malformed',
      { metadata: { name: 'x', namespace: 'y', annotations: { 'tricolor.dev/ipAddrs': '10.0.0.7' } } },
      undefined,
      /pod y\/x annotation tricolor.dev\/ipAddrs: "10.0.0.7" is not a JSON list/,
    ],
  ];
  for (const [what, p, ns, want] of cases) {
    if (want instanceof RegExp)
      assert.throws(
        () => ipamChoice(p, ns),
        (e: Error) => e instanceof AnnotationError && want.test(e.message),
        what,
      );
    else assert.deepEqual(ipamChoice(p, ns), want, what);
  }
});

test('an unreachable API server fails the ADD with a clear error and nothing allocated', async () => {
  const dead = join(dirname(kubeconfig), 'dead-kubeconfig');
  const { writeFileSync, readFileSync } = await import('node:fs');
  const port = await freePort();
  writeFileSync(dead, readFileSync(kubeconfig, 'utf8').replace(new URL(api.url).port, String(port)));
  const r = await cni(addEnv('dead1', 'web-0'), conf({ kubernetes: { kubeconfig: dead } }));
  assert.equal(r.code, 1);
  assert.equal(r.out.code, 103, JSON.stringify(r.out));
  assert.match(
    String(r.out.msg),
    /Kubernetes API unreachable: GET https:\/\/127\.0\.0\.1:\d+\/api\/v1\/namespaces\/shop\/pods\/web-0: connect ECONNREFUSED.*nothing was allocated/,
  );
  assert.deepEqual(await new Ipam(ds).ipsByHandle('k8s-pod-network.dead1'), []);
  const missing = await cni(addEnv('dead2', 'no-such-pod'), conf());
  assert.equal(missing.out.code, 103);
  assert.match(String(missing.out.msg), /404 pods "no-such-pod" not found/);
  assert.equal((await ds.kv.list(ipamKeys.handlesPrefix(prefix))).items.length, 0, 'no handle was written');
});

test('STATUS is not ready until every health URL answers 200', async () => {
  let ready = false;
  const srv = createServer((_req, res) => res.writeHead(ready ? 200 : 503).end());
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const port = (srv.address() as { port: number }).port;
  try {
    const c = conf({ health_urls: [`http://127.0.0.1:${port}/readiness`] });
    const notReady = await cni({ CNI_COMMAND: 'STATUS' }, c);
    assert.equal(notReady.out.code, 50);
    assert.match(
      String(notReady.out.msg),
      /node agents not ready: http:\/\/127\.0\.0\.1:\d+\/readiness answered 503/,
    );
    ready = true;
    assert.equal((await cni({ CNI_COMMAND: 'STATUS' }, c)).code, 0);
  } finally {
    srv.close();
  }
});

test('ADD writes the pod labels, service account, profiles, ports and UID; namespace pool annotation chooses the pool', async (t) => {
  if (!requireRoot(t)) return;
  const pod = await Netns.create('kpod');
  const node = await Netns.create('knode');
  const fabric = await Netns.create('kfab');
  // Inside the node, etcd and the API server are reached on its loopback, as on a real node.
  const etcdBridge = await LoopbackBridge.create(etcd.clientPort);
  const apiPort = Number(new URL(api.url).port);
  const apiBridge = await LoopbackBridge.create(apiPort);
  try {
    await connectVeth(node, '192.0.2.10/24', fabric, '192.0.2.1/24');
    await node.exec('ip', ['route', 'add', 'default', 'via', '192.0.2.1']);
    await etcdBridge.expose(node, 2379);
    await apiBridge.expose(node, apiPort);
    const nodeConf = conf({ etcd_endpoints: 'http://127.0.0.1:2379' });
    const r = await cni(addEnv('k1', 'web-0', `/var/run/netns/${pod.name}`), nodeConf, node);
    assert.equal(r.code, 0, JSON.stringify(r.out));
    const ip = (r.out.ips as { address: string }[])[0]!.address;
    assert.match(ip, /^10\.250\./, 'from the pool the namespace annotation names');
    const weps = (await ds.list('WorkloadEndpoint', 'shop')).items;
    assert.equal(weps.length, 1);
    const w = weps[0]!;
    assert.equal(w.metadata.labels?.app, 'web');
    assert.equal(w.metadata.labels?.['tricolor.dev/serviceaccount'], 'web-sa');
    assert.equal(w.spec.serviceAccountName, 'web-sa');
    assert.deepEqual(w.spec.profiles, ['kns.shop', 'ksa.shop.web-sa']);
    assert.deepEqual(w.spec.ports, [{ name: 'http', protocol: 'TCP', port: 8080 }]);
    const uid = api.get('Pod', 'shop', 'web-0')!.metadata.uid;
    const blocks = (await ds.kv.list(ipamKeys.blocksPrefix(prefix, 4))).items.map(
      (v) => tryDecodeBlock(v.value)!,
    );
    const attrs = blocks.flatMap((b) => allocationsOf(b).map((a) => a.attr?.secondary));
    assert.ok(
      attrs.some((s) => s?.podUID === uid),
      'the pod UID is recorded with the address',
    );
    const gets = api.requests.filter(
      (q) => q.method === 'GET' && q.path.startsWith('/api/v1/namespaces/shop'),
    );
    assert.ok(gets.length >= 2);
    const del = await cni(
      { ...addEnv('k1', 'web-0', `/var/run/netns/${pod.name}`), CNI_COMMAND: 'DEL' },
      nodeConf,
      node,
    );
    assert.equal(del.code, 0, JSON.stringify(del.out));
  } finally {
    await pod.destroy();
    await node.destroy();
    await fabric.destroy();
    await etcdBridge.close();
    await apiBridge.close();
  }
});

test('the installer writes a kubeconfig from the service account that the plugin reads; commands are logged', async () => {
  const { mkdtempSync, writeFileSync, readFileSync, rmSync, statSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { installFromArgs } = await import('../src/install.js');
  const { loadKubeconfig } = await import('../src/k8s/api.js');
  const dir = mkdtempSync(join(tmpdir(), 'tricolor-cni-install-'));
  try {
    const sa = join(dir, 'sa');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(sa);
    writeFileSync(join(sa, 'token'), 'tok-123\n');
    writeFileSync(join(sa, 'ca.crt'), readFileSync(api.tls!.caFile));
    const out = installFromArgs(
      [
        '--bin-dir',
        join(dir, 'bin'),
        '--conf-dir',
        join(dir, 'net.d'),
        '--nodename',
        'node-a',
        '--etcd-endpoints',
        'http://127.0.0.1:2379',
        '--write-kubeconfig',
        '--host-conf-dir',
        '/etc/cni/net.d',
        '--health-urls',
        'http://127.0.0.1:9099/readiness',
        '--portmap',
        '--log-file',
        join(dir, 'cni.log'),
      ],
      {
        KUBERNETES_SERVICE_HOST: '10.96.0.1',
        KUBERNETES_SERVICE_PORT: '443',
        TRICOLOR_SERVICEACCOUNT_DIR: sa,
      },
    );
    const list = JSON.parse(readFileSync(out.conf, 'utf8'));
    assert.deepEqual(list.plugins[0].kubernetes, { kubeconfig: '/etc/cni/net.d/tricolor-kubeconfig' });
    assert.deepEqual(list.plugins[0].health_urls, ['http://127.0.0.1:9099/readiness']);
    assert.deepEqual(list.plugins[1], { type: 'portmap', snat: true, capabilities: { portMappings: true } });
    const written = join(dir, 'net.d', 'tricolor-kubeconfig');
    assert.equal(statSync(written).mode & 0o777, 0o600, 'the token is readable by root only');
    const access = loadKubeconfig(written);
    assert.equal(access.server, 'https://10.96.0.1:443');
    assert.equal(access.token, 'tok-123');
    assert.deepEqual(access.ca, readFileSync(api.tls!.caFile));
    // The log file: one JSON line per command.
    const logged = await cni({ CNI_COMMAND: 'STATUS' }, conf({ log_file_path: join(dir, 'cni.log') }));
    assert.equal(logged.code, 0);
    const line = JSON.parse(readFileSync(join(dir, 'cni.log'), 'utf8').trim().split('\n').at(-1)!);
    assert.equal(line.command, 'STATUS');
    assert.equal(line.ok, true);
    assert.equal(typeof line.ms, 'number');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
