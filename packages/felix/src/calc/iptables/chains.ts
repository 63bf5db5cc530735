import type { IPPool } from '@tricolor/datastore';
import type { FelixSettings } from '../../config-types.js';
import { failsafeChains } from '../failsafes.js';
import { natOutgoingChain } from '../nat-outgoing.js';
import { ChainSet } from './chain-set.js';
import { newDispatchMemo, updateDispatch } from './dispatch.js';
import { type Chain, type HookJump, type IptablesState, type Rule, TABLES, type Table } from './rules.js';

/** The packet-mark bit felix uses for "accepted by an endpoint chain". */
export const MARK_ACCEPT = '0x10000';

export interface LocalEndpointRef {
  iface: string;
  /** Policy names that apply, in order; used by the later policy layer. */
  profiles: string[];
}

/**
 * Where policy slots in: rules placed in each per-endpoint chain before the default
 * verdict. A rule that accepts must set the accept mark and RETURN; a rule that denies
 * must DROP. The base layer has no policy, so the default is "allow".
 */
export type EndpointPolicyRules = (ep: LocalEndpointRef, dir: 'from' | 'to') => Rule[];

export const noPolicy: EndpointPolicyRules = () => [];

export function chainNames(prefix: string) {
  return {
    fromDispatch: `${prefix}from-wl-dispatch`,
    toDispatch: `${prefix}to-wl-dispatch`,
    /**
     * Child chains of the dispatch trees: `tri-fd-<chars>` / `tri-td-<chars>` (names that
     * sort below the endpoint chains `tri-fw-…` / `tri-tw-…`; see `dispatchChains`).
     */
    fromDispatchChild: `${prefix}fd-`,
    toDispatchChild: `${prefix}td-`,
    fromEndpoint: (iface: string) => `${prefix}fw-${iface}`,
    toEndpoint: (iface: string) => `${prefix}tw-${iface}`,
    hook: (hook: string) => `${prefix}${hook}`,
  };
}

/** The static chains (everything but the per-endpoint chains and dispatch trees) and hooks, per table. */
function staticTables(s: FelixSettings, pools: IPPool[], family: 4 | 6): Record<Table, TableParts> {
  const p = s.chainPrefix;
  const n = chainNames(p);
  const wl = `${s.interfacePrefix}+`;
  const clear = `-j MARK --set-xmark 0x0/${MARK_ACCEPT}`;
  const hasMark = `-m mark --mark ${MARK_ACCEPT}/${MARK_ACCEPT}`;
  const hook = (table: Table, h: string): HookJump => ({ table, hook: h, target: n.hook(h) });
  const natOut = natOutgoingChain(p, pools, family);
  const [failIn, failOut] = failsafeChains(p, s.failsafeInboundHostPorts, s.failsafeOutboundHostPorts);
  return {
    // raw: clear our mark bit; drop spoofed sources from workloads (strict reverse-path check).
    raw: {
      chains: [
        {
          name: n.hook('PREROUTING'),
          rules: [
            { action: clear },
            { match: `-i ${wl} -m rpfilter --invert`, action: '-j DROP', note: 'workload source spoofing' },
          ],
        },
        { name: n.hook('OUTPUT'), rules: [{ action: clear }] },
      ],
      hooks: [hook('raw', 'PREROUTING'), hook('raw', 'OUTPUT')],
    },
    // mangle: established flows skip the rest of the mangle table.
    mangle: {
      chains: [
        {
          name: n.hook('PREROUTING'),
          rules: [{ match: '-m conntrack --ctstate RELATED,ESTABLISHED', action: '-j ACCEPT' }],
        },
      ],
      hooks: [hook('mangle', 'PREROUTING')],
    },
    // nat: masquerade for natOutgoing pools.
    nat: {
      chains: [
        { name: n.hook('PREROUTING'), rules: [] },
        natOut,
        { name: n.hook('POSTROUTING'), rules: [{ action: `-j ${natOut.name}` }] },
      ],
      hooks: [hook('nat', 'PREROUTING'), hook('nat', 'POSTROUTING')],
    },
    // filter: the hooks send workload traffic into the dispatch trees (built separately).
    filter: {
      chains: [
        failIn!,
        failOut!,
        {
          name: n.hook('FORWARD'),
          rules: [
            { match: '-m conntrack --ctstate INVALID', action: '-j DROP' },
            { match: '-m conntrack --ctstate RELATED,ESTABLISHED', action: '-j ACCEPT' },
            { action: clear },
            { match: `-i ${wl}`, action: `-j ${n.fromDispatch}` },
            { match: `-o ${wl}`, action: `-j ${n.toDispatch}` },
            { match: hasMark, action: '-j ACCEPT', note: 'accepted by endpoint chains' },
          ],
        },
        {
          name: n.hook('INPUT'),
          rules: [
            { action: `-j ${failIn!.name}` },
            { action: clear },
            { match: `-i ${wl}`, action: `-j ${n.fromDispatch}` },
            { match: `-i ${wl} ${hasMark}`, action: '-j ACCEPT', note: 'workload to host' },
          ],
        },
        { name: n.hook('OUTPUT'), rules: [{ action: `-j ${failOut!.name}` }] },
      ],
      hooks: [hook('filter', 'INPUT'), hook('filter', 'FORWARD'), hook('filter', 'OUTPUT')],
    },
  };
}

interface TableParts {
  chains: Chain[];
  hooks: HookJump[];
}

