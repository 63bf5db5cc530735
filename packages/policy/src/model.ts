import {
  cidrContainsIp,
  formatIp,
  type GlobalNetworkPolicy,
  type IpAddress,
  type Labels,
  type NetworkPolicy,
  type PolicyType,
  type Profile,
  parseCidr,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import { effectiveLabels, NAMESPACE_PROFILE_PREFIX } from './labels.js';
import { type NormalizedPolicy, type NormalizedRule, normalizePolicy, normalizeRule } from './normalize.js';
import { activePolicies } from './order.js';
import { SelectorCache } from './selector-cache.js';

/** An endpoint with what selection needs: effective labels and addresses. */
export interface ModelEndpoint {
  resource: WorkloadEndpoint;
  /** "namespace/pod" (the workload), as tricolorctl names it. */
  workload: string;
  labels: Labels;
  addresses: IpAddress[];
}

export interface PolicyResources {
  endpoints: Iterable<WorkloadEndpoint>;
  profiles: Iterable<Profile>;
  policies: Iterable<NetworkPolicy | GlobalNetworkPolicy>;
}

/** The rules of a profile for one direction, and whether they are the implicit namespace default. */
export interface ProfileRules {
  name: string;
  rules: NormalizedRule[];
  /**
   * The profile does not exist (yet). An absent `kns.*` profile counts as the allow-all one the
   * Kubernetes sync writes for every namespace (as Calico's); any other absent profile has no rules.
   */
  absent: boolean;
}

const ALLOW_ALL: NormalizedRule[] = [{ index: 0, action: 'Allow', source: {}, destination: {} }];

/**
 * The policy state of a cluster, read-only: endpoints (by address and by workload), profiles and
 * normalized policies. The evaluator and `tricolorctl policy explain` run on it; felix's
 * calculators keep the same pieces incrementally (effective labels, normalized policies,
 * activePolicies) with the same functions.
 */
export class PolicyModel {
  readonly selectors = new SelectorCache();
  readonly endpoints: ModelEndpoint[] = [];
  readonly policies: NormalizedPolicy[];
  private readonly profiles: Map<string, Profile>;
  private readonly byAddress = new Map<string, ModelEndpoint>();
  private readonly byWorkload = new Map<string, ModelEndpoint>();

  constructor(resources: PolicyResources) {
    this.profiles = new Map([...resources.profiles].map((p) => [p.metadata.name, p]));
    for (const resource of resources.endpoints) {
      const addresses = resource.spec.ipNetworks.flatMap((n) => {
        const c = parseCidr(n);
        return c ? [{ family: c.family, value: c.address }] : [];
      });
      const e: ModelEndpoint = {
        resource,
        workload: resource.spec.workload || `${resource.metadata.namespace}/${resource.metadata.name}`,
        labels: effectiveLabels(resource, this.profiles),
        addresses,
      };
      this.endpoints.push(e);
      for (const a of addresses) this.byAddress.set(formatIp(a), e);
      this.byWorkload.set(e.workload, e);
    }
    this.policies = [...resources.policies].map(normalizePolicy);
  }

  endpointByAddress(address: IpAddress): ModelEndpoint | undefined {
    return this.byAddress.get(formatIp(address));
  }

  /** By "namespace/pod" (the workload) or "namespace/endpoint-name". */
  endpoint(ref: string): ModelEndpoint | undefined {
    return (
      this.byWorkload.get(ref) ??
      this.endpoints.find((e) => `${e.resource.metadata.namespace}/${e.resource.metadata.name}` === ref)
    );
  }

  activePolicies(endpoint: ModelEndpoint, direction: PolicyType): NormalizedPolicy[] {
    return activePolicies(endpoint.labels, this.policies, direction, this.selectors);
  }

  profileRules(name: string, direction: PolicyType): ProfileRules {
    return profileRules(name, this.profiles.get(name), direction);
  }
}

/**
 * A profile's rules for one direction, normalized; an absent `kns.*` profile is the allow-all
 * one the Kubernetes sync writes for every namespace, any other absent profile has no rules.
 * felix renders its profile chains from this, the evaluator decides with it.
 */
export function profileRules(
  name: string,
  profile: Profile | undefined,
  direction: PolicyType,
): ProfileRules {
  if (!profile)
    return { name, rules: name.startsWith(NAMESPACE_PROFILE_PREFIX) ? ALLOW_ALL : [], absent: true };
  const rules = direction === 'Ingress' ? profile.spec.ingress : profile.spec.egress;
  return { name, rules: rules.map((r, i) => normalizeRule(r, i, undefined)), absent: false };
}

/** True when the address lies in one of the CIDRs. */
export function inNets(address: IpAddress, nets: readonly string[]): boolean {
  return nets.some((n) => {
    const c = parseCidr(n);
    return c !== undefined && cidrContainsIp(c, address);
  });
}
