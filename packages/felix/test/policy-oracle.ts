/**
 * The policy part of the test oracle: what felix must program for policies, recomputed
 * from scratch the plain way — `@tricolor/policy`'s PolicyModel (effective labels of every
 * endpoint, activePolicies by scanning every policy), every set's members by scanning every
 * endpoint — with the same pure renderers felix uses for the rule text. felix's policy
 * calculator keeps this incrementally (label indexes, reference counts, per-member
 * updates); the property tests require both to want the same.
 */
import {
  type GlobalNetworkPolicy,
  type NetworkPolicy,
  type PolicyType,
  type Profile,
  parseCidr,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import { PolicyModel, policyRefText, profileRules } from '@tricolor/policy';
import type { EndpointRules } from '../src/calc/graph.js';
import type { Chain } from '../src/calc/iptables/rules.js';
import { endpointChainRules } from '../src/calc/policy/endpoint-rules.js';
import {
  type Direction,
  ipsetName,
  ipsetType,
  policyChainName,
  profileChainName,
  type SetRef,
  setId,
} from '../src/calc/policy/names.js';
import { ownerNote, renderRules } from '../src/calc/policy/render.js';
import type { IpsetSpec } from '../src/calc/pools.js';
import { canonicalMember } from '../src/dataplane/items.js';

export interface PolicyInputs {
  chainPrefix: string;
  /** Every endpoint of the cluster. */
  endpoints: Iterable<WorkloadEndpoint>;
  /** This node's interfaces and the endpoint owning each. */
  local: { iface: string; endpoint: WorkloadEndpoint }[];
  profiles: Iterable<Profile>;
  policies: Iterable<NetworkPolicy | GlobalNetworkPolicy>;
  v6: boolean;
}

export interface PolicyState {
  endpointRules: Map<string, EndpointRules>;
  chains: Record<4 | 6, Chain[]>;
  ipsets: IpsetSpec[];
}

const DIRS: Direction[] = ['Ingress', 'Egress'];

export function computePolicyState(inp: PolicyInputs): PolicyState {
  const profiles = [...inp.profiles];
  const model = new PolicyModel({ endpoints: inp.endpoints, profiles, policies: inp.policies });
  const byName = new Map(profiles.map((p) => [p.metadata.name, p]));
  const endpointRules = new Map<string, EndpointRules>();
  const activePolicies = new Set<string>();
  const usedProfiles = new Set<string>();
  const modelOf = (ep: WorkloadEndpoint) =>
    model.endpoints.find((m) => m.resource === ep) ??
    model.endpoints.find(
      (m) =>
        m.resource.metadata.namespace === ep.metadata.namespace &&
        m.resource.metadata.name === ep.metadata.name,
    )!;
  for (const { iface, endpoint } of inp.local) {
    const me = modelOf(endpoint);
    const rules = {} as Record<Direction, ReturnType<typeof endpointChainRules>>;
    for (const dir of DIRS) {
      const ps = model.activePolicies(me, dir as PolicyType);
      rules[dir] = endpointChainRules(
        inp.chainPrefix,
        dir,
        ps.map((p) => p.ref),
        endpoint.spec.profiles,
      );
    }
    // A policy is active when it applies to a local endpoint in any direction.
    for (const p of model.policies)
      if (model.selectors.matches(p.selector, me.labels))
        activePolicies.add(`${p.ref.kind}/${policyRefText(p.ref)}`);
    for (const name of endpoint.spec.profiles) usedProfiles.add(name);
    endpointRules.set(iface, { to: rules.Ingress, from: rules.Egress });
  }
  const chains: Record<4 | 6, Chain[]> = { 4: [], 6: [] };
  const refs = new Map<string, { ref: SetRef; families: Set<4 | 6> }>();
  const render = (
    name: string,
    list: Parameters<typeof renderRules>[0],
    owner: 'policy' | 'profile',
    note: string,
  ) => {
    for (const family of [4, 6] as const) {
      const r = renderRules(list, { family, owner, chainPrefix: inp.chainPrefix }, note);
      for (const s of r.sets) {
        const id = setId(s);
        const e = refs.get(id) ?? { ref: s, families: new Set() };
        e.families.add(family);
        refs.set(id, e);
      }
      if (family === 4 || inp.v6) chains[family].push({ name, rules: r.rules });
    }
  };
  for (const p of model.policies) {
    if (!activePolicies.has(`${p.ref.kind}/${policyRefText(p.ref)}`)) continue;
    for (const dir of DIRS)
      if (p.types.includes(dir))
        render(
          policyChainName(inp.chainPrefix, p.ref, dir),
          dir === 'Ingress' ? p.ingress : p.egress,
          'policy',
          ownerNote(`${p.ref.kind} ${policyRefText(p.ref)}`, dir),
        );
  }
  for (const name of usedProfiles)
    for (const dir of DIRS)
      render(
        profileChainName(inp.chainPrefix, name, dir),
        profileRules(name, byName.get(name), dir).rules,
        'profile',
        ownerNote(`Profile ${name}`, dir),
      );
  const ipsets: IpsetSpec[] = [];
  for (const { ref } of refs.values()) {
    const families: (4 | 6)[] = ref.kind === 'nets' ? [ref.family] : [4, 6];
    for (const family of families) {
      if (family === 6 && !inp.v6) continue;
      const members = new Set<string>();
      if (ref.kind === 'nets') for (const n of ref.nets) members.add(canonicalMember(n));
      else
        for (const e of model.endpoints) {
          if (!model.selectors.matches(ref.selector, e.labels)) continue;
          const addrs = e.resource.spec.ipNetworks
            .filter((n) => parseCidr(n)?.family === family)
            .map((n) => n.split('/')[0]!);
          if (ref.kind === 'selector') for (const a of addrs) members.add(a);
          else
            for (const p of e.resource.spec.ports ?? [])
              if (p.name === ref.port)
                for (const a of addrs) members.add(`${a},${p.protocol.toLowerCase()}:${p.port}`);
        }
      ipsets.push({
        name: ipsetName(inp.chainPrefix, setId(ref), family),
        type: ipsetType(ref),
        family: family === 4 ? 'inet' : 'inet6',
        members: [...members].sort(),
      });
    }
  }
  return { endpointRules, chains, ipsets };
}
