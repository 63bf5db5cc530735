import assert from 'node:assert/strict';
import { test } from 'node:test';
import { validateGlobalNetworkPolicy, validateNetworkPolicy } from '@tricolor/datastore';
import fc from 'fast-check';
import { activePolicies, comparePolicies, normalizePolicy, SelectorCache } from '../src/index.js';

const np = (name: string, ns: string, spec: Record<string, unknown>) =>
  normalizePolicy(validateNetworkPolicy({ kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec }));
const gnp = (name: string, spec: Record<string, unknown>) =>
  normalizePolicy(validateGlobalNetworkPolicy({ kind: 'GlobalNetworkPolicy', metadata: { name }, spec }));

test('order: lowest first, no order last, then by name; Kubernetes policies sit at 1000', () => {
  const policies = [
    np('zz-no-order', 'x', {}),
    np('b', 'x', { order: 1000 }),
    gnp('a-global', { order: 1000 }),
    np('knp.default.p', 'x', { order: 1000 }),
    np('first', 'x', { order: -5 }),
    gnp('aa-no-order', {}),
    np('mid', 'x', { order: 999.5 }),
  ];
  const want = ['first', 'mid', 'a-global', 'b', 'knp.default.p', 'aa-no-order', 'zz-no-order'];
  fc.assert(
    fc.property(fc.shuffledSubarray(policies, { minLength: policies.length }), (shuffled) => {
      assert.deepEqual(
        [...shuffled].sort(comparePolicies).map((p) => p.ref.name),
        want,
      );
    }),
  );
});

test('active policies: the namespace scope of a NetworkPolicy, GNP namespaceSelector, types per direction', () => {
  const policies = [
    np('in-x', 'x', { selector: "pod == 'a'", types: ['Ingress'] }),
    np('in-y', 'y', { selector: "pod == 'a'", types: ['Ingress', 'Egress'] }),
    gnp('everywhere', { selector: "pod == 'a'", egress: [{ action: 'Allow' }] }),
    gnp('ns-z-only', { selector: 'all()', namespaceSelector: "ns == 'z'", order: 1 }),
  ];
  const cache = new SelectorCache();
  const names = (labels: Record<string, string>, dir: 'Ingress' | 'Egress') =>
    activePolicies(labels, policies, dir, cache).map((p) => p.ref.name);
  const xa = { pod: 'a', 'tricolor.dev/namespace': 'x', 'pcns.ns': 'x' };
  const za = { pod: 'a', 'tricolor.dev/namespace': 'z', 'pcns.ns': 'z' };
  assert.deepEqual(names(xa, 'Ingress'), ['in-x']);
  assert.deepEqual(names(xa, 'Egress'), ['everywhere']);
  assert.deepEqual(names(za, 'Ingress'), ['ns-z-only']);
  assert.deepEqual(names(za, 'Egress'), ['everywhere']);
  assert.deepEqual(names({ pod: 'b', 'tricolor.dev/namespace': 'y' }, 'Egress'), []);
  assert.equal(policies[0]!.selector, 'pod == "a" && tricolor.dev/namespace == "x"');
  assert.equal(policies[3]!.selector, 'pcns.ns == "z"');
});

test('rule sides: NetworkPolicy selectors scoped to the namespace unless namespaceSelector, GNP selectors global', () => {
  const p = np('p', 'x', {
    ingress: [
      { action: 'Allow', source: { selector: "pod == 'b'" } },
      { action: 'Allow', source: { namespaceSelector: "ns == 'y'" } },
      { action: 'Allow', source: { selector: "pod == 'b'", namespaceSelector: 'all()' } },
      { action: 'Deny', source: { notSelector: "pod == 'c'" } },
      { action: 'Allow', source: { nets: ['10.0.0.0/8'] } },
      { action: 'Allow', source: { serviceAccounts: { names: ['default'] } } },
    ],
  });
  assert.deepEqual(
    p.ingress.map((r) => r.source),
    [
      { selector: 'pod == "b" && tricolor.dev/namespace == "x"' },
      { selector: 'pcns.ns == "y"' },
      { selector: 'has(tricolor.dev/namespace) && pod == "b"' },
      { selector: 'tricolor.dev/namespace == "x"', notSelector: 'pod == "c"' },
      { nets: ['10.0.0.0/8'] },
      { selector: 'pcsa.tricolor.dev/name in {"default"} && tricolor.dev/namespace == "x"' },
    ],
  );
  const g = gnp('g', { ingress: [{ action: 'Allow', source: { selector: "pod == 'b'" } }] });
  assert.deepEqual(g.ingress[0]!.source, { selector: 'pod == "b"' });
});
