/** Export policy, pure: the attributes a path carries towards one peer. */
import { ipv4FromString, type PathAttribute } from 'bgp-parser-ts';
import type { AttrSet } from '../rib/attrs.js';
import { reflect } from '../rib/reflection.js';

export interface ExportLocal {
  localAs: number;
  routerId: number;
  clusterId: number | undefined;
}

export interface OutboundPath {
  attributes: PathAttribute[];
  /** Next hop to put in NEXT_HOP / MP_REACH ('' = next hop self). */
  nextHop: string;
}

/**
 * The attributes of `set` as sent to one peer. Local routes: ORIGIN IGP, empty AS_PATH.
 * To iBGP: LOCAL_PREF kept (100 when missing), next hop unchanged (self for local routes),
 * reflection attributes when reflecting. To eBGP: our AS prepended, next hop self, no
 * LOCAL_PREF / MED / ORIGINATOR_ID / CLUSTER_LIST.
 */
export function outboundPath(
  set: AttrSet,
  src: { local: boolean; ebgp: boolean; routerId: number },
  dst: { ebgp: boolean },
  reflecting: boolean,
  local: ExportLocal,
): OutboundPath {
  let attrs: PathAttribute[] = set.attributes.filter(
    (a) => a.kind !== 'next-hop' && a.kind !== 'unknown' && a.kind !== 'trailing',
  );
  if (dst.ebgp) {
    attrs = attrs.filter(
      (a) =>
        a.kind !== 'local-pref' &&
        a.kind !== 'originator-id' &&
        a.kind !== 'cluster-list' &&
        (a.kind !== 'med' || src.local),
    );
    const path = set.asPath;
    const first = path[0];
    const segments =
      first && first.type === 2 && first.asns.length < 255
        ? [{ type: 2, asns: [local.localAs, ...first.asns] }, ...path.slice(1)]
        : [{ type: 2, asns: [local.localAs] }, ...path];
    attrs = attrs.filter((a) => a.kind !== 'as-path' && a.kind !== 'as4-path');
    attrs.push({ kind: 'as-path', flags: 0x40, segments });
    return { attributes: order(attrs), nextHop: '' };
  }
  if (!attrs.some((a) => a.kind === 'local-pref'))
    attrs.push({ kind: 'local-pref', flags: 0x40, localPref: 100 });
  if (!attrs.some((a) => a.kind === 'as-path')) attrs.push({ kind: 'as-path', flags: 0x40, segments: [] });
  if (reflecting && local.clusterId !== undefined) attrs = reflect(attrs, src.routerId, local.clusterId);
  return { attributes: order(attrs), nextHop: src.local ? '' : set.nextHop };
}

const RANK: Record<string, number> = {
  origin: 1,
  'as-path': 2,
  'next-hop': 3,
  med: 4,
  'local-pref': 5,
  'atomic-aggregate': 6,
  aggregator: 7,
  communities: 8,
  'originator-id': 9,
  'cluster-list': 10,
};

function order(attrs: PathAttribute[]): PathAttribute[] {
  return attrs.sort((a, b) => (RANK[a.kind] ?? 20) - (RANK[b.kind] ?? 20));
}

/** Attributes of a route this speaker originates. */
export function localAttributes(): PathAttribute[] {
  return [
    { kind: 'origin', flags: 0x40, origin: 0 },
    { kind: 'as-path', flags: 0x40, segments: [] },
  ];
}

export function ipv4OrZero(s: string): number {
  try {
    return ipv4FromString(s);
  } catch {
    return 0;
  }
}
