import type { IPPool } from '@tricolor/datastore';
import type { FelixSettings } from '../../config-types.js';
import { failsafeChains } from '../failsafes.js';
import { natOutgoingChain } from '../nat-outgoing.js';
import { dispatchChains } from './dispatch.js';
import { type Chain, emptyIptablesState, type IptablesState, type Rule } from './rules.js';

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
  state.nat.chains.push(
    { name: n.hook('PREROUTING'), rules: [] },
    { name: n.hook('POSTROUTING'), rules: [{ action: `-j ${natOut.name}` }] },
    natOut,
  );
  state.nat.hooks.push(
    { table: 'nat', hook: 'PREROUTING', target: n.hook('PREROUTING') },
    { table: 'nat', hook: 'POSTROUTING', target: n.hook('POSTROUTING') },
  );

  // filter.
  const f = state.filter.chains;
  const [failIn, failOut] = failsafeChains(p, s.failsafeInboundHostPorts, s.failsafeOutboundHostPorts);
  f.push(
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
    failIn!,
    failOut!,
  );
  const unknown: Rule[] = [{ action: '-j DROP', note: 'unknown workload interface' }];
  const sorted = [...endpoints].sort((a, b) => (a.iface < b.iface ? -1 : a.iface > b.iface ? 1 : 0));
  const ifaces = sorted.map((e) => e.iface);
  f.push(
    ...dispatchChains(ifaces, {
      root: n.fromDispatch,
      direction: '-i',
      target: n.fromEndpoint,
      interfacePrefix: s.interfacePrefix,
      unknown,
    }),
    ...dispatchChains(ifaces, {
      root: n.toDispatch,
      direction: '-o',
      target: n.toEndpoint,
      interfacePrefix: s.interfacePrefix,
      unknown,
    }),
  );
  for (const ep of sorted) {
    const endpointChain = (name: string, dir: 'from' | 'to'): Chain => ({
      name,
      rules: [...policy(ep, dir), { action: accept, note: 'no policy: allow' }],
    });
    f.push(endpointChain(n.fromEndpoint(ep.iface), 'from'), endpointChain(n.toEndpoint(ep.iface), 'to'));
  }
  state.filter.hooks.push(
    { table: 'filter', hook: 'INPUT', target: n.hook('INPUT') },
    { table: 'filter', hook: 'FORWARD', target: n.hook('FORWARD') },
    { table: 'filter', hook: 'OUTPUT', target: n.hook('OUTPUT') },
  );
  return state;
}
