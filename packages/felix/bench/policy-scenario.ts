import {
  type NetworkPolicy,
  type Profile,
  validateResource,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import type { Update } from '../src/calc/graph.js';
import { pool, wep } from '../test/helpers.js';

/**
 * The policy bench's cluster at size n (the issue's: n = 10,000): n local endpoints, n/10
 * policies, n/2 remote endpoints. Policy j applies to the local endpoints labelled
 * `app=app-<j>` (10 each) and allows ingress on TCP 80/443 from, and egress to, the remote
 * endpoints labelled `role=role-<j mod S>` — S = n/100 (at least 2) distinct selectors, each a set of
 * 50 remote addresses (100 sets at full size).
 */
export interface PolicyScenario {
  cold: Update[];
  policies: number;
  remote: number;
  /** Distinct rule selectors (one hash:ip set each). */
  selectors: number;
  /** The k-th change of one policy's rules (a new port), as felix receives it. */
  changePolicy(k: number): Update;
  /** The k-th relabel of one remote endpoint (its address moves between two sets). */
  relabelRemote(k: number): Update;
}

const frozen = <T>(x: T): T => {
  if (x && typeof x === 'object' && !Object.isFrozen(x)) {
    Object.freeze(x);
    for (const v of Object.values(x)) frozen(v);
  }
  return x;
};

const remoteIp = (i: number) => `10.${112 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

export function policyScenario(
  n: number,
  iface: (i: number) => string,
  ipOf: (i: number) => string,
): PolicyScenario {
  const policies = Math.max(1, Math.floor(n / 10));
  const remote = Math.max(1, Math.floor(n / 2));
  const selectors = Math.max(2, Math.floor(n / 100));
  const endpoint = (w: WorkloadEndpoint, labels: Record<string, string>): Update => ({
    kind: 'endpoint',
    key: `/tricolor/resources/workloadendpoints/default/${w.metadata.name}`,
    // The labels the CNI plugin writes beside the pod's (a NetworkPolicy selects in its namespace by them).
    value: frozen({
      ...w,
      metadata: {
        ...w.metadata,
        labels: { ...labels, 'tricolor.dev/namespace': 'default', 'tricolor.dev/orchestrator': 'k8s' },
      },
    }),
  });
  const local = (i: number) =>
    endpoint(wep(`pod-${i}`, 'bench', iface(i), `${ipOf(i)}/32`, 'ee:ee:ee:00:00:01'), {
      app: `app-${i % policies}`,
    });
  const remoteEp = (i: number, role: number) =>
    endpoint(
      wep(`remote-${i}`, 'elsewhere', `caliremote${i.toString(16)}`.slice(0, 15), `${remoteIp(i)}/32`),
      {
        role: `role-${role}`,
      },
    );
  const policy = (j: number, extraPort?: number): Update => {
    const role = `role == 'role-${j % selectors}'`;
    const p = validateResource({
      kind: 'NetworkPolicy',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: `p-${j}`, namespace: 'default' },
      spec: {
        order: j,
        selector: `app == 'app-${j}'`,
        types: ['Ingress', 'Egress'],
        ingress: [
          {
            action: 'Allow',
            protocol: 'TCP',
            source: { selector: role },
            destination: { ports: extraPort === undefined ? [80, 443] : [80, 443, extraPort] },
          },
        ],
        egress: [{ action: 'Allow', destination: { selector: role } }],
      },
    }) as NetworkPolicy;
    return {
      kind: 'networkPolicy',
      key: `/tricolor/resources/networkpolicies/default/p-${j}`,
      value: frozen(p),
    };
  };
  const profile = validateResource({
    kind: 'Profile',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: 'kns.default' },
    spec: { labelsToApply: { 'kubernetes.io/metadata.name': 'default' } },
  }) as Profile;
  const cold: Update[] = [
    { kind: 'pool', key: 'p', value: frozen(pool('p', '10.96.0.0/11', { natOutgoing: true })) },
    { kind: 'profile', key: '/tricolor/resources/profiles/kns.default', value: frozen(profile) },
  ];
  for (let j = 0; j < policies; j++) cold.push(policy(j));
  for (let i = 0; i < n; i++) cold.push(local(i));
  for (let i = 0; i < remote; i++) cold.push(remoteEp(i, i % selectors));
  return {
    cold,
    policies,
    remote,
    selectors,
    changePolicy: (k) => policy(k % policies, 8000 + k),
    // Remote k alternates between its own set and the next one.
    relabelRemote: (k) => {
      const i = k % remote;
      const round = Math.floor(k / remote);
      return remoteEp(i, (i + (round % 2 === 0 ? 1 : 0)) % selectors);
    },
  };
}
