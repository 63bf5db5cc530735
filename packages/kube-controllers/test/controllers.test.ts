// The controllers against the fake API server (testkit) and a real etcd: what a user sees in
// the datastore when namespaces, service accounts, pods and nodes change in Kubernetes, and
// that the watchdog carries the controllers through dropped watches and expired histories.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { configFromEnv, Datastore, felixStatusKey, type WorkloadEndpoint } from '@tricolor/datastore';
import { Ipam } from '@tricolor/ipam';
import { EtcdServer, FakeApiServer, waitFor } from '@tricolor/testkit';
import { pino } from 'pino';
import { createMetrics, KubeControllers, LeaseElector } from '../src/index.js';

let etcd: EtcdServer;
let api: FakeApiServer;
let ds: Datastore;
let kc: KubeConfig;
const log = pino({ level: 'silent' });

before(async () => {
  etcd = await EtcdServer.start();
  api = await FakeApiServer.start({ bookmarkIntervalMs: 200 });
  kc = new KubeConfig();
  kc.loadFromString(api.kubeconfig());
});
after(async () => {
  await api?.close();
  await etcd?.destroy();
});

function fresh(): Datastore {
  return Datastore.connect(
    configFromEnv({}, { endpoints: [etcd.endpoint], prefix: `/kc-${randomUUID().slice(0, 8)}/` }),
  );
}

const metricValue = async (
  m: ReturnType<typeof createMetrics>,
  name: string,
  labels: Record<string, string> = {},
) => {
  const metric = (await m.registry.getMetricsAsJSON()).find((x) => x.name === name);
  const v = (metric?.values as { value: number; labels: Record<string, string> }[] | undefined)?.find((x) =>
    Object.entries(labels).every(([k, val]) => x.labels[k] === val),
  );
  return v?.value ?? 0;
};

function endpoint(name: string, namespace: string, pod: string, node: string, ip: string): WorkloadEndpoint {
  return {
    kind: 'WorkloadEndpoint',
    apiVersion: 'tricolor.dev/v1',
    metadata: {
      name,
      namespace,
      labels: { 'tricolor.dev/namespace': namespace, 'tricolor.dev/orchestrator': 'k8s' },
    },
    spec: {
      node,
      orchestrator: 'k8s',
      workload: `${namespace}/${pod}`,
      pod,
      containerID: 'c1',
      endpoint: 'eth0',
      interfaceName: 'cali0123456789a',
      ipNetworks: [ip],
      profiles: [`kns.${namespace}`],
    },
  };
}

