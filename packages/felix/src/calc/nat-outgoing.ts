import { canonicalCidr, type IPPool, parseCidr } from '@tricolor/datastore';
import type { Chain } from './iptables/rules.js';

export interface IpsetSpec {
  name: string;
  type: 'hash:net';
  family: 'inet' | 'inet6';
  members: string[];
}

export function poolSetNames(prefix: string): { masq: string; all: string } {
  return { masq: `${prefix}masq-ipam-pools`, all: `${prefix}all-ipam-pools` };
}

/**
 * The pool ipsets: every IPv4 pool, and the enabled ones with natOutgoing. Disabled pools
 * stay in the "all" set so traffic to their remaining pods is never masqueraded.
 */
export function poolIpsets(prefix: string, pools: IPPool[]): IpsetSpec[] {
  const names = poolSetNames(prefix);
  const v4 = pools
    .map((p) => ({ p, c: parseCidr(p.spec.cidr) }))
    .filter((x) => x.c?.family === 4)
    .map((x) => ({ p: x.p, cidr: canonicalCidr(x.p.spec.cidr)! }));
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  return [
    {
      name: names.masq,
      type: 'hash:net',
      family: 'inet',
      members: uniq(v4.filter((x) => x.p.spec.natOutgoing && !x.p.spec.disabled).map((x) => x.cidr)),
    },
    { name: names.all, type: 'hash:net', family: 'inet', members: uniq(v4.map((x) => x.cidr)) },
  ];
}

/** nat POSTROUTING: masquerade pod traffic from natOutgoing pools to anything outside all pools. */
export function natOutgoingChain(prefix: string, pools: IPPool[]): Chain {
  const names = poolSetNames(prefix);
  const any = pools.some(
    (p) => p.spec.natOutgoing && !p.spec.disabled && parseCidr(p.spec.cidr)?.family === 4,
  );
  return {
    name: `${prefix}nat-outgoing`,
    rules: any
      ? [
          {
            match: `-m set --match-set ${names.masq} src -m set ! --match-set ${names.all} dst`,
            action: '-j MASQUERADE',
          },
        ]
      : [],
  };
}
