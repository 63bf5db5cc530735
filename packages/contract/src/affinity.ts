import { formatCidr, parseAffinityKey } from '@tricolor/datastore';

/**
 * Block affinities (`<prefix>ipam/v2/host/<node>/ipv4/block/<a.b.c.d-n>`, value
 * `{"state": ...}`). A claim writes `pending` before the block exists and `confirmed`
 * after the block was created with this node's affinity; a release writes
 * `pendingDeletion` before it touches the block. One decoding for every reader: IPAM,
 * felix (blackholes, VXLAN routes), bird (exports).
 */
export type AffinityState = 'pending' | 'confirmed' | 'pendingDeletion';
export const AFFINITY_STATES: readonly AffinityState[] = ['pending', 'confirmed', 'pendingDeletion'];

export function encodeAffinity(state: AffinityState): string {
  return JSON.stringify({ state });
}

/**
 * The state of a stored affinity. Anything else — an unknown state, unreadable JSON — counts
 * as `pending`: a claim that never finished, which gives no ownership.
 */
export function decodeAffinity(text: string): AffinityState {
  try {
    const s = (JSON.parse(text) as { state?: unknown }).state;
    return AFFINITY_STATES.includes(s as AffinityState) ? (s as AffinityState) : 'pending';
  } catch {
    return 'pending';
  }
}

export interface AffinityEntry {
  node: string;
  /** Canonical block CIDR, e.g. "10.244.1.0/26". */
  block: string;
  state: AffinityState;
  key: string;
}

/** One stored affinity (key and value), or undefined when the key is not an affinity key. */
export function decodeAffinityEntry(prefix: string, key: string, value: string): AffinityEntry | undefined {
  const parsed = parseAffinityKey(prefix, key);
  if (!parsed) return undefined;
  return { node: parsed.node, block: formatCidr(parsed.block), state: decodeAffinity(value), key };
}

/** Decodes raw affinity key/values (any prefix listing); entries that are not affinities are skipped. */
export function parseAffinities(entries: { key: string; value: string }[], prefix: string): AffinityEntry[] {
  const out: AffinityEntry[] = [];
  for (const e of entries) {
    const a = decodeAffinityEntry(prefix, e.key, e.value);
    if (a) out.push(a);
  }
  return out;
}

/**
 * The blackhole contract: a node owns a block when its affinity is *confirmed*. A pending
 * affinity may still lose its block to another host; a pendingDeletion one is being given up.
 */
export const ownsBlock = (a: { state: string }): boolean => a.state === 'confirmed';

/** The blocks `node` owns (its confirmed affinities), sorted IPv4 first. */
export function ownedBlocksFromAffinities(
  node: string,
  entries: { key: string; value: string }[],
  prefix: string,
): string[] {
  return parseAffinities(entries, prefix)
    .filter((a) => a.node === node && ownsBlock(a))
    .map((a) => a.block)
    .sort(compareCidrText);
}

/** Orders CIDR strings IPv4 first, then by text (stable and readable, not numeric). */
export function compareCidrText(a: string, b: string): number {
  const fa = a.includes(':') ? 6 : 4;
  const fb = b.includes(':') ? 6 : 4;
  if (fa !== fb) return fa - fb;
  return a < b ? -1 : a > b ? 1 : 0;
}
