/**
 * Who may receive a path (iBGP split horizon, RFC 4456 route reflection) and the
 * reflection attributes. Pure.
 */
import type { PathAttribute } from 'bgp-parser-ts';

export interface PathSource {
  readonly peerIdx: number;
  readonly local: boolean;
  readonly ebgp: boolean;
  readonly rrClient: boolean;
  readonly routerId: number;
}

export interface PathTarget {
  readonly peerIdx: number;
  readonly ebgp: boolean;
  readonly rrClient: boolean;
}

/**
 * Never back to the peer it came from; local and eBGP-learned paths go to everyone;
 * iBGP-learned paths go to eBGP peers, and to iBGP peers only when we reflect: from a
 * client to every iBGP peer, from a non-client to clients only (RFC 4456 §6).
 */
export function mayAdvertise(src: PathSource, dst: PathTarget, isReflector: boolean): boolean {
  if (src.peerIdx === dst.peerIdx) return false;
  if (src.local || src.ebgp || dst.ebgp) return true;
  if (!isReflector) return false;
  return src.rrClient || dst.rrClient;
}

/** Adds ORIGINATOR_ID (when absent) and prepends our cluster id to CLUSTER_LIST (RFC 4456 §8). */
export function reflect(
  attrs: readonly PathAttribute[],
  originatorId: number,
  clusterId: number,
): PathAttribute[] {
  const out: PathAttribute[] = attrs.filter((a) => a.kind !== 'cluster-list');
  if (!attrs.some((a) => a.kind === 'originator-id'))
    out.push({ kind: 'originator-id', flags: 0x80, originatorId: originatorId >>> 0 });
  const old = attrs.find((a) => a.kind === 'cluster-list');
  const ids = old && old.kind === 'cluster-list' ? old.clusterIds : [];
  out.push({ kind: 'cluster-list', flags: 0x80, clusterIds: [clusterId >>> 0, ...ids] });
  return out;
}
