import {
  type Cidr,
  canonicalCidr,
  cidrContains,
  cidrContainsIp,
  cidrsOverlap,
  compileSelector,
  type IPPool,
  type IpAddress,
  type Labels,
  parseCidr,
} from '@tricolor/datastore';

export class PoolError extends Error {
  override readonly name = 'PoolError';
}

/** The minimal pool shape the overlap check needs (an IPPool fits). */
export interface PoolLike {
  metadata: { name: string };
  spec: { cidr: string };
}

/**
 * Whether `newPool` overlaps any other pool (pools with the same name are the same pool
 * being updated, and are skipped). Returns the message to show, or undefined when it fits.
 */
export function checkPoolOverlap(pools: readonly PoolLike[], newPool: PoolLike): string | undefined {
  const c = parseCidr(newPool.spec.cidr);
  if (!c)
    return `IPPool ${JSON.stringify(newPool.metadata.name)} spec.cidr: ${newPool.spec.cidr} is not a CIDR`;
  for (const p of pools) {
    if (p.metadata.name === newPool.metadata.name) continue;
    const o = parseCidr(p.spec.cidr);
    if (o && cidrsOverlap(o, c)) {
      return (
        `IPPool ${JSON.stringify(newPool.metadata.name)} spec.cidr: ${newPool.spec.cidr} overlaps ` +
        `IPPool ${JSON.stringify(p.metadata.name)} (${p.spec.cidr})`
      );
    }
  }
  return undefined;
}

export interface PoolChoice {
  pool: IPPool;
  cidr: Cidr;
}

/**
 * The pools a node may allocate from, for one family: enabled, nodeSelector matching
 * the node's labels, and (when `requested` is given) named by name or CIDR. A requested
 * pool that does not exist is an error; a requested pool that is disabled is left out.
 */
export function selectPools(
  pools: readonly IPPool[],
  opts: { family: 4 | 6; labels: Labels; requested?: readonly string[] },
): PoolChoice[] {
  let candidates = pools;
  if (opts.requested && opts.requested.length > 0) {
    candidates = opts.requested.map((r) => {
      const canon = canonicalCidr(r);
      const p = pools.find((x) => x.metadata.name === r || (canon && canonicalCidr(x.spec.cidr) === canon));
      if (!p) throw new PoolError(`pools: ${JSON.stringify(r)} is not the name or CIDR of an IPPool`);
      return p;
    });
  }
  const out: PoolChoice[] = [];
  for (const pool of candidates) {
    const cidr = parseCidr(pool.spec.cidr);
    if (!cidr || cidr.family !== opts.family || pool.spec.disabled) continue;
    let selected = true;
    try {
      selected = compileSelector(pool.spec.nodeSelector || 'all()')(opts.labels);
    } catch {
      selected = false;
    }
    if (selected && !out.some((o) => o.pool.metadata.name === pool.metadata.name)) out.push({ pool, cidr });
  }
  return out;
}

export function poolOfBlock(pools: readonly PoolChoice[], block: Cidr): PoolChoice | undefined {
  return pools.find((p) => cidrContains(p.cidr, block));
}

export function poolOfIp(pools: readonly IPPool[], ip: IpAddress): IPPool | undefined {
  return pools.find((p) => {
    const c = parseCidr(p.spec.cidr);
    return c !== undefined && cidrContainsIp(c, ip);
  });
}
