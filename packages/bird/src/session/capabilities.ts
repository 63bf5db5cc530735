/**
 * Our OPEN and what two OPENs negotiate: families (RFC 4760), 4-octet AS (RFC 6793),
 * route refresh (RFC 2918), graceful restart (RFC 4724), add-path receive (RFC 7911).
 */
import {
  type Capability,
  type DecodeContext,
  makeOpen,
  negotiateContext,
  type OpenMessage,
  openAs,
  openCapabilities,
} from 'bgp-parser-ts';

export type Family = 'ipv4' | 'ipv6';
export const AFI: Record<Family, 1 | 2> = { ipv4: 1, ipv6: 2 };

export interface LocalOpenConfig {
  localAs: number;
  routerId: number;
  holdTime: number;
  families: readonly Family[];
  /** Advertise graceful restart with this restart time; restarting sets the R bit. */
  gracefulRestart?: { restartTime: number; restarting: boolean } | undefined;
  addPathReceive: boolean;
}

export function buildOpen(c: LocalOpenConfig): OpenMessage {
  const caps: Capability[] = c.families.map((f) => ({
    kind: 'multiprotocol',
    afi: AFI[f],
    safi: 1,
    reserved: 0,
  }));
  caps.push({ kind: 'route-refresh' });
  if (c.gracefulRestart) {
    caps.push({
      kind: 'graceful-restart',
      restartFlags: c.gracefulRestart.restarting ? 8 : 0,
      restartTime: c.gracefulRestart.restartTime,
      // Forwarding state is preserved: the kernel routes stay while we restart.
      families: c.families.map((f) => ({ afi: AFI[f], safi: 1, flags: 0x80 })),
    });
  }
  caps.push({ kind: 'four-octet-as', as: c.localAs });
  if (c.addPathReceive)
    caps.push({ kind: 'add-path', families: c.families.map((f) => ({ afi: AFI[f], safi: 1, mode: 1 })) });
  return makeOpen({ as: c.localAs, holdTime: c.holdTime, bgpId: c.routerId, capabilities: caps });
}

export interface Negotiated {
  ctx: DecodeContext;
  peerAs: number;
  peerId: number;
  holdTime: number;
  keepaliveTime: number;
  families: Set<Family>;
  routeRefresh: boolean;
  /** The peer's graceful-restart capability, when both sides announced it. */
  gracefulRestart?: { restartTime: number; restarting: boolean; families: Map<1 | 2, boolean> };
}

export interface OpenProblem {
  code: number;
  subcode: number;
  data?: Uint8Array;
  message: string;
}

/** Checks the peer's OPEN against what we expect and negotiates; an OpenProblem means NOTIFICATION. */
export function negotiate(
  local: OpenMessage,
  remote: OpenMessage,
  expect: { peerAs?: number | undefined; keepaliveTime?: number | undefined },
): Negotiated | OpenProblem {
  const peerAs = openAs(remote);
  if (expect.peerAs !== undefined && peerAs !== expect.peerAs) {
    const data = new Uint8Array([(remote.myAs >> 8) & 255, remote.myAs & 255]);
    return { code: 2, subcode: 2, data, message: `peer AS ${peerAs}, expected ${expect.peerAs}` };
  }
  if (remote.bgpId === local.bgpId) return { code: 2, subcode: 3, message: 'peer uses our BGP identifier' };
  const rc = openCapabilities(remote);
  const lc = openCapabilities(local);
  const holdTime = Math.min(local.holdTime, remote.holdTime);
  const keepaliveTime =
    holdTime === 0
      ? 0
      : Math.max(1, Math.min(expect.keepaliveTime ?? Math.floor(holdTime / 3), Math.floor(holdTime / 3)));
  const mp = rc.filter((c) => c.kind === 'multiprotocol');
  const families = new Set<Family>();
  const offered = (afi: number) =>
    lc.some((c) => c.kind === 'multiprotocol' && c.afi === afi && c.safi === 1);
  if (mp.length === 0) {
    if (offered(1)) families.add('ipv4'); // RFC 4760: no MP capability means IPv4 unicast only
  } else {
    for (const c of mp)
      if (c.kind === 'multiprotocol' && c.safi === 1 && offered(c.afi)) {
        if (c.afi === 1) families.add('ipv4');
        if (c.afi === 2) families.add('ipv6');
      }
  }
  // RFC 7606 rules that depend on who the peer is (LOCAL_PREF, ORIGINATOR_ID, CLUSTER_LIST
  // from an external peer are discarded; confederation segments from one are malformed).
  const peerType = peerAs === openAs(local) ? 'internal' : 'external';
  const n: Negotiated = {
    ctx: negotiateContext(local, remote, { peerType }),
    peerAs,
    peerId: remote.bgpId,
    holdTime,
    keepaliveTime,
    families,
    routeRefresh: rc.some((c) => c.kind === 'route-refresh') && lc.some((c) => c.kind === 'route-refresh'),
  };
  const gr = rc.find((c) => c.kind === 'graceful-restart');
  if (gr && gr.kind === 'graceful-restart' && lc.some((c) => c.kind === 'graceful-restart')) {
    const fam = new Map<1 | 2, boolean>();
    for (const f of gr.families)
      if ((f.afi === 1 || f.afi === 2) && f.safi === 1) fam.set(f.afi, (f.flags & 0x80) !== 0);
    n.gracefulRestart = {
      restartTime: gr.restartTime,
      restarting: (gr.restartFlags & 8) !== 0,
      families: fam,
    };
  }
  return n;
}
