/**
 * What this node originates, pure (etcd mode): confirmed affine blocks and borrowed /32s,
 * never per-pod /32s of our own blocks, nothing from pools with disableBGPExport.
 */
import { cidrContains, parseCidr } from '@tricolor/datastore';

export interface PoolInfo {
  cidr: string;
  disabled: boolean;
  disableBGPExport: boolean;
  ipip: boolean;
}

/**
 * Prefixes this node originates: its blocks and the addresses it borrowed from others'
 * blocks, minus anything inside a pool with disableBGPExport (or a disabled pool), and
 * minus /32s that fall inside one of our own blocks.
 */
export function exportedPrefixes(input: {
  ownBlocks: readonly string[];
  borrowed: readonly string[];
  pools: readonly PoolInfo[];
}): string[] {
  const blocked = input.pools.filter((p) => p.disableBGPExport || p.disabled).map((p) => parseCidr(p.cidr)!);
  const own = input.ownBlocks.map((b) => parseCidr(b)).filter((c) => c !== undefined);
  const out = new Set<string>();
  const ok = (s: string) => {
    const c = parseCidr(s);
    return c !== undefined && !blocked.some((b) => cidrContains(b, c));
  };
  for (const b of input.ownBlocks) if (ok(b)) out.add(b);
  for (const a of input.borrowed) {
    const c = parseCidr(a.includes('/') ? a : `${a}/${a.includes(':') ? 128 : 32}`);
    if (!c || own.some((b) => cidrContains(b, c))) continue;
    const s = `${a.split('/')[0]}/${c.family === 4 ? 32 : 128}`;
    if (ok(s)) out.add(s);
  }
  return [...out].sort();
}
