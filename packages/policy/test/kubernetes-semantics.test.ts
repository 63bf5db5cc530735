import assert from 'node:assert/strict';
import { test } from 'node:test';
import { convertKubernetesNetworkPolicy, explain, makePacket } from '../src/index.js';
import { smallModel } from './fixtures.js';

// Kubernetes NetworkPolicy semantics (FORMAT.md section 3) through the one converter and the
// evaluator: x/a 10.0.0.1, x/b 10.0.0.2, y/a 10.0.1.1, y/b 10.0.1.2 (pod=<name>); every pod has
// the container ports http (TCP 80) and dns (UDP 53).
const knp = (ns: string, spec: Record<string, unknown>) =>
  convertKubernetesNetworkPolicy({
    apiVersion: 'networking.k8s.io/v1',
    kind: 'NetworkPolicy',
    metadata: { name: 'p', namespace: ns },
    spec,
  });
const verdict = (
  spec: Record<string, unknown>,
  from: string,
  to: string,
  protocol = 'TCP',
  port: number | undefined = 80,
  ns = 'y',
) =>
  explain(
    smallModel([knp(ns, spec)]),
    makePacket({ source: from, destination: to, protocol, port: protocol === 'ICMP' ? undefined : port }),
  ).verdict;

test('named ports resolve on the destination pod with their protocol', () => {
  const http = { podSelector: {}, ingress: [{ ports: [{ port: 'http' }] }] };
  assert.equal(verdict(http, '10.0.0.1', '10.0.1.2', 'TCP', 80), 'Allow');
  assert.equal(verdict(http, '10.0.0.1', '10.0.1.2', 'TCP', 81), 'Deny');
  const dnsAsTcp = { podSelector: {}, ingress: [{ ports: [{ port: 'dns' }] }] };
  assert.equal(verdict(dnsAsTcp, '10.0.0.1', '10.0.1.2', 'TCP', 53), 'Deny');
  assert.equal(verdict(dnsAsTcp, '10.0.0.1', '10.0.1.2', 'UDP', 53), 'Deny');
  const dns = { podSelector: {}, ingress: [{ ports: [{ port: 'dns', protocol: 'UDP' }] }] };
  assert.equal(verdict(dns, '10.0.0.1', '10.0.1.2', 'UDP', 53), 'Allow');
  // Egress: the name is resolved on the destination (the peer pod).
  const egress = { podSelector: {}, egress: [{ ports: [{ port: 'http' }] }], policyTypes: ['Egress'] };
  assert.equal(verdict(egress, '10.0.1.1', '10.0.0.2', 'TCP', 80), 'Allow');
  assert.equal(verdict(egress, '10.0.1.1', '192.0.2.1', 'TCP', 80), 'Deny');
});

test('selectors: NotIn and DoesNotExist match pods without the label; namespaces by name', () => {
  const notIn = {
    podSelector: {},
    ingress: [
      { from: [{ podSelector: { matchExpressions: [{ key: 'pod', operator: 'NotIn', values: ['a'] }] } }] },
    ],
  };
  assert.equal(verdict(notIn, '10.0.1.1', '10.0.1.2'), 'Deny');
  assert.equal(verdict(notIn, '10.0.1.2', '10.0.1.1'), 'Allow');
  assert.equal(
    verdict(notIn, '10.0.0.2', '10.0.1.1'),
    'Deny',
    'a podSelector alone is the own namespace only',
  );
  const byName = {
    podSelector: {},
    ingress: [
      {
        from: [
          {
            namespaceSelector: {
              matchExpressions: [{ key: 'kubernetes.io/metadata.name', operator: 'In', values: ['x'] }],
            },
            podSelector: { matchExpressions: [{ key: 'role', operator: 'DoesNotExist' }] },
          },
        ],
      },
    ],
  };
  assert.equal(verdict(byName, '10.0.0.1', '10.0.1.2'), 'Allow');
  assert.equal(verdict(byName, '10.0.1.1', '10.0.1.2'), 'Deny');
  const anyNamespace = { podSelector: {}, ingress: [{ from: [{ namespaceSelector: {} }] }] };
  assert.equal(verdict(anyNamespace, '10.0.0.1', '10.0.1.2'), 'Allow');
  assert.equal(
    verdict(anyNamespace, '192.0.2.1', '10.0.1.2'),
    'Deny',
    'an address that is no pod is in no namespace',
  );
});

test('ipBlock with except; ports never admit ICMP; a rule without ports admits every protocol', () => {
  const block = {
    podSelector: {},
    ingress: [{ from: [{ ipBlock: { cidr: '10.0.0.0/16', except: ['10.0.0.2/32'] } }] }],
  };
  assert.equal(verdict(block, '10.0.0.1', '10.0.1.2'), 'Allow');
  assert.equal(verdict(block, '10.0.0.2', '10.0.1.2'), 'Deny');
  assert.equal(verdict(block, '10.0.0.1', '10.0.1.2', 'ICMP'), 'Allow');
  const ported = { podSelector: {}, ingress: [{ ports: [{ port: 80 }, { protocol: 'UDP' }] }] };
  assert.equal(verdict(ported, '10.0.0.1', '10.0.1.2', 'ICMP'), 'Deny');
  assert.equal(verdict(ported, '10.0.0.1', '10.0.1.2', 'UDP', 9999), 'Allow');
  const range = { podSelector: {}, ingress: [{ ports: [{ port: 75, endPort: 80 }] }] };
  assert.equal(verdict(range, '10.0.0.1', '10.0.1.2', 'TCP', 75), 'Allow');
  assert.equal(verdict(range, '10.0.0.1', '10.0.1.2', 'TCP', 81), 'Deny');
});

test('isolation per direction: a policy without Egress leaves egress open; policies are additive', () => {
  const ingressOnly = { podSelector: { matchLabels: { pod: 'b' } }, ingress: [] };
  assert.equal(verdict(ingressOnly, '10.0.1.2', '10.0.0.1'), 'Allow', 'y/b egress is not isolated');
  assert.equal(verdict(ingressOnly, '10.0.0.1', '10.0.1.2'), 'Deny');
  assert.equal(verdict(ingressOnly, '10.0.0.1', '10.0.1.1'), 'Allow', 'y/a is not selected');
  const m = smallModel([
    knp('y', { podSelector: {}, ingress: [{ from: [{ podSelector: { matchLabels: { pod: 'a' } } }] }] }),
    convertKubernetesNetworkPolicy({
      apiVersion: 'networking.k8s.io/v1',
      kind: 'NetworkPolicy',
      metadata: { name: 'q', namespace: 'y' },
      spec: { podSelector: {}, ingress: [{ from: [{ namespaceSelector: { matchLabels: { ns: 'x' } } }] }] },
    }),
  ]);
  const v = (from: string) =>
    explain(m, makePacket({ source: from, destination: '10.0.1.2', protocol: 'TCP', port: 80 })).verdict;
  assert.deepEqual([v('10.0.1.1'), v('10.0.0.2'), v('10.0.1.2')], ['Allow', 'Allow', 'Deny']);
});
