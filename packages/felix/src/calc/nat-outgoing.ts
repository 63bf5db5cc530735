import { canonicalCidr, type IPPool, parseCidr } from '@tricolor/datastore';
import type { Chain } from './iptables/rules.js';

export interface IpsetSpec {
  name: string;
  type: 'hash:net';
  family: 'inet' | 'inet6';
  members: string[];
}

/** The pool set names of one IP family (`tri-all-ipam-pools`, `tri-all-ipam-pools-v6`). */
export function poolSetNames(prefix: string, family: 4 | 6 = 4): { masq: string; all: string } {
  const v = family === 6 ? '-v6' : '';
  return { masq: `${prefix}masq-ipam-pools${v}`, all: `${prefix}all-ipam-pools${v}` };
}

/**
 * The pool ipsets of each family in `families`: every pool, and the enabled ones with
 * natOutgoing. Disabled pools stay in the "all" set so traffic to their remaining pods is
 * never masqueraded.
 */
export function poolIpsets(prefix: string, pools: IPPool[], families: (4 | 6)[] = [4]): IpsetSpec[] {
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  const out: IpsetSpec[] = [];
  for (const family of families) {
    const names = poolSetNames(prefix, family);
    const mine = pools
      .filter((p) => parseCidr(p.spec.cidr)?.family === family)
      .map((p) => ({ p, cidr: canonicalCidr(p.spec.cidr)! }));
    const type = 'hash:net' as const;
    const fam = family === 6 ? ('inet6' as const) : ('inet' as const);
    out.push(
      {
        name: names.masq,
        type,
        family: fam,
        members: uniq(mine.filter((x) => x.p.spec.natOutgoing && !x.p.spec.disabled).map((x) => x.cidr)),
      },
      { name: names.all, type, family: fam, members: uniq(mine.map((x) => x.cidr)) },
    );
  }
  return out;
}

/** nat POSTROUTING: masquerade pod traffic from natOutgoing pools to anything outside all pools. */
export function natOutgoingChain(prefix: string, pools: IPPool[], family: 4 | 6 = 4): Chain {
  const names = poolSetNames(prefix, family);
  const any = pools.some(
    (p) => p.spec.natOutgoing && !p.spec.disabled && parseCidr(p.spec.cidr)?.family === family,
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
