/**
 * The BGP decision process (RFC 4271 §9.1.2, with RFC 4456 tie-breakers), pure.
 * Order: locally originated, highest LOCAL_PREF, shortest AS_PATH, lowest ORIGIN, lowest
 * MED (only between paths from the same neighbouring AS), eBGP over iBGP, — here paths
 * that tie are equal-cost (ECMP) — then lowest router id (ORIGINATOR_ID when reflected),
 * shortest CLUSTER_LIST, lowest peer address.
 */
export interface PathAttrs {
  readonly localPref: number | undefined;
  readonly asPathLen: number;
  readonly neighborAs: number;
  readonly origin: number;
  readonly med: number | undefined;
  readonly originatorId: number | undefined;
  readonly clusterList: readonly number[];
}

export interface Candidate {
  readonly attrs: PathAttrs;
  /** Originated by this speaker. */
  readonly local: boolean;
  readonly ebgp: boolean;
  /** BGP identifier of the peer the path came from. */
  readonly peerRouterId: number;
  /** A sort key of the peer address (see addressSortKey). */
  readonly peerAddress: string;
}

const DEFAULT_LOCAL_PREF = 100;

/** Compares up to (and including) eBGP-over-iBGP: 0 means the two paths are ECMP-equal. */
export function comparePreference(a: Candidate, b: Candidate): number {
  if (a.local !== b.local) return a.local ? -1 : 1;
  const lpa = a.attrs.localPref ?? DEFAULT_LOCAL_PREF;
  const lpb = b.attrs.localPref ?? DEFAULT_LOCAL_PREF;
  if (lpa !== lpb) return lpb - lpa;
  if (a.attrs.asPathLen !== b.attrs.asPathLen) return a.attrs.asPathLen - b.attrs.asPathLen;
  if (a.attrs.origin !== b.attrs.origin) return a.attrs.origin - b.attrs.origin;
  if (a.attrs.neighborAs === b.attrs.neighborAs) {
    const ma = a.attrs.med ?? 0;
    const mb = b.attrs.med ?? 0;
    if (ma !== mb) return ma - mb;
  }
  if (a.ebgp !== b.ebgp) return a.ebgp ? -1 : 1;
  return 0;
}

/** Full order: <0 when a is better than b. Never 0 for paths from different peers. */
export function compareCandidates(a: Candidate, b: Candidate): number {
  const p = comparePreference(a, b);
  if (p !== 0) return p;
  const ida = a.attrs.originatorId ?? a.peerRouterId;
  const idb = b.attrs.originatorId ?? b.peerRouterId;
  if (ida !== idb) return ida < idb ? -1 : 1;
  if (a.attrs.clusterList.length !== b.attrs.clusterList.length)
    return a.attrs.clusterList.length - b.attrs.clusterList.length;
  if (a.peerAddress !== b.peerAddress) return a.peerAddress < b.peerAddress ? -1 : 1;
  return 0;
}

/**
 * Best path and its ECMP siblings: returns indexes into `cands`, best first, then every
 * path that ties with it up to the eBGP/iBGP step. Empty when there are no candidates.
 */
export function selectBest(cands: readonly Candidate[]): number[] {
  if (cands.length === 0) return [];
  let best = 0;
  for (let i = 1; i < cands.length; i++) if (compareCandidates(cands[i]!, cands[best]!) < 0) best = i;
  const out = [best];
  for (let i = 0; i < cands.length; i++)
    if (i !== best && !cands[i]!.local && comparePreference(cands[i]!, cands[best]!) === 0) out.push(i);
  if (out.length > 1) {
    const rest = out.slice(1).sort((x, y) => compareCandidates(cands[x]!, cands[y]!));
    return [best, ...rest];
  }
  return out;
}

/** Sort key for addresses: IPv4 as 8 hex digits, IPv6 after every IPv4 ('~' prefix). */
export function addressSortKey(addr: string): string {
  const m = /^(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(addr);
  if (m) return [m[1], m[2], m[3], m[4]].map((x) => Number(x).toString(16).padStart(2, '0')).join('');
  return `~${addr}`;
}