describe('kube-controllers against the fake API server and etcd', () => {
  let manager: KubeControllers;
  let metrics: ReturnType<typeof createMetrics>;
  before(async () => {
    ds = fresh();
    api.create({ kind: 'Namespace', metadata: { name: 'shop', labels: { team: 'a' } } });
    api.create({ kind: 'Namespace', metadata: { name: 'ops' } });
    metrics = createMetrics();
    // An orphan from before: a kns profile of a namespace that is gone.
    await ds.create({
      kind: 'Profile',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'kns.gone' },
      spec: { labelsToApply: {}, ingress: [], egress: [] },
    });
    manager = new KubeControllers({
      kc,
      ds,
      metrics,
      log,
      config: {
        enabled: ['namespace', 'serviceaccount', 'workloadendpoint', 'node', 'ipamgc', 'policy'],
        resyncPeriodMs: 3_600_000,
        gcIntervalMs: 3_600_000,
        gcGraceMs: 0,
      },
      informer: { backoffMs: [100, 400] },
    });
    await manager.start();
  });
  after(async () => {
    await manager?.stop();
    ds?.close();
  });

  const settle = async () => {
    await new Promise((r) => setTimeout(r, 50));
    await manager.idle();
  };

  test('namespaces become kns profiles with their labels; relabel and delete follow; orphans go', async () => {
    const p = await waitFor('kns.shop', () => ds.get('Profile', 'kns.shop'), 5000, 50);
    assert.equal(p.spec.labelsToApply.team, 'a');
    assert.deepEqual(
      p.spec.ingress.map((r) => r.action),
      ['Allow'],
    );
    assert.equal(await ds.get('Profile', 'kns.gone'), undefined, 'the orphan was removed at start');
    api.patch('Namespace', undefined, 'shop', { metadata: { labels: { team: 'b', tier: 'prod' } } });
    await waitFor(
      'relabel',
      async () => (await ds.get('Profile', 'kns.shop'))?.spec.labelsToApply.team === 'b',
      5000,
      50,
    );
    // The API server keeps kubernetes.io/metadata.name on every namespace.
    assert.deepEqual((await ds.get('Profile', 'kns.shop'))!.spec.labelsToApply, {
      team: 'b',
      tier: 'prod',
      'kubernetes.io/metadata.name': 'shop',
    });
    api.delete('Namespace', undefined, 'ops');
    await waitFor(
      'kns.ops deleted',
      async () => (await ds.get('Profile', 'kns.ops')) === undefined,
      5000,
      50,
    );
  });

  test('service accounts become ksa profiles', async () => {
    api.create({
      kind: 'ServiceAccount',
      metadata: { name: 'web-sa', namespace: 'shop', labels: { role: 'front' } },
    });
    const p = await waitFor('ksa', () => ds.get('Profile', 'ksa.shop.web-sa'), 5000, 50);
    assert.deepEqual(p.spec.labelsToApply, { role: 'front' });
    api.delete('ServiceAccount', 'shop', 'web-sa');
    await waitFor(
      'ksa deleted',
      async () => (await ds.get('Profile', 'ksa.shop.web-sa')) === undefined,
      5000,
      50,
    );
  });

  test('pod labels reach its endpoint by CAS; an endpoint written later with stale labels is corrected', async () => {
    api.create({
      kind: 'Pod',
      metadata: { name: 'web', namespace: 'shop', labels: { app: 'web' } },
      spec: {
        nodeName: 'node-1',
        serviceAccountName: 'web-sa',
        containers: [{ name: 'c', ports: [{ name: 'http', containerPort: 8080 }] }],
      },
    });
    // The CNI plugin writes the endpoint after the pod exists (with labels it read earlier).
    await ds.create(endpoint('node--1-k8s-web-eth0', 'shop', 'web', 'node-1', '10.244.1.5/32'));
    const w = await waitFor(
      'labels',
      async () => {
        const cur = await ds.get('WorkloadEndpoint', 'node--1-k8s-web-eth0', 'shop');
        return cur?.metadata.labels?.app === 'web' ? cur : undefined;
      },
      5000,
      50,
    );
    assert.equal(w.metadata.labels?.['tricolor.dev/serviceaccount'], 'web-sa');
    assert.deepEqual(w.spec.profiles, ['kns.shop', 'ksa.shop.web-sa']);
    assert.deepEqual(w.spec.ports, [{ name: 'http', protocol: 'TCP', port: 8080 }]);
    assert.deepEqual(w.spec.ipNetworks, ['10.244.1.5/32'], 'addresses untouched');
    api.patch('Pod', 'shop', 'web', { metadata: { labels: { app: 'web', version: 'v2' } } });
    await waitFor(
      'relabel',
      async () =>
        (await ds.get('WorkloadEndpoint', 'node--1-k8s-web-eth0', 'shop'))?.metadata.labels?.version === 'v2',
      5000,
      50,
    );
    // A retried ADD rewrites the endpoint with what it read before the relabel.
    await ds.apply(endpoint('node--1-k8s-web-eth0', 'shop', 'web', 'node-1', '10.244.1.5/32'));
    await waitFor(
      'corrected',
      async () =>
        (await ds.get('WorkloadEndpoint', 'node--1-k8s-web-eth0', 'shop'))?.metadata.labels?.version === 'v2',
      5000,
      50,
    );
  });

  test('the watchdog restarts informers after a dropped connection, and a 410 makes them re-list; changes still arrive', async () => {
    const restarts = await metricValue(metrics, 'tricolor_kube_controllers_informer_restarts_total', {
      resource: 'namespaces',
    });
    const lists = await metricValue(metrics, 'tricolor_kube_controllers_informer_lists_total', {
      resource: 'namespaces',
    });
    assert.ok(api.dropWatches() >= 4);
    api.patch('Namespace', undefined, 'shop', { metadata: { labels: { team: 'c' } } });
    await waitFor(
      'restart',
      async () =>
        (await metricValue(metrics, 'tricolor_kube_controllers_informer_restarts_total', {
          resource: 'namespaces',
        })) > restarts,
      5000,
      50,
    );
    await waitFor(
      'change after the drop',
      async () => (await ds.get('Profile', 'kns.shop'))?.spec.labelsToApply.team === 'c',
      5000,
      50,
    );
    await waitFor('watches open again', () => api.openWatches >= 4, 5000, 50);
    api.compact();
    api.expireWatches();
    await waitFor(
      're-list',
      async () =>
        (await metricValue(metrics, 'tricolor_kube_controllers_informer_lists_total', {
          resource: 'namespaces',
        })) > lists,
      5000,
      50,
    );
    api.patch('Namespace', undefined, 'shop', { metadata: { labels: { team: 'd' } } });
    await waitFor(
      'change after the re-list',
      async () => (await ds.get('Profile', 'kns.shop'))?.spec.labelsToApply.team === 'd',
      5000,
      50,
    );
    // And a failed list (500) is retried by the watchdog too.
    api.failNext({ status: 500, path: /\/namespaces$/, watch: false });
    api.compact();
    api.expireWatches();
    api.patch('Namespace', undefined, 'shop', { metadata: { labels: { team: 'e' } } });
    await waitFor(
      'change after a failed re-list',
      async () => (await ds.get('Profile', 'kns.shop'))?.spec.labelsToApply.team === 'e',
      8000,
      50,
    );
  });

  test('node labels are synced; a deleted node loses its endpoints, addresses, blocks, Node and status report', async () => {
    const ipam = new Ipam(ds);
    await ds.create({
      kind: 'IPPool',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'pool' },
      spec: { cidr: '10.250.0.0/16' },
    });
    for (const n of ['node-7', 'node-8'])
      await ds.create({
        kind: 'Node',
        apiVersion: 'tricolor.dev/v1',
        metadata: { name: n, labels: { 'route-reflector': 'true' } },
        spec: { bgp: { ipv4Address: n === 'node-7' ? '192.0.2.7/24' : '192.0.2.8/24' } },
      });
    api.create({ kind: 'Node', metadata: { name: 'node-7', labels: { zone: 'z1' } } });
    api.create({ kind: 'Node', metadata: { name: 'node-8', labels: { zone: 'z2' } } });
    await waitFor(
      'labels synced',
      async () => (await ds.get('Node', 'node-7'))?.metadata.labels?.zone === 'z1',
      5000,
      50,
    );
    assert.equal(
      (await ds.get('Node', 'node-7'))!.metadata.labels?.['route-reflector'],
      'true',
      'operator label kept',
    );
    const pod7 = await ipam.autoAssign({
      node: 'node-7',
      handle: 'k8s-pod-network.p7',
      attributes: { namespace: 'shop', pod: 'p7' },
    });
    await ipam.assignIp({ ip: '10.250.200.1', node: 'node-7', handle: 'vxlan-tunnel-addr-node-7' });
    const pod8 = await ipam.autoAssign({
      node: 'node-8',
      handle: 'k8s-pod-network.p8',
      attributes: { namespace: 'shop', pod: 'p8' },
    });
    await ds.create(endpoint('node--7-k8s-p7-eth0', 'shop', 'p7', 'node-7', pod7.ipv4[0]!));
    // felix's status reports of both nodes.
    for (const n of ['node-7', 'node-8']) await ds.kv.create(felixStatusKey(ds.prefix, n), '{"ready":true}');
    api.delete('Node', undefined, 'node-7');
    await waitFor(
      'Node and its status report gone',
      async () =>
        (await ds.get('Node', 'node-7')) === undefined &&
        (await ds.kv.get(felixStatusKey(ds.prefix, 'node-7'))) === undefined,
      10_000,
      100,
    );
    assert.ok(await ds.kv.get(felixStatusKey(ds.prefix, 'node-8')), "the other node's report stays");
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.p7'), []);
    assert.deepEqual(await ipam.ipsByHandle('vxlan-tunnel-addr-node-7'), []);
    assert.deepEqual(await ipam.ownedBlocks('node-7'), []);
    assert.equal(await ds.get('WorkloadEndpoint', 'node--7-k8s-p7-eth0', 'shop'), undefined);
    assert.deepEqual(
      await ipam.ipsByHandle('k8s-pod-network.p8'),
      pod8.ipv4,
      'the other node keeps its addresses',
    );
    assert.ok(await ds.get('Node', 'node-8'));
    assert.equal(await metricValue(metrics, 'tricolor_kube_controllers_nodes_cleaned_up_total'), 1);
    // A Node never synced from Kubernetes (e.g. an external route reflector) is left alone.
    await ds.create({
      kind: 'Node',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'external-rr' },
      spec: {},
    });
    await manager.resync();
    await settle();
    assert.ok(await ds.get('Node', 'external-rr'));
  });

  test('Kubernetes NetworkPolicies become knp.default.<name> policies; update, delete and orphans follow', async () => {
    const np = (ingress: unknown[]) => ({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'db', namespace: 'shop' },
      spec: { podSelector: { matchLabels: { role: 'db' } }, ingress },
    });
    api.create(np([{ ports: [{ port: 5432 }] }]));
    const p = await waitFor('knp', () => ds.get('NetworkPolicy', 'knp.default.db', 'shop'), 5000, 50);
    assert.equal(p.spec.order, 1000);
    assert.deepEqual(p.spec.types, ['Ingress']);
    assert.match(p.spec.selector, /role == 'db'/);
    assert.deepEqual(p.spec.ingress[0]?.destination.ports, [5432]);
    api.update(np([{ ports: [{ port: 5433 }] }]));
    await waitFor(
      'knp updated',
      async () =>
        (await ds.get('NetworkPolicy', 'knp.default.db', 'shop'))?.spec.ingress[0]?.destination.ports?.[0] ===
        5433,
      5000,
      50,
    );
    api.delete('NetworkPolicy', 'shop', 'db');
    await waitFor(
      'knp deleted',
      async () => (await ds.get('NetworkPolicy', 'knp.default.db', 'shop')) === undefined,
      5000,
      50,
    );
    // A knp.default.* policy whose Kubernetes object is gone is an orphan; a Tricolor policy of
    // another name is the operator's and stays.
    for (const name of ['knp.default.ghost', 'operator-own'])
      await ds.create({
        kind: 'NetworkPolicy',
        apiVersion: 'tricolor.dev/v1',
        metadata: { name, namespace: 'shop' },
        spec: { selector: 'all()', types: ['Ingress'], ingress: [], egress: [] },
      });
    await manager.resync();
    await settle();
    assert.equal(await ds.get('NetworkPolicy', 'knp.default.ghost', 'shop'), undefined);
    assert.ok(await ds.get('NetworkPolicy', 'operator-own', 'shop'));
  });

  test('IPAM GC releases addresses of pods that are gone (by UID), counts candidates, keeps live ones', async () => {
    const ipam = new Ipam(ds);
    const live = api.create({
      kind: 'Pod',
      metadata: { name: 'alive', namespace: 'shop' },
      spec: { nodeName: 'node-8' },
    });
    const a = await ipam.autoAssign({
      node: 'node-8',
      handle: 'k8s-pod-network.alive',
      attributes: { namespace: 'shop', pod: 'alive', podUID: live.metadata.uid! },
    });
    const b = await ipam.autoAssign({
      node: 'node-8',
      handle: 'k8s-pod-network.stale',
      attributes: { namespace: 'shop', pod: 'alive', podUID: 'uid-of-a-deleted-pod' },
    });
    await waitFor(
      'pod in the informer',
      () => manager.gc && manager.informers.find((i) => i.resource === 'pods')?.get('alive', 'shop'),
      5000,
      50,
    );
    const released = await manager.gc!.runOnce();
    assert.ok(released.includes(b.ipv4[0]!));
    assert.ok(!released.includes(a.ipv4[0]!));
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.alive'), a.ipv4);
    assert.deepEqual(await ipam.ipsByHandle('k8s-pod-network.stale'), []);
    assert.ok((await metricValue(metrics, 'ipam_allocations_gc_reclamations', { node: 'node-8' })) >= 1);
    assert.ok((await metricValue(metrics, 'ipam_allocations_gc_candidates', { node: 'node-8' })) >= 1);
    // While the pod watch is broken, the GC does nothing rather than trust a stale view.
    const pods = manager.informers.find((i) => i.resource === 'pods')!;
    pods.healthy = false;
    await ipam.autoAssign({
      node: 'node-8',
      handle: 'k8s-pod-network.stale2',
      attributes: { namespace: 'shop', pod: 'x', podUID: 'gone' },
    });
    assert.deepEqual(await manager.gc!.runOnce(), []);
    pods.healthy = true;
  });
});

test('Lease election: one leader at a time; a stopped leader hands over', async () => {
  api.create({ kind: 'Namespace', metadata: { name: 'kube-system' } });
  const coord = kc.makeApiClient(CoordinationV1Api);
  const opts = {
    namespace: 'kube-system',
    name: 'tricolor-kube-controllers',
    leaseDurationS: 2,
    retryPeriodMs: 100,
    renewDeadlineMs: 1000,
  };
  const a = new LeaseElector(coord, { ...opts, identity: 'a' }, log);
  const b = new LeaseElector(coord, { ...opts, identity: 'b' }, log);
  let lostA = false;
  await a.run(() => (lostA = true));
  assert.equal(a.leading, true);
  const bRun = b.run(() => undefined);
  await new Promise((r) => setTimeout(r, 2500));
  assert.equal(b.leading, false, 'b waits while a renews');
  assert.equal(api.get('Lease', 'kube-system', 'tricolor-kube-controllers')!.spec!.holderIdentity, 'a');
  await a.stop();
  await bRun;
  assert.equal(b.leading, true);
  assert.equal(api.get('Lease', 'kube-system', 'tricolor-kube-controllers')!.spec!.holderIdentity, 'b');
  assert.equal(lostA, false);
  await b.stop();
});
