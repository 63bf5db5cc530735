import {
  type GlobalNetworkPolicy,
  type Labels,
  type NetworkPolicy,
  type PolicyType,
  type Profile,
  parseCidr,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import {
  comparePolicies,
  effectiveLabels,
  type NormalizedPolicy,
  normalizePolicy,
  policyRefText,
  profileRules,
} from '@tricolor/policy';
import type { KernelState } from '../../dataplane/kernel-state.js';
import type { CalcGraph, Calculator, EndpointRules, LocalEndpoint } from '../graph.js';
import type { IptablesFamilies } from '../iptables/families.js';
import type { Chain } from '../iptables/rules.js';
import { endpointChainRules } from './endpoint-rules.js';
import { type EndpointData, PolicyIpsets } from './ipsets.js';
import { LabelIndex } from './label-index.js';
import { type Direction, policyChainName, profileChainName, type SetRef } from './names.js';
import { ownerNote, type RenderedRule, renderRules } from './render.js';

const DIRECTIONS: Direction[] = ['Ingress', 'Egress'];
const FAMILIES = [4, 6] as const;

/** What a policy or profile has in the kernel while it is active: its chains (by name) and the sets they use. */
interface Rendering {
  chains: string[];
  sets: SetRef[];
}

interface PolicyState {
  key: string;
  policy: NormalizedPolicy;
  /** Local interfaces it applies to (any direction). */
  local: Set<string>;
  rendering?: Rendering;
  /** Its rules changed since it was rendered. */
  stale: boolean;
}

interface IfaceState {
  /** Undefined once the interface's endpoint went (until the next flush forgets the interface). */
  local?: LocalEndpoint;
  /** What the endpoint chains were last computed from: policy keys per direction, profiles. */
  shape?: string;
  profiles: string[];
}

function endpointData(ep: WorkloadEndpoint): EndpointData {
  const v4: string[] = [];
  const v6: string[] = [];
  for (const n of ep.spec.ipNetworks) {
    const c = parseCidr(n);
    if (!c) continue;
    const a = n.slice(0, n.indexOf('/') < 0 ? n.length : n.indexOf('/'));
    if (c.family === 4) v4.push(a);
    else v6.push(a);
  }
  return { v4: v4.sort(), v6: v6.sort(), ports: ep.spec.ports ?? [] };
}

const samePolicyShape = (a: NormalizedPolicy, b: NormalizedPolicy) =>
  a.order === b.order && a.types.join() === b.types.join();

/**
 * Network policy on this node, Calico's way, incrementally:
 *
 * - every endpoint of the cluster gets its effective labels (its own, its profiles' under
 *   `pcns.`/`pcsa.`; `@tricolor/policy` `effectiveLabels`) — a profile relabelled recomputes
 *   the endpoints that carry it only;
 * - a local label index (local interfaces × policy selectors) says which policies apply to
 *   which local endpoint; a policy applying to at least one is *active*: its chains
 *   `tri-pi-…`/`tri-po-…` (one per direction it has, shared by all its endpoints) are
 *   rendered in both IP families and the sets its rules name are acquired;
 * - the sets (`PolicyIpsets`) follow the selectors of active rules over all endpoints of the
 *   cluster, member by member;
 * - per local interface the active policies of each direction in order
 *   (`comparePolicies`) and its profiles become the endpoint chains' rules (`endpointRules`,
 *   see `endpointChainRules`); profiles of local endpoints get their chains `tri-pri-…`/
 *   `tri-pro-…`.
 *
 * A policy's rules changed rewrites its own chains; its order, types or selector changed
 * rewrites the endpoint chains of the endpoints concerned; a remote pod relabelled touches
 * set members only.
 */
export class PolicyCalculator implements Calculator {
  readonly ipsets: PolicyIpsets;
  private graph: CalcGraph | undefined;
  private readonly endpoints = new Map<string, WorkloadEndpoint>();
  private readonly labels = new Map<string, Labels>();
  private readonly profiles = new Map<string, Profile>();
  /** Profile name → endpoint keys that list it (their labels depend on its labelsToApply). */
  private readonly profileEndpoints = new Map<string, Set<string>>();
  private readonly policies = new Map<string, PolicyState>();
  private readonly ifaces = new Map<string, IfaceState>();
  /** Endpoint key → the local interface it owns. */
  private readonly ifaceOfKey = new Map<string, string>();
  private readonly localIndex: LabelIndex;
  /** Profile name → local interfaces using it; rendered while any does. */
  private readonly profileUsers = new Map<string, Set<string>>();
  private readonly profileRendering = new Map<string, Rendering>();

  private readonly dirtyEndpoints = new Set<string>();
  private readonly dirtyIfaces = new Set<string>();
  private readonly dirtyPolicies = new Set<string>();
  private readonly dirtyProfiles = new Set<string>();
  private readonly checkPolicies = new Set<string>();
  private readonly checkProfiles = new Set<string>();
  private readonly rulesDirty = new Set<string>();

  constructor(
    private readonly chainPrefix: string,
    state: KernelState,
    private readonly iptables: IptablesFamilies,
  ) {
    this.ipsets = new PolicyIpsets(state, chainPrefix);
    this.localIndex = new LabelIndex({
      started: (pk, iface) => this.localMatch(pk, iface, true),
      stopped: (pk, iface) => this.localMatch(pk, iface, false),
    });
  }

  /** Policies that apply to at least one local endpoint. */
  get activePolicies(): number {
    let n = 0;
    for (const p of this.policies.values()) if (p.rendering) n++;
    return n;
  }

  /** Distinct selectors the active rules' sets follow. */
  get activeSelectors(): number {
    return this.ipsets.selectorCount;
  }

  get clusterPolicies(): number {
    return this.policies.size;
  }

  get clusterProfiles(): number {
    return this.profiles.size;
  }

  register(g: CalcGraph): void {
    this.graph = g;
    g.on('endpoint', (key, ep) => {
      const old = this.endpoints.get(key);
      if (old === ep) return;
      if (old) for (const p of old.spec.profiles) this.profileEndpoints.get(p)?.delete(key);
      if (ep) {
        this.endpoints.set(key, ep);
        for (const p of ep.spec.profiles) {
          let s = this.profileEndpoints.get(p);
          if (!s) {
            s = new Set();
            this.profileEndpoints.set(p, s);
          }
          s.add(key);
        }
      } else this.endpoints.delete(key);
      this.dirtyEndpoints.add(key);
    });
    g.on('localEndpoint', (iface, le) => {
      const old = this.ifaces.get(iface);
      if (old?.local && this.ifaceOfKey.get(old.local.key) === iface) this.ifaceOfKey.delete(old.local.key);
      if (le) {
        this.ifaces.set(iface, { local: le, shape: old?.shape, profiles: old?.profiles ?? [] });
        this.ifaceOfKey.set(le.key, iface);
      } else if (old) old.local = undefined;
      this.dirtyIfaces.add(iface);
    });
    const policy = (key: string, p: Readonly<NetworkPolicy | GlobalNetworkPolicy> | undefined) => {
      this.dirtyPolicies.add(key);
      this.pendingPolicies.set(key, p);
    };
    g.on('networkPolicy', policy);
    g.on('globalNetworkPolicy', policy);
    g.on('profile', (key, p) => {
      // Kept by name: endpoints and chains name profiles, not datastore keys.
      const name = p?.metadata.name ?? this.profileNameOfKey.get(key);
      if (!name) return;
      if (p) this.profileNameOfKey.set(key, name);
      else this.profileNameOfKey.delete(key);
      const old = this.profiles.get(name);
      if (p) this.profiles.set(name, p as Profile);
      else this.profiles.delete(name);
      const labelsChanged =
        JSON.stringify(old?.spec.labelsToApply ?? null) !== JSON.stringify(p?.spec.labelsToApply ?? null);
      if (labelsChanged) for (const k of this.profileEndpoints.get(name) ?? []) this.dirtyEndpoints.add(k);
      this.dirtyProfiles.add(name);
    });
    g.on('ipFamilies', (_k, f) => this.ipsets.setV6(Boolean(f?.v6)));
  }

  private readonly pendingPolicies = new Map<
    string,
    Readonly<NetworkPolicy | GlobalNetworkPolicy> | undefined
  >();
  private readonly profileNameOfKey = new Map<string, string>();

  flush(): void {
    if (
      !this.dirtyEndpoints.size &&
      !this.dirtyIfaces.size &&
      !this.dirtyPolicies.size &&
      !this.dirtyProfiles.size
    )
      return;
    // 1. Labels of changed endpoints (all of the cluster's: sets; local ones: which policies apply).
    for (const key of this.dirtyEndpoints) {
      const ep = this.endpoints.get(key);
      if (!ep) {
        this.labels.delete(key);
        this.ipsets.setEndpoint(key, undefined, undefined);
      } else {
        const labels = effectiveLabels(ep, this.profiles);
        this.labels.set(key, labels);
        this.ipsets.setEndpoint(key, endpointData(ep), labels);
      }
      const iface = this.ifaceOfKey.get(key);
      if (iface) this.dirtyIfaces.add(iface);
    }
    this.dirtyEndpoints.clear();
    // 2. Local interfaces: their labels in the local index, their profiles.
    for (const iface of this.dirtyIfaces) {
      const st = this.ifaces.get(iface);
      const labels = st?.local ? this.localLabels(st.local) : undefined;
      if (st?.local && labels) {
        this.localIndex.setItem(iface, labels);
        this.useProfiles(iface, st, st.local.profiles);
      } else {
        this.localIndex.deleteItem(iface);
        if (st) this.useProfiles(iface, st, []);
        this.ifaces.delete(iface);
        this.graph!.emit('endpointRules', iface, undefined);
        continue;
      }
      this.rulesDirty.add(iface);
    }
    this.dirtyIfaces.clear();
    // 3. Policies: selector (which local endpoints), order and types (their chains' order), rules.
    for (const key of this.dirtyPolicies) this.updatePolicy(key, this.pendingPolicies.get(key));
    this.dirtyPolicies.clear();
    this.pendingPolicies.clear();
    // 4. Profiles whose rules changed, if rendered.
    for (const name of this.dirtyProfiles) if (this.profileRendering.has(name)) this.checkProfiles.add(name);
    this.dirtyProfiles.clear();
    // 5. Chains and sets of policies and profiles that became active, inactive or changed.
    for (const key of this.checkPolicies) this.renderPolicy(key);
    this.checkPolicies.clear();
    for (const name of this.checkProfiles) this.renderProfile(name);
    this.checkProfiles.clear();
    // 6. Endpoint chains of the interfaces whose policies, order or profiles changed.
    for (const iface of this.rulesDirty) this.emitEndpointRules(iface);
    this.rulesDirty.clear();
  }

  /** A local endpoint's labels (computed with the cluster's endpoints, or now if its update has not come yet). */
  private localLabels(le: LocalEndpoint): Labels {
    let l = this.labels.get(le.key);
    if (!l) {
      l = effectiveLabels(le.endpoint, this.profiles);
      this.labels.set(le.key, l);
    }
    return l;
  }

  private localMatch(pk: string, iface: string, started: boolean): void {
    const st = this.policies.get(pk);
    if (!st) return;
    if (started) st.local.add(iface);
    else st.local.delete(iface);
    this.rulesDirty.add(iface);
    this.checkPolicies.add(pk);
  }

  private updatePolicy(key: string, raw: Readonly<NetworkPolicy | GlobalNetworkPolicy> | undefined): void {
    const old = this.policies.get(key);
    if (!raw) {
      if (!old) return;
      this.localIndex.deleteSelector(key);
      this.policies.delete(key);
      for (const iface of old.local) this.rulesDirty.add(iface);
      this.unrender(old.rendering);
      return;
    }
    const policy = normalizePolicy(raw as NetworkPolicy | GlobalNetworkPolicy);
    if (!old) {
      this.policies.set(key, { key, policy, local: new Set(), stale: true });
      this.localIndex.setSelector(key, policy.selector);
      this.checkPolicies.add(key);
      return;
    }
    const prev = old.policy;
    old.policy = policy;
    old.stale = true;
    this.checkPolicies.add(key);
    if (!samePolicyShape(prev, policy)) for (const iface of old.local) this.rulesDirty.add(iface);
    if (prev.selector !== policy.selector) this.localIndex.setSelector(key, policy.selector);
  }

  /** Renders an active policy's chains (again, when its rules changed); removes an inactive one's. */
  private renderPolicy(key: string): void {
    const st = this.policies.get(key);
    if (!st) return;
    if (st.local.size === 0) {
      this.unrender(st.rendering);
      st.rendering = undefined;
      return;
    }
    if (st.rendering && !st.stale) return;
    const p = st.policy;
    const chains: Chain[][] = [];
    const sets: SetRef[] = [];
    for (const dir of DIRECTIONS) {
      if (!p.types.includes(dir)) continue;
      const name = policyChainName(this.chainPrefix, p.ref, dir);
      const note = ownerNote(`${p.ref.kind} ${policyRefText(p.ref)}`, dir);
      const rules = dir === 'Ingress' ? p.ingress : p.egress;
      chains.push(
        FAMILIES.map((family) => {
          const r = renderRules(rules, { family, owner: 'policy', chainPrefix: this.chainPrefix }, note);
          sets.push(...r.sets);
          return { name, rules: r.rules };
        }),
      );
    }
    st.rendering = this.swap(st.rendering, chains, sets);
    st.stale = false;
  }

  private useProfiles(iface: string, st: IfaceState, profiles: readonly string[]): void {
    if (st.profiles.join('\0') === profiles.join('\0')) return;
    for (const name of st.profiles) {
      const users = this.profileUsers.get(name);
      users?.delete(iface);
      if (users?.size === 0) {
        this.profileUsers.delete(name);
        this.checkProfiles.add(name);
      }
    }
    for (const name of profiles) {
      let users = this.profileUsers.get(name);
      if (!users) {
        users = new Set();
        this.profileUsers.set(name, users);
        this.checkProfiles.add(name);
      }
      users.add(iface);
    }
    st.profiles = [...profiles];
  }

  private renderProfile(name: string): void {
    const old = this.profileRendering.get(name);
    if (!this.profileUsers.has(name)) {
      this.unrender(old);
      this.profileRendering.delete(name);
      return;
    }
    const profile = this.profiles.get(name);
    const chains: Chain[][] = [];
    const sets: SetRef[] = [];
    for (const dir of DIRECTIONS) {
      const { rules } = profileRules(name, profile, dir);
      const chain = profileChainName(this.chainPrefix, name, dir);
      const note = ownerNote(`Profile ${name}`, dir);
      chains.push(
        FAMILIES.map((family) => {
          const r: RenderedRule = renderRules(
            rules,
            { family, owner: 'profile', chainPrefix: this.chainPrefix },
            note,
          );
          sets.push(...r.sets);
          return { name: chain, rules: r.rules };
        }),
      );
    }
    this.profileRendering.set(name, this.swap(old, chains, sets));
  }

  /** Puts new chains and sets in place of old ones: new sets first, old ones released last. */
  private swap(old: Rendering | undefined, chains: Chain[][], sets: SetRef[]): Rendering {
    for (const s of sets) this.ipsets.acquire(s);
    const names = new Set<string>();
    for (const perFamily of chains)
      perFamily.forEach((c, i) => {
        names.add(c.name);
        this.iptables.setChain('filter', c, FAMILIES[i]);
      });
    if (old) {
      for (const n of old.chains) if (!names.has(n)) this.iptables.deleteChain('filter', n);
      for (const s of old.sets) this.ipsets.release(s);
    }
    return { chains: [...names], sets };
  }

  private unrender(r: Rendering | undefined): void {
    if (!r) return;
    for (const n of r.chains) this.iptables.deleteChain('filter', n);
    for (const s of r.sets) this.ipsets.release(s);
  }

  private emitEndpointRules(iface: string): void {
    const st = this.ifaces.get(iface);
    if (!st?.local) return;
    const by: Record<Direction, PolicyState[]> = { Ingress: [], Egress: [] };
    for (const pk of this.localIndex.matchesOf(iface)) {
      const p = this.policies.get(pk);
      if (!p) continue;
      for (const dir of DIRECTIONS) if (p.policy.types.includes(dir as PolicyType)) by[dir].push(p);
    }
    for (const dir of DIRECTIONS) by[dir].sort((a, b) => comparePolicies(a.policy, b.policy));
    const shape = `${by.Ingress.map((p) => p.key).join(',')}|${by.Egress.map((p) => p.key).join(',')}|${st.profiles.join(',')}`;
    if (shape === st.shape) return;
    st.shape = shape;
    const rules: EndpointRules = {
      to: endpointChainRules(
        this.chainPrefix,
        'Ingress',
        by.Ingress.map((p) => p.policy.ref),
        st.profiles,
      ),
      from: endpointChainRules(
        this.chainPrefix,
        'Egress',
        by.Egress.map((p) => p.policy.ref),
        st.profiles,
      ),
    };
    this.graph!.emit('endpointRules', iface, rules);
  }
}
