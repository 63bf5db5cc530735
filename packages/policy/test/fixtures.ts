import {
  type GlobalNetworkPolicy,
  type NetworkPolicy,
  type Profile,
  validateGlobalNetworkPolicy,
  validateNetworkPolicy,
  validateProfile,
  validateWorkloadEndpoint,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import { PolicyModel } from '../src/index.js';

/** A pod "ns/name" at an address, with the labels and ports the CNI plugin and the sync write. */
export function pod(ref: string, ip: string, labels: Record<string, string> = {}): WorkloadEndpoint {
  const [namespace, name] = ref.split('/') as [string, string];
  return validateWorkloadEndpoint({
    kind: 'WorkloadEndpoint',
    metadata: {
      name: `node-1-k8s-${name}-eth0`,
      namespace,
      labels: { ...labels, 'tricolor.dev/namespace': namespace, 'tricolor.dev/orchestrator': 'k8s' },
    },
    spec: {
      node: 'node-1',
      workload: ref,
      interfaceName: `cali${name}`,
      ipNetworks: [`${ip}/32`],
      profiles: [`kns.${namespace}`, `ksa.${namespace}.default`],
      serviceAccountName: 'default',
      ports: [
        { name: 'http', protocol: 'TCP', port: 80 },
        { name: 'dns', protocol: 'UDP', port: 53 },
      ],
    },
  });
}

export function namespaceProfile(ns: string, labels: Record<string, string> = {}): Profile {
  return validateProfile({
    kind: 'Profile',
    metadata: { name: `kns.${ns}` },
    spec: {
      labelsToApply: { ns, 'kubernetes.io/metadata.name': ns, ...labels },
      ingress: [{ action: 'Allow' }],
      egress: [{ action: 'Allow' }],
    },
  });
}

export const np = (ns: string, name: string, spec: Record<string, unknown>): NetworkPolicy =>
  validateNetworkPolicy({ kind: 'NetworkPolicy', metadata: { name, namespace: ns }, spec });
export const gnp = (name: string, spec: Record<string, unknown>): GlobalNetworkPolicy =>
  validateGlobalNetworkPolicy({ kind: 'GlobalNetworkPolicy', metadata: { name }, spec });

/** x/a 10.0.0.1, x/b 10.0.0.2, y/a 10.0.1.1, y/b 10.0.1.2, each with pod=<name>; namespaces x and y. */
export function smallModel(
  policies: (NetworkPolicy | GlobalNetworkPolicy)[],
  profiles?: Profile[],
): PolicyModel {
  return new PolicyModel({
    endpoints: [
      pod('x/a', '10.0.0.1', { pod: 'a' }),
      pod('x/b', '10.0.0.2', { pod: 'b' }),
      pod('y/a', '10.0.1.1', { pod: 'a' }),
      pod('y/b', '10.0.1.2', { pod: 'b' }),
    ],
    profiles: profiles ?? [namespaceProfile('x'), namespaceProfile('y')],
    policies,
  });
}
