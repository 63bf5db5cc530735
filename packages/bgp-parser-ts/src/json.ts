import { type AsPathSegment, communityToString, mpNextHops } from './attributes/index.js';
import { AS_PATH_SEGMENT_NAMES, CAPABILITY_NAMES, ORIGIN_NAMES } from './constants.js';
import { addPathReceive, DEFAULT_CONTEXT, type DecodeContext } from './context.js';
import type { BgpDecodeError, UpdateError } from './errors.js';
import {
  type BgpMessage,
  effectiveAggregator,
  effectiveAsPath,
  getAttribute,
  openCapabilities,
} from './messages/index.js';
import type { UpdateMessage } from './messages/update.js';
import { ipv4ToString, type Prefix, prefixToString } from './prefix.js';
import { toHex } from './writer.js';

export type JsonValue = string | number | boolean | null | JsonValue[] | { [k: string]: JsonValue };
type JsonObject = { [k: string]: JsonValue };

function prefixes(list: readonly Prefix[], addPath: boolean): JsonValue[] {
  return list.map((p) =>
    addPath ? { prefix: prefixToString(p), pathId: p.pathId ?? 0 } : prefixToString(p),
  );
}

function segments(segs: readonly AsPathSegment[]): JsonValue[] {
  return segs.map((s) => ({ type: AS_PATH_SEGMENT_NAMES[s.type] ?? String(s.type), asns: [...s.asns] }));
}

function updateAttributes(u: UpdateMessage, ctx: DecodeContext): JsonObject {
  const out: JsonObject = {};
  const origin = getAttribute(u, 'origin');
  if (origin) out['origin'] = ORIGIN_NAMES[origin.origin] ?? origin.origin;
  const asPath = getAttribute(u, 'as-path');
  if (asPath) {
    const eff = effectiveAsPath(u, ctx)!;
    out['asPath'] = segments(eff);
    if (eff !== asPath.segments) out['asPathRaw'] = segments(asPath.segments);
  }
  const as4 = getAttribute(u, 'as4-path');
  if (as4) out['as4Path'] = segments(as4.segments);
  const nh = getAttribute(u, 'next-hop');
  if (nh) out['nextHop'] = ipv4ToString(nh.nextHop);
  const med = getAttribute(u, 'med');
  if (med) out['med'] = med.med;
  const lp = getAttribute(u, 'local-pref');
  if (lp) out['localPref'] = lp.localPref;
  if (getAttribute(u, 'atomic-aggregate')) out['atomicAggregate'] = true;
  const agg = effectiveAggregator(u, ctx);
  if (agg) out['aggregator'] = { as: agg.as, address: ipv4ToString(agg.address) };
  const as4agg = getAttribute(u, 'as4-aggregator');
  if (as4agg) out['as4Aggregator'] = { as: as4agg.as, address: ipv4ToString(as4agg.address) };
  const comm = getAttribute(u, 'communities');
  if (comm) out['communities'] = comm.communities.map(communityToString);
  const large = getAttribute(u, 'large-communities');
  if (large) out['largeCommunities'] = large.communities.map((c) => c.join(':'));
  const ext = getAttribute(u, 'extended-communities');
  if (ext) out['extendedCommunities'] = ext.communities.map(toHex);
  const orig = getAttribute(u, 'originator-id');
  if (orig) out['originatorId'] = ipv4ToString(orig.originatorId);
  const cl = getAttribute(u, 'cluster-list');
  if (cl) out['clusterList'] = cl.clusterIds.map(ipv4ToString);
  const reach = getAttribute(u, 'mp-reach');
  if (reach) {
    const r: JsonObject = { afi: reach.afi, safi: reach.safi, nextHops: mpNextHops(reach.nextHop) };
    if (reach.nlriData) r['nlriHex'] = toHex(reach.nlriData);
    else r['nlri'] = prefixes(reach.nlri, addPathReceive(ctx, reach.afi, reach.safi));
    out['mpReach'] = r;
  }
  const unreach = getAttribute(u, 'mp-unreach');
  if (unreach) {
    const r: JsonObject = { afi: unreach.afi, safi: unreach.safi };
    if (unreach.nlriData) r['withdrawnHex'] = toHex(unreach.nlriData);
    else r['withdrawn'] = prefixes(unreach.withdrawn, addPathReceive(ctx, unreach.afi, unreach.safi));
    out['mpUnreach'] = r;
  }
  const unknown: JsonValue[] = [];
  for (const a of u.attributes) {
    if (a.kind === 'unknown') unknown.push({ typeCode: a.code, flags: a.flags, hex: toHex(a.data) });
    else if (a.kind === 'trailing') unknown.push({ typeCode: -1, flags: 0, hex: toHex(a.data) });
  }
  if (unknown.length) out['unknown'] = unknown;
  return out;
}

