// Table-driven tests of the pure conversions (cases after Calico's Kubernetes conversion tests:
// namespace labels onto kns profiles with allow rules, service-account labels onto ksa
// profiles, node label sync keeping labels set outside Kubernetes, GC by pod UID).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { endpointFromPod } from '@tricolor/cni';
import {
  validateNode,
  validateProfile,
  validateWorkloadEndpoint,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import {
  type Allocation,
  endpointUpdate,
  isKubeNode,
  judgeAllocations,
  KUBE_LABELS_ANNOTATION,
  namespaceProfile,
  nodeLabelsUpdate,
  profileOwner,
  sameProfile,
  serviceAccountProfile,
} from '../src/index.js';

test('namespace → kns profile: labels to apply, Allow both ways, valid as a Profile', () => {
  const cases: [string, Record<string, string> | undefined, Record<string, string>][] = [
    ['default', undefined, {}],
    [
      'prod',
      { team: 'a', 'kubernetes.io/metadata.name': 'prod' },
      { team: 'a', 'kubernetes.io/metadata.name': 'prod' },
    ],
  ];
  for (const [name, labels, want] of cases) {
    const p = validateProfile(namespaceProfile({ metadata: { name, labels } }));
    assert.equal(p.metadata.name, `kns.${name}`);
    assert.deepEqual(p.spec.labelsToApply, want);
    assert.deepEqual(
      p.spec.ingress.map((r) => r.action),
      ['Allow'],
    );
    assert.deepEqual(
      p.spec.egress.map((r) => r.action),
      ['Allow'],
    );
  }
});

test('service account → ksa profile with its labels and no rules', () => {
  const p = validateProfile(
    serviceAccountProfile({ metadata: { namespace: 'shop', name: 'web-sa', labels: { role: 'front' } } }),
  );
  assert.equal(p.metadata.name, 'ksa.shop.web-sa');
  assert.deepEqual(p.spec, { labelsToApply: { role: 'front' }, ingress: [], egress: [] });
});

test('profile names map back to their Kubernetes owner; others are not ours', () => {
  const cases: [string, ReturnType<typeof profileOwner>][] = [
    ['kns.default', { kind: 'Namespace', key: 'default' }],
    ['ksa.shop.web-sa', { kind: 'ServiceAccount', key: 'shop/web-sa' }],
    ['ksa.shop.sa.with.dots', { kind: 'ServiceAccount', key: 'shop/sa.with.dots' }],
    ['ksa.broken', undefined],
    ['my-own-profile', undefined],
  ];
  for (const [name, want] of cases) assert.deepEqual(profileOwner(name), want, name);
});

test('sameProfile ignores key order, sees label changes', () => {
  const a = namespaceProfile({ metadata: { name: 'x', labels: { a: '1', b: '2' } } });
  const b = namespaceProfile({ metadata: { name: 'x', labels: { b: '2', a: '1' } } });
  const c = namespaceProfile({ metadata: { name: 'x', labels: { a: '1' } } });
  assert.equal(sameProfile(a, b), true);
  assert.equal(sameProfile(a, c), false);
});

const wep = (
  labels: Record<string, string>,
  extra: Partial<WorkloadEndpoint['spec']> = {},
): WorkloadEndpoint =>
  validateWorkloadEndpoint({
    kind: 'WorkloadEndpoint',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: 'node--1-k8s-web-eth0', namespace: 'shop', labels, resourceVersion: '7' },
    spec: {
      node: 'node-1',
      workload: 'shop/web',
      pod: 'web',
      interfaceName: 'cali0123456789a',
      ipNetworks: ['10.244.1.5/32'],
      profiles: ['kns.shop'],
      ...extra,
    },
  });

test('endpoint update: only labels, profiles, service account and ports change; nothing when equal', () => {
  const pod = {
    metadata: { name: 'web', namespace: 'shop', labels: { app: 'web', 'tricolor.dev/namespace': 'spoofed' } },
    spec: {
      serviceAccountName: 'web-sa',
      containers: [{ ports: [{ name: 'http', containerPort: 8080 }, { containerPort: 9 }] }],
    },
  };
  const want = endpointFromPod('shop', pod);
  assert.deepEqual(want.labels, {
    app: 'web',
    'tricolor.dev/namespace': 'shop',
    'tricolor.dev/orchestrator': 'k8s',
    'tricolor.dev/serviceaccount': 'web-sa',
  });
  const cur = wep({ app: 'old' });
  const next = endpointUpdate(cur, want)!;
  assert.ok(next);
  validateWorkloadEndpoint(next);
  assert.deepEqual(next.metadata.labels, want.labels);
  assert.deepEqual(next.spec.profiles, ['kns.shop', 'ksa.shop.web-sa']);
  assert.equal(next.spec.serviceAccountName, 'web-sa');
  assert.deepEqual(next.spec.ports, [{ name: 'http', protocol: 'TCP', port: 8080 }]);
  assert.deepEqual(next.spec.ipNetworks, cur.spec.ipNetworks, 'addresses untouched');
  assert.equal(next.spec.interfaceName, cur.spec.interfaceName);
  assert.equal(next.metadata.resourceVersion, '7', 'the CAS guard is the version read');
  assert.equal(endpointUpdate(next, want), undefined, 'nothing to write when it already matches');
});