/** The first index of the sorted array `a` whose element is not below `x`. */
function lowerBound(a: string[], x: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/** Inserts `x` into the sorted array `a` (no-op if present). */
function sortedInsert(a: string[], x: string): void {
  const i = lowerBound(a, x);
  if (a[i] !== x) a.splice(i, 0, x);
}

function sortedRemove(a: string[], x: string): void {
  const i = lowerBound(a, x);
  if (a[i] === x) a.splice(i, 1);
}

/**
 * The iptables part of the calculation, kept between calculations (Calico's calculation
 * graph feeding its iptables tables): the static chains are re-derived and compared on
 * every update (there are a dozen), the per-endpoint chains only for the interfaces named
 * as changed, the dispatch trees along the changed paths. Each table's `ChainSet` records
 * which chains really changed, which is what the dataplane then diffs and writes.
 *
 * One instance per IP family (iptables, ip6tables): the chains are the same but for the
 * nat-outgoing sets. Chain and interface prefixes are fixed for the life of an instance
 * (felix needs a restart to change them; see the agent).
 */
export class IptablesCalc {
  private readonly sets: Record<Table, ChainSet> = {
    raw: new ChainSet(),
    mangle: new ChainSet(),
    nat: new ChainSet(),
    filter: new ChainSet(),
  };
  private hooks: Record<Table, HookJump[]> = { raw: [], mangle: [], nat: [], filter: [] };
  private staticNames: Record<Table, Set<string>> = {
    raw: new Set(),
    mangle: new Set(),
    nat: new Set(),
    filter: new Set(),
  };
  /** Local workload interfaces, sorted. */
  readonly ifaces: string[] = [];
  private readonly toTree = newDispatchMemo();
  private readonly fromTree = newDispatchMemo();
  private policy: EndpointPolicyRules | undefined;

  constructor(
    readonly chainPrefix: string,
    readonly interfacePrefix: string,
    readonly family: 4 | 6 = 4,
  ) {}

  /**
   * Brings the chains up to date. `changed`: the interfaces whose endpoint came, went or
   * changed; `endpoint(iface)`: the endpoint an interface belongs to now (undefined: none).
   * A different `policy` function than last time re-derives every endpoint chain.
   */
  update(
    s: FelixSettings,
    pools: IPPool[],
    policy: EndpointPolicyRules,
    changed: Iterable<string>,
    endpoint: (iface: string) => LocalEndpointRef | undefined,
  ): void {
    const n = chainNames(this.chainPrefix);
    const st = staticTables(
      { ...s, chainPrefix: this.chainPrefix, interfacePrefix: this.interfacePrefix },
      pools,
      this.family,
    );
    for (const t of TABLES) {
      const names = new Set<string>();
      for (const c of st[t].chains) {
        this.sets[t].set(c);
        names.add(c.name);
      }
      for (const old of this.staticNames[t]) if (!names.has(old)) this.sets[t].delete(old);
      this.staticNames[t] = names;
      this.hooks[t] = st[t].hooks;
    }

    const f = this.sets.filter;
    const allow: Rule = { action: `-j MARK --set-xmark ${MARK_ACCEPT}/${MARK_ACCEPT}` };
    const endpointChains = (iface: string) => {
      const ep = endpoint(iface);
      if (!ep) {
        f.delete(n.toEndpoint(iface));
        f.delete(n.fromEndpoint(iface));
        sortedRemove(this.ifaces, iface);
        return;
      }
      // A policy rule that accepts sets the mark and RETURNs; without policy: allow.
      f.set({ name: n.toEndpoint(iface), rules: [...policy(ep, 'to'), allow] });
      f.set({ name: n.fromEndpoint(iface), rules: [...policy(ep, 'from'), allow] });
      sortedInsert(this.ifaces, iface);
    };
    if (policy !== this.policy) {
      this.policy = policy;
      for (const iface of [...this.ifaces]) endpointChains(iface);
    }
    for (const iface of changed) endpointChains(iface);

    const unknown: Rule[] = [{ action: '-j DROP', note: 'unknown workload interface' }];
    const tree = { interfacePrefix: this.interfacePrefix, unknown };
    updateDispatch(
      this.ifaces,
      { ...tree, root: n.toDispatch, childPrefix: n.toDispatchChild, direction: '-o', target: n.toEndpoint },
      this.toTree,
      f,
    );
    updateDispatch(
      this.ifaces,
      {
        ...tree,
        root: n.fromDispatch,
        childPrefix: n.fromDispatchChild,
        direction: '-i',
        target: n.fromEndpoint,
      },
      this.fromTree,
      f,
    );
  }

  /** The desired tables. The maps are this instance's own: read them before the next update. */
  state(): IptablesState {
    const out = {} as IptablesState;
    for (const t of TABLES)
      out[t] = { chains: this.sets[t].chains, hooks: this.hooks[t], ruleCount: this.sets[t].ruleCount };
    return out;
  }

  /** Chain names changed (set differently or deleted) per table since the last call. */
  takeChanged(): Record<Table, Set<string>> {
    const out = {} as Record<Table, Set<string>>;
    for (const t of TABLES) out[t] = this.sets[t].takeChanged();
    return out;
  }
}

/**
 * Every chain felix owns in raw, mangle, nat and filter, computed from scratch. Kernel
 * hooks get one jump each (inserted at the top); everything else lives in prefixed chains.
 */
export function buildIptables(
  s: FelixSettings,
  endpoints: LocalEndpointRef[],
  pools: IPPool[],
  policy: EndpointPolicyRules = noPolicy,
  family: 4 | 6 = 4,
): IptablesState {
  const byIface = new Map<string, LocalEndpointRef>();
  for (const ep of endpoints) if (!byIface.has(ep.iface)) byIface.set(ep.iface, ep);
  const calc = new IptablesCalc(s.chainPrefix, s.interfacePrefix, family);
  calc.update(s, pools, policy, byIface.keys(), (i) => byIface.get(i));
  return calc.state();
}
