/**
 * Applies one received UPDATE to a peer's Adj-RIB-In and the Loc-RIB.
 * Fast path (IPv4 only, no MP attributes, attribute set already interned): scanUpdate +
 * packIPv4Prefixes, no objects per prefix. Everything else goes through the object
 * decoder, which also classifies errors per RFC 7606: session-reset errors are thrown
 * (BgpDecodeError → NOTIFICATION), treat-as-withdraw turns the announced routes into
 * withdrawals, attribute-discard drops the bad attributes. Only sets that decoded clean or
 * with attribute-discard are interned (keyed by their octets and the session's AS width and
 * peer type), so a fast-path hit is a set already classified as usable. An UPDATE that only
 * withdraws but carries attributes is decoded too: RFC 7606 §5.2 turns its errors into a
 * session reset.
 */
import {
  addPathReceive,
  type DecodeContext,
  decodeUpdateBody,
  getAttribute,
  ipv6ToString,
  type Prefix,
  packIPv4Prefixes,
  prefixToString,
  scanUpdate,
  type UpdateError,
} from 'bgp-parser-ts';
import { type AttrSet, mpAttrKey, mpNextHopString, rawAttrKey, summarize } from './attrs.js';
import type { LocRib, RibPeer } from './loc-rib.js';
import { v4String } from './prefix-table.js';

export interface ImportContext {
  readonly localAs: number;
  readonly routerId: number;
  /** Our cluster id when we are a route reflector. */
  readonly clusterId: number | undefined;
  /** Import policy per IPv4 prefix (undefined: accept all). */
  readonly acceptV4?: ((addr: number, len: number) => boolean) | undefined;
  /** Import policy for other prefixes, given as strings. */
  readonly acceptOther?: ((prefix: string) => boolean) | undefined;
}

export interface UpdateResult {
  announced: number;
  withdrawn: number;
  /** Prefixes rejected by import policy or loop detection. */
  filtered: number;
  /** How many of the announced, withdrawn and filtered prefixes were IPv6 (the rest IPv4). */
  v6: { announced: number; withdrawn: number; filtered: number };
  /** AFI of an End-of-RIB marker (1 or 2). */
  endOfRib?: 1 | 2;
  /** Non-fatal RFC 7606 errors found (treat-as-withdraw / attribute-discard). */
  errors: UpdateError[];
  treatAsWithdraw: boolean;
}

const scratch = new Uint32Array(3 * 65536);

function loops(set: AttrSet, peer: RibPeer, ic: ImportContext): boolean {
  if (set.originatorId !== undefined && set.originatorId === ic.routerId) return true;
  if (ic.clusterId !== undefined && set.clusterList.includes(ic.clusterId)) return true;
  if (peer.ebgp) for (const s of set.asPath) if (s.asns.includes(ic.localAs)) return true;
  return false;
}

function prefixKey(p: Prefix): string {
  return p.afi === 1 ? prefixToString(p) : `${ipv6ToString(p.addr)}/${p.len}`;
}

export function applyUpdate(
  frame: Uint8Array,
  ctx: DecodeContext,
  peer: RibPeer,
  rib: LocRib,
  ic: ImportContext,
): UpdateResult {
  const res: UpdateResult = {
    announced: 0,
    withdrawn: 0,
    filtered: 0,
    v6: { announced: 0, withdrawn: 0, filtered: 0 },
    errors: [],
    treatAsWithdraw: false,
  };
  const lay = scanUpdate(frame, 19, frame.length);
  const adj = peer.adjIn;
  const ap4 = addPathReceive(ctx, 1, 1);
  if (lay.mpReach || lay.mpUnreach) return slowPath(frame, ctx, peer, rib, ic, res);
  if (
    lay.withdrawnStart === lay.withdrawnEnd &&
    lay.attrStart === lay.attrEnd &&
    lay.nlriStart === lay.nlriEnd
  ) {
    res.endOfRib = 1;
    return res;
  }
  const announces = lay.nlriEnd > lay.nlriStart;
  // §5.2: attribute errors in an UPDATE with no reachable NLRI reset the session (thrown here).
  if (!announces && lay.attrEnd > lay.attrStart)
    res.errors = decodeUpdateBody(frame, 19, frame.length, ctx).errors;
  // Withdrawals.
  if (lay.withdrawnEnd > lay.withdrawnStart) {
    const n = packIPv4Prefixes(frame, lay.withdrawnStart, lay.withdrawnEnd, ap4, scratch);
    const stride = ap4 ? 3 : 2;
    for (let i = 0; i < n; i++) {
      const a = scratch[i * stride]!;
      const l = scratch[i * stride + 1]!;
      const pid = ap4 ? scratch[i * stride + 2]! : 0;
      const changed = pid === 0 && !ap4 ? adj.deleteV4(a, l) : adj.deleteOther(v4String(a, l), pid);
      if (changed) rib.updateV4(a, l);
      res.withdrawn++;
    }
  }
  if (!announces) return res;
  const key = rawAttrKey(frame, lay.attrStart, lay.attrEnd, ctx);
  let set = rib.store.lookup(key);
  if (!set) {
    const msg = decodeUpdateBody(frame, 19, frame.length, ctx);
    res.errors = msg.errors;
    if (msg.action === 'treat-as-withdraw') {
      res.treatAsWithdraw = true;
      for (const p of msg.nlri) {
        const changed =
          p.pathId === undefined ? adj.deleteV4(u32(p.addr), p.len) : adj.deleteOther(prefixKey(p), p.pathId);
        if (changed) rib.updateV4(u32(p.addr), p.len);
        res.withdrawn++;
      }
      return res;
    }
    set = rib.store.intern(key, () => summarize(msg.attributes, ctx));
  }
  const n = packIPv4Prefixes(frame, lay.nlriStart, lay.nlriEnd, ap4, scratch);
  const stride = ap4 ? 3 : 2;
  const reject = loops(set, peer, ic);
  const accept = ic.acceptV4;
  const id = set.id;
  for (let i = 0; i < n; i++) {
    const a = scratch[i * stride]!;
    const l = scratch[i * stride + 1]!;
    const pid = ap4 ? scratch[i * stride + 2]! : 0;
    let changed: boolean;
    if (reject || (accept !== undefined && !accept(a, l))) {
      changed = ap4 ? adj.deleteOther(v4String(a, l), pid) : adj.deleteV4(a, l);
      res.filtered++;
    } else {
      changed = ap4 ? adj.setOther(v4String(a, l), pid, id) : adj.setV4(a, l, id);
      res.announced++;
    }
    if (changed) rib.updateV4(a, l);
  }
  if (set.refs === 0) rib.store.unref(id, 0);
  return res;
}

