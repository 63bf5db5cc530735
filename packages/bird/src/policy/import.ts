/**
 * Import policy, pure: a learned route is accepted when it lies inside an enabled pool
 * (or, with no pools known — standalone mode — inside the configured import prefixes, or
 * anything when none are configured) and is not one of this node's own prefixes. The
 * kernel route goes through tunl0 for IPIP pools.
 */
import type { PoolInfo } from './originate.js';
import { type Net, netContains, netV4, parseNet } from './prefixes.js';

export interface ImportPolicy {
  accept(prefix: string): boolean;
  /** Device override for the kernel route ('tunl0' for IPIP pools). */
  device(prefix: string): string | undefined;
  /** The same for an IPv4 prefix given as numbers (no string on the bulk path). */
  deviceV4(addr: number, len: number): string | undefined;
}

export function makeImportPolicy(opts: {
  pools?: readonly PoolInfo[];
  allow?: readonly string[];
}): ImportPolicy {
  const pools = (opts.pools ?? [])
    .filter((p) => !p.disabled)
    .map((p) => ({ c: parseNet(p.cidr)!, ipip: p.ipip }))
    .filter((p) => p.c);
  const allow = (opts.allow ?? []).map((s) => parseNet(s)).filter((c): c is Net => c !== undefined);
  const usePools = opts.pools !== undefined;
  const anyIpip = pools.some((p) => p.ipip);
  return {
    accept(prefix) {
      const c = parseNet(prefix);
      if (!c) return false;
      if (usePools) return pools.some((p) => netContains(p.c, c));
      if (allow.length) return allow.some((a) => netContains(a, c));
      return true;
    },
    device(prefix) {
      if (!anyIpip) return undefined;
      const c = parseNet(prefix);
      if (!c) return undefined;
      return pools.some((p) => p.ipip && netContains(p.c, c)) ? 'tunl0' : undefined;
    },
    deviceV4(addr, len) {
      if (!anyIpip) return undefined;
      const c = netV4(addr, len);
      return pools.some((p) => p.ipip && netContains(p.c, c)) ? 'tunl0' : undefined;
    },
  };
}
