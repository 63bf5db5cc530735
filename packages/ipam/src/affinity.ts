import { formatCidr, parseAffinityKey } from '@tricolor/datastore';

/**
 * Affinity records (`<prefix>ipam/v2/host/<node>/ipv4/block/<a.b.c.d-n>`, value
 * `{"state": ...}`). A claim writes `pending` before the block exists and `confirmed`
 * after the block was created with this node's affinity; a release writes
 * `pendingDeletion` before it touches the block.
 */
export type AffinityState = 'pending' | 'confirmed' | 'pendingDeletion';
export const AFFINITY_STATES: readonly AffinityState[] = ['pending', 'confirmed', 'pendingDeletion'];

export function encodeAffinity(state: AffinityState): string {
  return JSON.stringify({ state });
}

/** The state of a stored affinity; unreadable values count as pending (a claim that never finished). */
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

/** Decodes raw affinity key/values (any prefix listing); entries that are not affinities are skipped. */
export function parseAffinities(entries: { key: string; value: string }[], prefix: string): AffinityEntry[] {
  const out: AffinityEntry[] = [];
  for (const e of entries) {
    const parsed = parseAffinityKey(prefix, e.key);
    if (!parsed) continue;
    out.push({
      node: parsed.node,
      block: formatCidr(parsed.block),
      state: decodeAffinity(e.value),
      key: e.key,
    });
  }
  return out;
}

/**
 * The blackhole contract: the blocks a node owns are its *confirmed* affinities. A pending
 * affinity may still lose its block to another host; a pendingDeletion one is being given up.
 * Sorted, IPv4 before IPv6.
 */
export function ownedBlocksFromAffinities(
  node: string,
  entries: { key: string; value: string }[],
  prefix: string,
): string[] {
  return parseAffinities(entries, prefix)
    .filter((a) => a.node === node && a.state === 'confirmed')
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
