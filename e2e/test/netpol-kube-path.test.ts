// The conformance runner's --via-kubernetes path without a kernel: actions written to testkit's
// fake API server reach the datastore through the real tricolor-kube-controllers binary, as
// the same converter makes them, and the path's "synced" wait holds until they have.
import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { configFromEnv, Datastore, type WorkloadEndpoint } from '@tricolor/datastore';
import { convertKubernetesNetworkPolicy } from '@tricolor/policy';
import { EtcdServer } from '@tricolor/testkit';
import { KubernetesControlPlane } from '../src/kubernetes.js';
import { createLayoutObjects, KubernetesPath } from '../src/netpol/kube-path.js';
import { NAMESPACES, PODS, podLabels } from '../src/netpol/layout.js';

let etcd: EtcdServer;
let k8s: KubernetesControlPlane;
let ds: Datastore;
let path: KubernetesPath;
// A case's address token (FORMAT.md 2.2), substituted by the runner: not a template string.
const ADDRESS_TOKEN = ['$', '{podCIDR:z/c:32}'].join('');
const endpointName = (pod: string) => `ep-${pod.replace('/', '-')}`;
const pods = {
  all: PODS,
  ips: new Map(PODS.map((p, i) => [p, `10.244.0.${i + 2}`])),
  endpointName,
};

before(async () => {
  etcd = await EtcdServer.start();
  const env = etcd.clientEnv();
  ds = Datastore.connect(configFromEnv(env));
  k8s = await KubernetesControlPlane.start({ nodes: new Map(), etcdEnv: () => env });
  createLayoutObjects(k8s.api, () => 'node-1');
  // The endpoints the CNI plugin would have written at each pod's ADD.
  for (const pod of PODS) {
    const [namespace, name] = pod.split('/') as [string, string];
    const wep: WorkloadEndpoint = {
      kind: 'WorkloadEndpoint',
      apiVersion: 'tricolor.dev/v1',
      metadata: {
        name: endpointName(pod),
        namespace,
        labels: { 'tricolor.dev/namespace': namespace, 'tricolor.dev/orchestrator': 'k8s' },
      },
      spec: {
        node: 'node-1',
        orchestrator: 'k8s',
        workload: `${namespace}/${name}`,
        pod: name,
        containerID: `c-${name}`,
        endpoint: 'eth0',
        interfaceName: `cali${namespace}${name}0000000`.slice(0, 15),
        ipNetworks: [`${pods.ips.get(pod)}/32`],
        profiles: [`kns.${namespace}`],
      },
    };
    await ds.create(wep);
  }
  path = new KubernetesPath(k8s.api, ds, () => k8s.controllersLog());
});
after(async () => {
  await k8s?.close();
  ds?.close();
  await etcd?.destroy();
});

test('the layout from the API server: pod labels on the endpoints, namespace labels on the profiles', async () => {
  await path.synced();
  for (const ns of NAMESPACES) {
    const profile = await ds.get('Profile', `kns.${ns}`);
    assert.deepEqual(profile?.spec.labelsToApply, { ns, 'kubernetes.io/metadata.name': ns });
  }
  const wep = await ds.get('WorkloadEndpoint', endpointName('y/b'), 'y');
  assert.equal(wep?.metadata.labels?.pod, 'b');
  assert.deepEqual(
    wep?.spec.ports?.map((p) => p.name),
    ['serve-80-tcp', 'serve-80-udp', 'serve-80-sctp', 'serve-81-tcp', 'serve-81-udp', 'serve-81-sctp'],
  );
});

test('actions through the API server: a NetworkPolicy as the converter makes it, relabels, a delete, a restore', async () => {
  const policy = {
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'allow-from-b', namespace: 'x' },
    spec: {
      podSelector: { matchLabels: { pod: 'a' } },
      ingress: [
        {
          from: [{ podSelector: { matchLabels: { pod: 'b' } } }, { ipBlock: { cidr: ADDRESS_TOKEN } }],
        },
      ],
    },
  };
  await path.apply({ op: 'createPolicy', policy }, pods, 'step 1');
  assert.notDeepEqual(await path.unsynced(), [], 'not in the datastore the moment it is written');
  await path.synced();
  const stored = await ds.get('NetworkPolicy', 'knp.default.allow-from-b', 'x');
  const api = k8s.api.get('NetworkPolicy', 'x', 'allow-from-b')!;
  assert.deepEqual(stored?.spec, convertKubernetesNetworkPolicy(api).spec);
  assert.match(JSON.stringify(stored?.spec), /10\.244\.0\.10\/32/, 'the address token substituted');

  await path.apply({ op: 'setPodLabels', pod: 'x/a', labels: { pod: 'a', role: 'db' } }, pods, 'step 2');
  await path.apply({ op: 'setNamespaceLabels', namespace: 'z', labels: { env: 'prod' } }, pods, 'step 2');
  await path.synced();
  const wep = await ds.get('WorkloadEndpoint', endpointName('x/a'), 'x');
  assert.equal(wep?.metadata.labels?.role, 'db');
  assert.equal(wep?.metadata.labels?.['tricolor.dev/namespace'], 'x', "the plugin's labels kept");
  assert.deepEqual((await ds.get('Profile', 'kns.z'))?.spec.labelsToApply, {
    env: 'prod',
    'kubernetes.io/metadata.name': 'z',
  });

  await path.apply({ op: 'deletePolicy', namespace: 'x', name: 'allow-from-b' }, pods, 'step 3');
  await assert.rejects(
    path.apply({ op: 'deletePolicy', namespace: 'x', name: 'allow-from-b' }, pods, 'step 3'),
    /does not exist/,
  );
  await path.restore(pods);
  await path.synced();
  assert.equal(await ds.get('NetworkPolicy', 'knp.default.allow-from-b', 'x'), undefined);
  assert.equal(
    (await ds.get('WorkloadEndpoint', endpointName('x/a'), 'x'))?.metadata.labels?.role,
    undefined,
  );
  assert.deepEqual(
    Object.fromEntries(
      Object.entries((await ds.get('WorkloadEndpoint', endpointName('x/a'), 'x'))!.metadata.labels!).filter(
        ([k]) => !k.startsWith('tricolor.dev/'),
      ),
    ),
    podLabels('x/a'),
  );
});

test('synced waits for the controllers, and says what they have not carried over when they do not', async () => {
  await k8s.close();
  await path.apply({ op: 'setPodLabels', pod: 'z/c', labels: { pod: 'c', late: 'yes' } }, pods, 'step 1');
  await assert.rejects(path.synced(1500), /did not carry .* endpoint of z\/c: labels not synced/s);
});