test('node labels: Kubernetes labels synced, operator labels kept, removed Kubernetes labels removed', () => {
  const node = (labels: Record<string, string> | undefined, synced?: Record<string, string>) =>
    validateNode({
      kind: 'Node',
      apiVersion: 'tricolor.dev/v1',
      metadata: {
        name: 'node-1',
        ...(labels ? { labels } : {}),
        ...(synced ? { annotations: { [KUBE_LABELS_ANNOTATION]: JSON.stringify(synced) } } : {}),
      },
      spec: {},
    });
  const cases: [
    string,
    ReturnType<typeof node>,
    Record<string, string>,
    Record<string, string> | undefined,
  ][] = [
    ['first sync', node(undefined), { zone: 'a' }, { zone: 'a' }],
    [
      'operator label kept',
      node({ 'route-reflector': 'true' }),
      { zone: 'a' },
      { 'route-reflector': 'true', zone: 'a' },
    ],
    [
      'label removed in Kubernetes',
      node({ zone: 'a', rack: '1' }, { zone: 'a', rack: '1' }),
      { zone: 'a' },
      { zone: 'a' },
    ],
    ['value changed', node({ zone: 'a' }, { zone: 'a' }), { zone: 'b' }, { zone: 'b' }],
    [
      'operator overrode a synced label: it is kept when Kubernetes drops it',
      node({ zone: 'x' }, { zone: 'a' }),
      {},
      { zone: 'x' },
    ],
    ['unchanged', node({ zone: 'a' }, { zone: 'a' }), { zone: 'a' }, undefined],
  ];
  for (const [what, n, kube, want] of cases) {
    const next = nodeLabelsUpdate(n, kube);
    if (want === undefined) {
      assert.equal(next, undefined, what);
      continue;
    }
    assert.ok(next, what);
    validateNode(next);
    assert.deepEqual(next.metadata.labels ?? {}, want, what);
    assert.equal(isKubeNode(next), true);
    assert.deepEqual(JSON.parse(next.metadata.annotations![KUBE_LABELS_ANNOTATION]!), kube);
  }
  assert.equal(isKubeNode(node({ a: 'b' })), false);
});

test('IPAM GC judgement: by pod UID, by name for old allocations, after the grace period, never tunnel addresses', () => {
  const t0 = Date.parse('2025-01-01T00:00:00Z');
  const grace = 60_000;
  const old = new Date(t0 - 10 * grace).toISOString();
  const a = (handle: string, extra: Partial<Allocation>): Allocation => ({
    ip: `10.244.0.${handle.length}/32`,
    block: '10.244.0.0/26',
    handle,
    node: 'node-1',
    timestamp: old,
    ...extra,
  });
  const allocations = [
    a('k8s-pod-network.live', { namespace: 'shop', pod: 'web', podUID: 'uid-live' }),
    a('k8s-pod-network.recreated', { namespace: 'shop', pod: 'web', podUID: 'uid-old' }), // same name, other UID
    a('k8s-pod-network.legacy-live', { namespace: 'shop', pod: 'web' }), // no UID: judged by name
    a('k8s-pod-network.legacy-gone', { namespace: 'shop', pod: 'gone' }),
    a('k8s-pod-network.young', {
      namespace: 'shop',
      pod: 'new',
      podUID: 'uid-new',
      timestamp: new Date(t0 - 1000).toISOString(),
    }),
    a('vxlan-tunnel-addr-node-1', {}),
    a('something-else', {}),
  ];
  const pods = { uids: new Set(['uid-live']), names: new Set(['shop/web']) };
  const first = judgeAllocations(allocations, pods, t0, grace);
  assert.deepEqual(
    first.candidates.map((c) => c.handle),
    ['k8s-pod-network.recreated', 'k8s-pod-network.legacy-gone', 'k8s-pod-network.young'],
  );
  assert.deepEqual(first.release, [], 'a candidate first seen now waits out the grace period');
  const later = judgeAllocations(allocations, pods, t0 + grace, grace, first.firstSeen);
  assert.deepEqual(
    later.release.map((c) => c.handle),
    ['k8s-pod-network.recreated', 'k8s-pod-network.legacy-gone', 'k8s-pod-network.young'],
  );
  // A pod that (re)appears stops being a candidate, and its first-seen time is forgotten.
  const back = judgeAllocations(
    allocations,
    { uids: new Set(['uid-live', 'uid-old', 'uid-new']), names: new Set(['shop/web', 'shop/gone']) },
    t0 + grace,
    grace,
    first.firstSeen,
  );
  assert.deepEqual(back.candidates, []);
  assert.equal(back.firstSeen.size, 0);
  // An address assigned recently is never released, however long its candidate has been seen.
  const young = [
    a('k8s-pod-network.y', {
      namespace: 's',
      pod: 'p',
      podUID: 'u',
      timestamp: new Date(t0 + grace - 1).toISOString(),
    }),
  ];
  const seen = judgeAllocations(young, pods, t0, grace).firstSeen;
  assert.deepEqual(judgeAllocations(young, pods, t0 + grace, grace, seen).release, []);
});
