import { type Cidr, familyBits, type IpAddress, mask, parseCidr } from '@tricolor/datastore';

/**
 * Cutting pools into blocks, and the order a node tries them in: pseudo-random but
 * seeded by the node name, so one node always walks the same sequence (its processes
 * converge on the same next block instead of each claiming one) while different nodes
 * spread across the pool.
 */

/** FNV-1a, 32 bit. */
export function hashString(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** mulberry32: a small deterministic PRNG returning floats in [0, 1). */
export function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Fisher-Yates shuffle of 0..n-1 with the given random source. */
export function shuffledIndexes(n: number, random: () => number): number[] {
  const a = Array.from({ length: n }, (_, i) => i);
  for (let i = n - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
}

export function blockCount(pool: Cidr, blockSize: number): bigint {
  return 1n << BigInt(blockSize - pool.prefixLength);
}

/** The index-th block of a pool. */
export function blockAt(pool: Cidr, blockSize: number, index: bigint): Cidr {
  const step = 1n << BigInt(familyBits(pool.family) - blockSize);
  return { family: pool.family, address: pool.address + index * step, prefixLength: blockSize };
}

/** The block (of the given size) an address falls into. */
export function blockOfIp(ip: IpAddress, blockSize: number): Cidr {
  return { family: ip.family, address: ip.value & mask(ip.family, blockSize), prefixLength: blockSize };
}

/** Pools of at most this many blocks are fully shuffled; larger ones are walked from a seeded start. */
export const SHUFFLE_LIMIT = 1 << 16;

const orderCache = new Map<string, number[]>();

/**
 * The blocks of a pool in the order `node` tries them. Pools of up to SHUFFLE_LIMIT blocks
 * are shuffled completely; bigger ones (IPv6 /64s) start at a seeded offset and wrap.
 */
export function* blockOrder(node: string, pool: Cidr | string, blockSize: number): Generator<Cidr> {
  const p = typeof pool === 'string' ? parseCidr(pool)! : pool;
  const count = blockCount(p, blockSize);
  const seed = hashString(`${node}|${p.address}/${p.prefixLength}|${blockSize}`);
  if (count <= BigInt(SHUFFLE_LIMIT)) {
    const key = `${seed}|${count}`;
    let order = orderCache.get(key);
    if (!order) {
      order = shuffledIndexes(Number(count), seededRandom(seed));
      if (orderCache.size > 256) orderCache.clear();
      orderCache.set(key, order);
    }
    for (const i of order) yield blockAt(p, blockSize, BigInt(i));
    return;
  }
  const r = seededRandom(seed);
  // 53 random bits are plenty to pick a start inside 2^n blocks.
  const start =
    (BigInt(Math.floor(r() * 2 ** 26)) * BigInt(2 ** 27) + BigInt(Math.floor(r() * 2 ** 27))) % count;
  for (let i = 0n; i < count; i++) yield blockAt(p, blockSize, (start + i) % count);
}
