import { cidrContains, type Datastore, type IPPool, ipamKeys, parseCidr } from '@tricolor/datastore';
import { tryDecodeBlock } from '@tricolor/ipam';

/** One of this node's IPAM blocks: its CIDR and how many of its addresses are allocated. */
export interface BlockUsage {
  cidr: string;
  allocated: number;
}

/** Per IP pool: this node's blocks and the addresses allocated in them. */
export interface PoolUsage {
  ippool: string;
  blocks: number;
  inUse: number;
}

/**
 * What the `ipam_blocks` / `ipam_allocations_in_use` gauges show for this node: every pool
 * (zero rows too, so a pool whose last block went reads 0), each block counted in the first
 * pool that contains it. Pure.
 */
export function poolUsage(pools: IPPool[], blocks: BlockUsage[]): PoolUsage[] {
  const rows = pools.map((p) => ({
    pool: p,
    cidr: parseCidr(p.spec.cidr),
    row: { ippool: p.metadata.name, blocks: 0, inUse: 0 },
  }));
  for (const b of blocks) {
    const c = parseCidr(b.cidr);
    const hit = c && rows.find((r) => r.cidr && cidrContains(r.cidr, c));
    if (!hit) continue;
    hit.row.blocks++;
    hit.row.inUse += b.allocated;
  }
  return rows.map((r) => r.row);
}

/**
 * Reads this node's blocks from etcd with IPAM's own decoder. An owned block whose object is not written yet counts with 0 addresses;
 * an undecodable one is skipped (`tricolorctl ipam check` reports it). A handful of GETs:
 * a node owns few blocks.
 */
export async function readBlockUsage(ds: Datastore, cidrs: string[]): Promise<BlockUsage[]> {
  const out: BlockUsage[] = [];
  for (const cidr of cidrs) {
    const c = parseCidr(cidr);
    if (!c) continue;
    const v = await ds.kv.get(ipamKeys.block(ds.prefix, c));
    const block = v ? tryDecodeBlock(v.value) : undefined;
    if (v && !block) continue;
    out.push({ cidr, allocated: block ? block.allocations.filter((a) => a !== null).length : 0 });
  }
  return out;
}
