import { ValidationError } from '../errors.js';
import { type BGPConfiguration, validateBGPConfiguration } from './bgpconfiguration.js';
import { type BGPPeer, validateBGPPeer } from './bgppeer.js';
import { type FelixConfiguration, validateFelixConfiguration } from './felixconfiguration.js';
import { type IPPool, validateIPPool } from './ippool.js';
import {
  type GlobalNetworkPolicy,
  type NetworkPolicy,
  validateGlobalNetworkPolicy,
  validateNetworkPolicy,
} from './networkpolicy.js';
import { type Node, validateNode } from './node.js';
import { type Profile, validateProfile } from './profile.js';
import { validateWorkloadEndpoint, type WorkloadEndpoint } from './workloadendpoint.js';

/** Every resource kind, by kind name. */
export interface ResourceKinds {
  IPPool: IPPool;
  Node: Node;
  BGPConfiguration: BGPConfiguration;
  BGPPeer: BGPPeer;
  WorkloadEndpoint: WorkloadEndpoint;
  NetworkPolicy: NetworkPolicy;
  GlobalNetworkPolicy: GlobalNetworkPolicy;
  Profile: Profile;
  FelixConfiguration: FelixConfiguration;
}
export type Kind = keyof ResourceKinds;
export type AnyResource = ResourceKinds[Kind];

export interface KindInfo<K extends Kind> {
  kind: K;
  /** The path segment under <prefix>resources/. */
  plural: string;
  namespaced: boolean;
  validate(raw: unknown): ResourceKinds[K];
}

export const KINDS: { [K in Kind]: KindInfo<K> } = {
  IPPool: { kind: 'IPPool', plural: 'ippools', namespaced: false, validate: validateIPPool },
  Node: { kind: 'Node', plural: 'nodes', namespaced: false, validate: validateNode },
  BGPConfiguration: {
    kind: 'BGPConfiguration',
    plural: 'bgpconfigurations',
    namespaced: false,
    validate: validateBGPConfiguration,
  },
  BGPPeer: { kind: 'BGPPeer', plural: 'bgppeers', namespaced: false, validate: validateBGPPeer },
  WorkloadEndpoint: {
    kind: 'WorkloadEndpoint',
    plural: 'workloadendpoints',
    namespaced: true,
    validate: validateWorkloadEndpoint,
  },
  NetworkPolicy: {
    kind: 'NetworkPolicy',
    plural: 'networkpolicies',
    namespaced: true,
    validate: validateNetworkPolicy,
  },
  GlobalNetworkPolicy: {
    kind: 'GlobalNetworkPolicy',
    plural: 'globalnetworkpolicies',
    namespaced: false,
    validate: validateGlobalNetworkPolicy,
  },
  Profile: { kind: 'Profile', plural: 'profiles', namespaced: false, validate: validateProfile },
  FelixConfiguration: {
    kind: 'FelixConfiguration',
    plural: 'felixconfigurations',
    namespaced: false,
    validate: validateFelixConfiguration,
  },
};

export function isKind(k: unknown): k is Kind {
  return typeof k === 'string' && Object.hasOwn(KINDS, k);
}

/** Validates any resource by its `kind` field. */
export function validateResource(raw: unknown): AnyResource {
  const kind = (raw as { kind?: unknown } | null)?.kind;
  if (!isKind(kind)) {
    throw new ValidationError(String(kind ?? 'resource'), [
      { field: 'kind', message: `${JSON.stringify(kind)} is not one of ${Object.keys(KINDS).join(', ')}` },
    ]);
  }
  return KINDS[kind].validate(raw);
}

/** Finds a kind by name, plural or lower-case singular, as a CLI user types it. */
export function kindByName(name: string): Kind | undefined {
  const n = name.toLowerCase();
  for (const info of Object.values(KINDS)) {
    if (info.kind.toLowerCase() === n || info.plural === n) return info.kind;
  }
  return undefined;
}
