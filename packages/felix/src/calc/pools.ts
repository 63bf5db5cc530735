import { canonicalCidr, type IPPool, parseCidr } from '@tricolor/datastore';
import type { FelixSettings } from '../config-types.js';
import { canonicalMember, type IpsetMeta, memberKey } from '../dataplane/items.js';
import type { CalcGraph, Calculator } from './graph.js';
import type { Chain } from './iptables/rules.js';
import type { Outputs } from './outputs.js';

export interface IpsetSpec {
  name: string;
  type: IpsetMeta['type'];
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
export function poolIpsets(prefix: string, pools: Iterable<IPPool>, families: (4 | 6)[] = [4]): IpsetSpec[] {
  const uniq = (xs: string[]) => [...new Set(xs)].sort();
  const out: IpsetSpec[] = [];
  const list = [...pools];
  for (const family of families) {
    const names = poolSetNames(prefix, family);
    const mine = list
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
export function natOutgoingChain(prefix: string, pools: Iterable<IPPool>, family: 4 | 6 = 4): Chain {
  const names = poolSetNames(prefix, family);
  const any = [...pools].some(
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

/** Whether felix programs IPv6 (ip6tables, IPv6 pool sets): as configured, or ('auto') while an IPv6 pool exists. */
export function wantsIpv6(s: Pick<FelixSettings, 'ipv6Support'>, pools: Iterable<IPPool>): boolean {
  if (s.ipv6Support !== 'auto') return s.ipv6Support;
  for (const p of pools) if (parseCidr(p.spec.cidr)?.family === 6) return true;
  return false;
}

/**
 * IP pools → the pool ipsets (members added and deleted one by one) and the IP families
 * felix programs (`ipFamilies`). Pools are few: any change recomputes them all.
 */
export class PoolCalculator implements Calculator {
  private settings: Readonly<FelixSettings> | undefined;
  private readonly pools = new Map<string, IPPool>();
  private dirty = true;
  private v6: boolean | undefined;
  private sets = new Set<string>();
  private members = new Set<string>();
  private graph: CalcGraph | undefined;

  constructor(
    private readonly chainPrefix: string,
    private readonly out: Outputs,
  ) {}

  register(g: CalcGraph): void {
    this.graph = g;
    g.on('settings', (_k, s) => {
      this.settings = s;
      this.dirty = true;
    });
    g.mirror('pool', this.pools, () => {
      this.dirty = true;
    });
  }

  /** The pools, in datastore order. */
  get all(): IPPool[] {
    return [...this.pools.values()];
  }

  flush(): void {
    if (!this.dirty || !this.settings) return;
    this.dirty = false;
    const v6 = wantsIpv6(this.settings, this.pools.values());
    if (v6 !== this.v6) {
      this.v6 = v6;
      this.graph!.emit('ipFamilies', 'families', { v6 });
    }
    const { ipsets, ipsetMembers } = this.out.state;
    const sets = new Set<string>();
    const members = new Set<string>();
    for (const spec of poolIpsets(this.chainPrefix, this.pools.values(), v6 ? [4, 6] : [4])) {
      sets.add(spec.name);
      ipsets.setDesired(spec.name, { type: spec.type, family: spec.family } satisfies IpsetMeta);
      for (const m of spec.members) {
        const k = memberKey(spec.name, canonicalMember(m));
        members.add(k);
        ipsetMembers.setDesired(k, true);
      }
    }
    for (const k of this.members) if (!members.has(k)) ipsetMembers.deleteDesired(k);
    for (const s of this.sets) if (!sets.has(s)) ipsets.deleteDesired(s);
    this.sets = sets;
    this.members = members;
  }
}
