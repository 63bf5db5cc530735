import type { IPPool } from '@tricolor/datastore';
import type { FelixSettings } from '../../config-types.js';
import { failsafeChains } from '../failsafes.js';
import { natOutgoingChain } from '../nat-outgoing.js';
import { type DispatchMemo, dispatchChains, newDispatchMemo } from './dispatch.js';
import { type Chain, emptyIptablesState, type IptablesState, type Rule, sameRule } from './rules.js';

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

/** What `buildIptables` may reuse from its previous call (results are equal either way). */
export class IptablesCache {
  prefix = '';
  /** The endpoint interfaces, sorted, as of the last call. */
  ifaces: string[] = [];
  /** Endpoint chains by interface. */
  from = new Map<string, Chain>();
  to = new Map<string, Chain>();
  fromTree: DispatchMemo = newDispatchMemo();
  toTree: DispatchMemo = newDispatchMemo();
}

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

/**
 * Renders every chain felix owns in raw, mangle, nat and filter. Kernel hooks get one
 * jump each (inserted at the top); everything else lives in prefixed chains.
 */
export function buildIptables(
  s: FelixSettings,
  endpoints: LocalEndpointRef[],
  pools: IPPool[],
  policy: EndpointPolicyRules = noPolicy,
  /** Reuses what the previous call built where it is equal (see CalcCache). */
  cache?: IptablesCache,
): IptablesState {
  const p = s.chainPrefix;
  const n = chainNames(p);
  const wl = `${s.interfacePrefix}+`;
  const state = emptyIptablesState();
  const accept = `-j MARK --set-xmark ${MARK_ACCEPT}/${MARK_ACCEPT}`;
  const clear = `-j MARK --set-xmark 0x0/${MARK_ACCEPT}`;
  const hasMark = `-m mark --mark ${MARK_ACCEPT}/${MARK_ACCEPT}`;

  // raw: clear our mark bit; drop spoofed sources from workloads (strict reverse-path check).
  state.raw.chains.push(
    {
      name: n.hook('PREROUTING'),
      rules: [
        { action: clear },
        { match: `-i ${wl} -m rpfilter --invert`, action: '-j DROP', note: 'workload source spoofing' },
      ],
    },
    { name: n.hook('OUTPUT'), rules: [{ action: clear }] },
  );
  state.raw.hooks.push(
    { table: 'raw', hook: 'PREROUTING', target: n.hook('PREROUTING') },
    { table: 'raw', hook: 'OUTPUT', target: n.hook('OUTPUT') },
  );

  // mangle: established flows skip the rest of the mangle table.
  state.mangle.chains.push({
    name: n.hook('PREROUTING'),
    rules: [{ match: '-m conntrack --ctstate RELATED,ESTABLISHED', action: '-j ACCEPT' }],
  });
  state.mangle.hooks.push({ table: 'mangle', hook: 'PREROUTING', target: n.hook('PREROUTING') });

  // nat: masquerade for natOutgoing pools.
  const natOut = natOutgoingChain(p, pools);
  state.nat.chains.push({ name: n.hook('PREROUTING'), rules: [] }, natOut, {
    name: n.hook('POSTROUTING'),
    rules: [{ action: `-j ${natOut.name}` }],
  });
  state.nat.hooks.push(
    { table: 'nat', hook: 'PREROUTING', target: n.hook('PREROUTING') },
    { table: 'nat', hook: 'POSTROUTING', target: n.hook('POSTROUTING') },
  );

  // filter. Listed so that every chain comes after the chains it jumps to (the order of
  // the restore script; see dispatchChains): the to-workload tree with its endpoint chains,
  // then the from-workload tree (its names sort below the to-side ones), failsafes, hooks.
  const f = state.filter.chains;
  const [failIn, failOut] = failsafeChains(p, s.failsafeInboundHostPorts, s.failsafeOutboundHostPorts);
  const unknown: Rule[] = [{ action: '-j DROP', note: 'unknown workload interface' }];
  const byIface = new Map<string, LocalEndpointRef>();
  for (const ep of endpoints) if (!byIface.has(ep.iface)) byIface.set(ep.iface, ep);
  if (cache && cache.prefix !== p) {
    cache.prefix = p;
    cache.from.clear();
    cache.to.clear();
    cache.fromTree.subtrees.clear();
    cache.toTree.subtrees.clear();
  }
  const allow: Rule = { action: accept, note: 'no policy: allow' };
  const endpointChain = (name: (iface: string) => string, dir: 'from' | 'to') => {
    const prevByIface = cache?.[dir];
    const next = new Map<string, Chain>();
    const make = (iface: string): Chain => {
      const pol = policy(byIface.get(iface)!, dir);
      // The previous chain object for this interface when its rules are equal (no allocation).
      const prev = prevByIface?.get(iface);
      let same = prev !== undefined && prev.rules.length === pol.length + 1;
      // Compared in place: this runs for every endpoint on every calculation.
      for (let i = 0; same && i < pol.length; i++) same = sameRule(prev!.rules[i]!, pol[i]!);
      const c =
        same && sameRule(prev!.rules[pol.length]!, allow)
          ? prev!
          : { name: name(iface), rules: [...pol, allow] };
      next.set(iface, c);
      return c;
    };
    return { make, next };
  };
  const toEp = endpointChain(n.toEndpoint, 'to');
  const fromEp = endpointChain(n.fromEndpoint, 'from');
  // Sorted interface names; with a cache, last call's order first so the sort is linear.
  let ifaces = [...byIface.keys()];
  if (cache) {
    const prev = cache.ifaces.filter((i) => byIface.has(i));
    const known = new Set(prev);
    for (const i of ifaces) if (!known.has(i)) prev.push(i);
    ifaces = prev;
  }
  ifaces.sort();
  if (cache) cache.ifaces = ifaces;
  f.push(
    ...dispatchChains(
      ifaces,
      {
        root: n.toDispatch,
        childPrefix: n.toDispatchChild,
        direction: '-o',
        target: n.toEndpoint,
        interfacePrefix: s.interfacePrefix,
        unknown,
        endpointChain: toEp.make,
      },
      cache?.toTree,
    ),
    ...dispatchChains(
      ifaces,
      {
        root: n.fromDispatch,
        childPrefix: n.fromDispatchChild,
        direction: '-i',
        target: n.fromEndpoint,
        interfacePrefix: s.interfacePrefix,
        unknown,
        endpointChain: fromEp.make,
      },
      cache?.fromTree,
    ),
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
  );
  if (cache) {
    cache.to = toEp.next;
    cache.from = fromEp.next;
  }
  state.filter.hooks.push(
    { table: 'filter', hook: 'INPUT', target: n.hook('INPUT') },
    { table: 'filter', hook: 'FORWARD', target: n.hook('FORWARD') },
    { table: 'filter', hook: 'OUTPUT', target: n.hook('OUTPUT') },
  );
  return state;
}
