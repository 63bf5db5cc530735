/**
 * felix's policy calculator (label indexes, active policies, reference-counted sets kept
 * member by member) against the plain recomputation (`policy-oracle.ts`: PolicyModel,
 * every selector evaluated against every endpoint), over random sequences of policy,
 * profile and endpoint changes — labels, namespaces, addresses, named ports, local and
 * remote, IPv4 and IPv6. After every step both must want the same chains, endpoint rules
 * and set members.
 */
import assert from 'node:assert/strict';
import { test } from 'node:test';
import {
  type GlobalNetworkPolicy,
  type NetworkPolicy,
  type Profile,
  validateGlobalNetworkPolicy,
  validateNetworkPolicy,
  validateProfile,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import fc from 'fast-check';
import { GraphHarness, normalized } from './graph-harness.js';
import { pool, settings } from './helpers.js';
import { type CalcInputs, computeDesiredState } from './oracle.js';

const RUNS = Number(process.env.FELIX_PROPERTY_RUNS ?? 25);
const NAMESPACES = ['x', 'y'];
const SELECTORS = [
  'all()',
  "app == 'a'",
  "app == 'b'",
  "app in {'a', 'c'}",
  'has(tier)',
  '!has(tier)',
  "app != 'a'",
  "tier == 'front' && app == 'a'",
  "app == 'a' || tier == 'back'",
];
const NS_SELECTORS = ['all()', "team == 't1'", "kubernetes.io/metadata.name == 'y'", 'has(team)'];

const arbLabels = fc.record(
  { app: fc.constantFrom('a', 'b', 'c'), tier: fc.constantFrom('front', 'back') },
  { requiredKeys: [] },
);

const arbEntity = fc.record(
  {
    selector: fc.constantFrom(...SELECTORS),
    notSelector: fc.constantFrom(...SELECTORS),
    namespaceSelector: fc.constantFrom(...NS_SELECTORS),
    nets: fc.subarray(['10.244.0.0/24', '10.244.1.7/32', '0.0.0.0/0', 'fd00::/64'], { minLength: 1 }),
    notNets: fc.subarray(['10.244.1.0/24', '10.244.0.9/32', 'fd00::1/128'], { minLength: 1 }),
  },
  { requiredKeys: [] },
);

const arbRule = fc
  .record({
    action: fc.constantFrom('Allow', 'Deny', 'Pass', 'Log'),
    proto: fc.constantFrom(undefined, 'TCP', 'UDP', 'ICMP', 'ICMPv6', 99),
    ports: fc.option(fc.subarray([80, '81:83', 'http', 'dns', 9000], { minLength: 1 }), { nil: undefined }),
    notPorts: fc.option(fc.subarray([443, 'http'], { minLength: 1 }), { nil: undefined }),
    icmp: fc.option(fc.constantFrom({ type: 8 }, { type: 8, code: 0 }, { type: 128 }), { nil: undefined }),
    ipVersion: fc.option(fc.constantFrom(4, 6), { nil: undefined }),
    source: arbEntity,
    destination: arbEntity,
  })
  .map((r) => {
    const rule: Record<string, unknown> = {
      action: r.action,
      source: { ...r.source },
      destination: { ...r.destination },
    };
    const ported = r.proto === 'TCP' || r.proto === 'UDP';
    if (r.proto !== undefined) rule.protocol = r.proto;
    if (ported && r.ports) (rule.destination as Record<string, unknown>).ports = r.ports;
    if (ported && r.notPorts) (rule.destination as Record<string, unknown>).notPorts = r.notPorts;
    const icmp =
      r.proto === 'ICMP' ? r.icmp?.type !== 128 : r.proto === 'ICMPv6' ? r.icmp?.type === 128 : false;
    if (icmp && r.icmp) rule.icmp = r.icmp;
    // ipVersion must agree with nets and ICMP; keep it only where it does.
    const v = r.ipVersion;
    const netsOk = (e: Record<string, unknown>) =>
      [...((e.nets as string[]) ?? []), ...((e.notNets as string[]) ?? [])].every((n) =>
        v === 6 ? n.includes(':') : !n.includes(':'),
      );
    if (
      v !== undefined &&
      netsOk(rule.source as Record<string, unknown>) &&
      netsOk(rule.destination as Record<string, unknown>) &&
      !(r.proto === 'ICMP' && v === 6) &&
      !(r.proto === 'ICMPv6' && v === 4)
    )
      rule.ipVersion = v;
    return rule;
  });

const arbPolicy = fc.record({
  global: fc.boolean(),
  namespace: fc.constantFrom(...NAMESPACES),
  name: fc.constantFrom('p1', 'p2', 'p3', 'p4'),
  order: fc.option(fc.constantFrom(10, 100, 1000), { nil: undefined }),
  selector: fc.constantFrom(...SELECTORS),
  namespaceSelector: fc.option(fc.constantFrom(...NS_SELECTORS), { nil: undefined }),
  types: fc.option(fc.subarray(['Ingress', 'Egress'], { minLength: 1 }), { nil: undefined }),
  ingress: fc.array(arbRule, { maxLength: 3 }),
  egress: fc.array(arbRule, { maxLength: 3 }),
});

type PolicyInput = typeof arbPolicy extends fc.Arbitrary<infer T> ? T : never;

type Op =
  | { op: 'policy'; p: PolicyInput }
  | { op: 'deletePolicy'; index: number }
  | {
      op: 'endpoint';
      index: number;
      labels: Record<string, string>;
      namespace: string;
      local: boolean;
      v6: boolean;
      ports: boolean;
      address: number;
    }
  | { op: 'deleteEndpoint'; index: number }
  | { op: 'profile'; namespace: string; team?: string; deny: boolean }
  | { op: 'deleteProfile'; namespace: string };

const arbOp: fc.Arbitrary<Op> = fc.oneof(
  { weight: 4, arbitrary: arbPolicy.map((p) => ({ op: 'policy' as const, p })) },
  { weight: 1, arbitrary: fc.nat(10).map((index) => ({ op: 'deletePolicy' as const, index })) },
  {
    weight: 5,
    arbitrary: fc
      .record({
        index: fc.nat(7),
        labels: arbLabels,
        namespace: fc.constantFrom(...NAMESPACES),
        local: fc.boolean(),
        v6: fc.boolean(),
        ports: fc.boolean(),
        address: fc.nat(3),
      })
      .map((e) => ({ op: 'endpoint' as const, ...e })),
  },
  { weight: 1, arbitrary: fc.nat(7).map((index) => ({ op: 'deleteEndpoint' as const, index })) },
  {
    weight: 2,
    arbitrary: fc
      .record({
        namespace: fc.constantFrom(...NAMESPACES),
        team: fc.option(fc.constantFrom('t1', 't2'), { nil: undefined }),
        deny: fc.boolean(),
      })
      .map((p) => ({ op: 'profile' as const, ...p })),
  },
  {
    weight: 1,
    arbitrary: fc
      .constantFrom(...NAMESPACES)
      .map((namespace) => ({ op: 'deleteProfile' as const, namespace })),
  },
);

function endpoint(o: Extract<Op, { op: 'endpoint' }>): WorkloadEndpoint {
  const name = `pod${o.index}`;
  const nets = [`10.244.${o.address % 2}.${o.index + 1}/32`];
  if (o.v6) nets.push(`fd00::${o.index + 1}/128`);
  return {
    kind: 'WorkloadEndpoint',
    apiVersion: 'tricolor.dev/v1',
    metadata: {
      name,
      namespace: o.namespace,
      labels: { ...o.labels, 'tricolor.dev/namespace': o.namespace, 'tricolor.dev/orchestrator': 'k8s' },
    },
    spec: {
      node: o.local ? 'n1' : 'n2',
      orchestrator: 'k8s',
      workload: `${o.namespace}/${name}`,
      endpoint: 'eth0',
      interfaceName: `cali${String(o.index).padStart(11, '0')}`,
      ipNetworks: nets,
      profiles: [`kns.${o.namespace}`, `ksa.${o.namespace}.default`],
      serviceAccountName: 'default',
      ...(o.ports
        ? {
            ports: [
              { name: 'http', protocol: 'TCP' as const, port: 8080 },
              { name: 'dns', protocol: 'UDP' as const, port: 53 },
            ],
          }
        : {}),
    },
  };
}

function policy(p: PolicyInput): NetworkPolicy | GlobalNetworkPolicy {
  const spec: Record<string, unknown> = { selector: p.selector, ingress: p.ingress, egress: p.egress };
  if (p.order !== undefined) spec.order = p.order;
  if (p.types) spec.types = p.types;
  if (p.global) {
    if (p.namespaceSelector) spec.namespaceSelector = p.namespaceSelector;
    return validateGlobalNetworkPolicy({
      kind: 'GlobalNetworkPolicy',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: p.name },
      spec,
    });
  }
  return validateNetworkPolicy({
    kind: 'NetworkPolicy',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: p.name, namespace: p.namespace },
    spec,
  });
}