/** The CLI's JSON form of a decoded message (`length` is the message's length in octets). */
export function messageToJson(
  m: BgpMessage,
  length: number,
  ctx: DecodeContext = DEFAULT_CONTEXT,
): JsonObject {
  switch (m.type) {
    case 'OPEN': {
      const out: JsonObject = {
        type: 'OPEN',
        length,
        version: m.version,
        myAs: m.myAs,
        holdTime: m.holdTime,
        bgpId: ipv4ToString(m.bgpId),
        capabilities: openCapabilities(m).map((c): JsonObject => {
          if (c.kind === 'unknown') return { code: c.code, name: 'unknown', hex: toHex(c.data) };
          const { kind, ...rest } = c;
          const code = Number(Object.entries(CAPABILITY_NAMES).find(([, v]) => v === kind)![0]);
          return { code, name: kind, ...(rest as JsonObject) };
        }),
      };
      if (m.extendedParams) out['extendedParams'] = true;
      out['action'] = 'none';
      return out;
    }
    case 'UPDATE': {
      const ap = addPathReceive(ctx, 1, 1);
      const out: JsonObject = {
        type: 'UPDATE',
        length,
        withdrawn: prefixes(m.withdrawn, ap),
        nlri: prefixes(m.nlri, ap),
        attributes: updateAttributes(m, ctx),
        errors: m.errors.map(updateErrorToJson),
        action: m.action ?? 'none',
      };
      if (m.action === 'treat-as-withdraw') out['treatAsWithdraw'] = true;
      return out;
    }
    case 'NOTIFICATION': {
      const out: JsonObject = {
        type: 'NOTIFICATION',
        length,
        code: m.code,
        subcode: m.subcode,
        data: toHex(m.data),
      };
      if (m.shutdownMessage !== undefined) out['shutdownMessage'] = m.shutdownMessage;
      out['action'] = 'none';
      return out;
    }
    case 'KEEPALIVE':
      return { type: 'KEEPALIVE', length, action: 'none' };
    case 'ROUTE-REFRESH':
      return { type: 'ROUTE-REFRESH', length, afi: m.afi, safi: m.safi, subtype: m.subtype, action: 'none' };
  }
}

/** One UPDATE error: its action, the NOTIFICATION it stands for, and the rule that says so. */
export function updateErrorToJson(e: UpdateError): JsonObject {
  const out: JsonObject = { action: e.action, code: e.code, subcode: e.subcode, message: e.message };
  if (e.data.length) out['data'] = toHex(e.data);
  if (e.typeCode !== undefined) out['typeCode'] = e.typeCode;
  if (e.afi !== undefined) out['afi'] = e.afi;
  if (e.safi !== undefined) out['safi'] = e.safi;
  if (e.rule !== undefined) out['rule'] = e.rule;
  return out;
}

/**
 * A message that must reset the session: the NOTIFICATION to send (`error`), the action, and
 * for an UPDATE every error found in it.
 */
export function errorToJson(e: BgpDecodeError): JsonObject {
  const error: JsonObject = { code: e.code, subcode: e.subcode, message: e.message, data: toHex(e.data) };
  if (e.rule !== undefined) error['rule'] = e.rule;
  const out: JsonObject = { error, action: 'session-reset' };
  if (e.errors.length) out['errors'] = e.errors.map(updateErrorToJson);
  return out;
}
