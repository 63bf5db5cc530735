import type { IPPool } from '@tricolor/datastore';
import type { FelixSettings } from '../../config-types.js';
import { failsafeChains } from '../failsafes.js';
import { natOutgoingChain } from '../pools.js';
import { type DispatchOptions, dispatchChains } from './dispatch.js';
import { type Chain, type HookJump, type IptablesState, type Rule, TABLES, type Table } from './rules.js';

/** The packet-mark bit felix uses for "accepted by an endpoint chain". */
export const MARK_ACCEPT = '0x10000';

export interface LocalEndpointRef {
  iface: string;
  /** Policy names that apply, in order; used by the later policy layer. */
  profiles: string[];
}

/**
 * The rules of each per-endpoint chain (the policy calculator computes them: policies, then
 * profiles, see `calc/policy/endpoint-rules.ts`). A packet the chain accepts returns with
 * the accept mark set; one it denies is dropped.
 */
export type EndpointPolicyRules = (ep: LocalEndpointRef, dir: 'from' | 'to') => Rule[];

/** Every packet accepted (rule-rendering tests that are about something else). */
export const noPolicy: EndpointPolicyRules = () => [ALLOW];

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
export function staticTables(s: FelixSettings, pools: IPPool[], family: 4 | 6): Record<Table, TableParts> {
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
            // Workload to host: conntrack decides first, as in FORWARD (replies to the host's
            // own connections pass whatever the endpoint's egress policy says).
            { match: `-i ${wl} -m conntrack --ctstate INVALID`, action: '-j DROP' },
            { match: `-i ${wl} -m conntrack --ctstate RELATED,ESTABLISHED`, action: '-j ACCEPT' },
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

export interface TableParts {
  chains: Chain[];
  hooks: HookJump[];
}

/** Sets the accept mark: the endpoint chain accepts the packet. */
export const ALLOW: Rule = { action: `-j MARK --set-xmark ${MARK_ACCEPT}/${MARK_ACCEPT}` };

/** Before the policy calculator has computed an endpoint's rules, its chains drop (fail closed). */
export const NOT_COMPUTED: Rule[] = [{ action: '-j DROP', note: 'policy not computed yet' }];

/** The two chains of one endpoint's interface, with the rules the policy calculator computed. */
export function endpointChains(prefix: string, iface: string, from: Rule[], to: Rule[]): [Chain, Chain] {
  const n = chainNames(prefix);
  return [
    { name: n.toEndpoint(iface), rules: to },
    { name: n.fromEndpoint(iface), rules: from },
  ];
}

/** The options of the two dispatch trees (to- and from-workload). */
export function dispatchOptions(
  chainPrefix: string,
  interfacePrefix: string,
): Record<'to' | 'from', DispatchOptions> {
  const n = chainNames(chainPrefix);
  const unknown: Rule[] = [{ action: '-j DROP', note: 'unknown workload interface' }];
  return {
    to: {
      interfacePrefix,
      unknown,
      root: n.toDispatch,
      childPrefix: n.toDispatchChild,
      direction: '-o',
      target: n.toEndpoint,
    },
    from: {
      interfacePrefix,
      unknown,
      root: n.fromDispatch,
      childPrefix: n.fromDispatchChild,
      direction: '-i',
      target: n.fromEndpoint,
    },
  };
}

/**
 * Every chain felix owns in raw, mangle, nat and filter, computed from scratch (the test
 * oracle and one-off use; felix itself keeps them up to date with the calculators in this
 * folder). Kernel hooks get one jump each; everything else lives in prefixed chains.
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
  const st = staticTables(s, pools, family);
  const out = {} as IptablesState;
  for (const t of TABLES) {
    const chains = new Map<string, Chain>();
    for (const c of st[t].chains) chains.set(c.name, c);
    out[t] = { chains, hooks: st[t].hooks, ruleCount: 0 };
  }
  const f = out.filter.chains as Map<string, Chain>;
  const ifaces = [...byIface.keys()].sort();
  for (const iface of ifaces) {
    const ep = byIface.get(iface)!;
    for (const c of endpointChains(s.chainPrefix, iface, policy(ep, 'from'), policy(ep, 'to')))
      f.set(c.name, c);
  }
  const opts = dispatchOptions(s.chainPrefix, s.interfacePrefix);
  for (const o of [opts.to, opts.from]) for (const c of dispatchChains(ifaces, o)) f.set(c.name, c);
  for (const t of TABLES) {
    let n = 0;
    for (const c of out[t].chains.values()) n += c.rules.length;
    out[t].ruleCount = n;
  }
  return out;
}