function profile(o: Extract<Op, { op: 'profile' }>): Profile {
  return validateProfile({
    kind: 'Profile',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: `kns.${o.namespace}` },
    spec: {
      labelsToApply: { 'kubernetes.io/metadata.name': o.namespace, ...(o.team ? { team: o.team } : {}) },
      ingress: o.deny
        ? [{ action: 'Deny', protocol: 'TCP', destination: { ports: ['http'] } }, { action: 'Allow' }]
        : [{ action: 'Allow' }],
      egress: [{ action: 'Allow' }],
    },
  });
}

test('policy graph == plain recomputation: random policies, profiles, labels, addresses and named ports', () => {
  fc.assert(
    fc.property(fc.boolean(), fc.array(arbOp, { minLength: 1, maxLength: 30 }), (v6, ops) => {
      const endpoints = new Map<number, WorkloadEndpoint>();
      const policies = new Map<string, NetworkPolicy | GlobalNetworkPolicy>();
      const profiles = new Map<string, Profile>();
      const pools = [
        pool('p', '10.244.0.0/16'),
        ...(v6 ? [pool('p6', 'fd00::/64', { blockSize: 122 })] : []),
      ];
      const h = new GraphHarness('n1', settings());
      const inputs = (): CalcInputs => ({
        nodeName: 'n1',
        settings: settings(),
        endpoints: [...endpoints.values()],
        pools,
        affinities: [],
        nodes: [],
        policies: [...policies.values()],
        profiles: [...profiles.values()],
      });
      ops.forEach((o, step) => {
        switch (o.op) {
          case 'policy': {
            const p = policy(o.p);
            policies.set(`${p.kind}/${p.metadata.namespace}/${p.metadata.name}`, p);
            break;
          }
          case 'deletePolicy': {
            const keys = [...policies.keys()];
            if (keys.length) policies.delete(keys[o.index % keys.length]!);
            break;
          }
          case 'endpoint':
            endpoints.set(o.index, endpoint(o));
            break;
          case 'deleteEndpoint':
            endpoints.delete(o.index);
            break;
          case 'profile':
            profiles.set(o.namespace, profile(o));
            break;
          case 'deleteProfile':
            profiles.delete(o.namespace);
            break;
        }
        const inp = inputs();
        h.sync(inp);
        assert.deepEqual(normalized(h.view()), normalized(computeDesiredState(inp)), `step ${step}: ${o.op}`);
      });
    }),
    { numRuns: RUNS },
  );
});