function u32(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

function slowPath(
  frame: Uint8Array,
  ctx: DecodeContext,
  peer: RibPeer,
  rib: LocRib,
  ic: ImportContext,
  res: UpdateResult,
): UpdateResult {
  const msg = decodeUpdateBody(frame, 19, frame.length, ctx);
  res.errors = msg.errors;
  const adj = peer.adjIn;
  const withdraw = (p: Prefix) => {
    const key = prefixKey(p);
    let changed: boolean;
    if (p.afi === 1 && p.pathId === undefined) changed = adj.deleteV4(u32(p.addr), p.len);
    else changed = adj.deleteOther(key, p.pathId ?? 0);
    if (changed) {
      if (p.afi === 1) rib.updateV4(u32(p.addr), p.len);
      else rib.updateOther(key);
    }
    res.withdrawn++;
    if (p.afi === 2) res.v6.withdrawn++;
  };
  const reach = getAttribute(msg, 'mp-reach');
  const unreach = getAttribute(msg, 'mp-unreach');
  if (
    unreach &&
    unreach.withdrawn.length === 0 &&
    !unreach.nlriData?.length &&
    !reach &&
    msg.nlri.length === 0
  ) {
    if (unreach.afi === 1 || unreach.afi === 2) res.endOfRib = unreach.afi;
  }
  for (const p of msg.withdrawn) withdraw(p);
  if (unreach) for (const p of unreach.withdrawn) withdraw(p);
  if (msg.action === 'treat-as-withdraw') {
    res.treatAsWithdraw = true;
    for (const p of msg.nlri) withdraw(p);
    if (reach) for (const p of reach.nlri) withdraw(p);
    return res;
  }
  const announce = (p: Prefix, set: AttrSet) => {
    const key = prefixKey(p);
    const ok =
      !loops(set, peer, ic) &&
      (p.afi === 1
        ? ic.acceptV4 === undefined || ic.acceptV4(u32(p.addr), p.len)
        : ic.acceptOther === undefined || ic.acceptOther(key));
    if (!ok) {
      res.filtered++;
      if (p.afi === 2) res.v6.filtered++;
      const changed =
        p.afi === 1 && p.pathId === undefined
          ? adj.deleteV4(u32(p.addr), p.len)
          : adj.deleteOther(key, p.pathId ?? 0);
      if (changed) p.afi === 1 ? rib.updateV4(u32(p.addr), p.len) : rib.updateOther(key);
      return;
    }
    res.announced++;
    if (p.afi === 2) res.v6.announced++;
    let changed: boolean;
    if (p.afi === 1 && p.pathId === undefined) changed = adj.setV4(u32(p.addr), p.len, set.id);
    else changed = adj.setOther(key, p.pathId ?? 0, set.id);
    if (changed) p.afi === 1 ? rib.updateV4(u32(p.addr), p.len) : rib.updateOther(key);
  };
  if (msg.nlri.length) {
    const key = mpAttrKey(frame, lay(frame).s, lay(frame).e, ctx, '');
    const set = rib.store.intern(key, () => summarize(msg.attributes, ctx));
    for (const p of msg.nlri) announce(p, set);
    if (set.refs === 0) rib.store.unref(set.id, 0);
  }
  if (reach?.nlri.length) {
    const nh = mpNextHopString(reach.nextHop);
    const key = mpAttrKey(frame, lay(frame).s, lay(frame).e, ctx, nh);
    const set = rib.store.intern(key, () => summarize(msg.attributes, ctx, nh));
    for (const p of reach.nlri) announce(p, set);
    if (set.refs === 0) rib.store.unref(set.id, 0);
  }
  return res;
}

function lay(frame: Uint8Array): { s: number; e: number } {
  const l = scanUpdate(frame, 19, frame.length);
  return { s: l.attrStart, e: l.attrEnd };
}
