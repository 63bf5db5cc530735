import {
  type AsPathSegment,
  type AttributeKind,
  type KnownAttribute,
  mergeAs4Path,
  type PathAttribute,
  SPEC_BY_CODE,
  SPEC_BY_KIND,
} from '../attributes/index.js';
import { isProblem, type UnknownAttribute } from '../attributes/types.js';
import { AS_TRANS, MessageType } from '../constants.js';
import { addPathReceive, addPathSend, DEFAULT_CONTEXT, type DecodeContext } from '../context.js';
import {
  BgpDecodeError,
  type UpdateError,
  type UpdateErrorAction,
  updateError,
  worstAction,
} from '../errors.js';
import { finishHeader, writeHeader } from '../header.js';
import { decodePrefixes, encodePrefixes, type Prefix } from '../prefix.js';
import { u16, Writer } from '../writer.js';

/** What an UPDATE carries; this is also what encodeUpdate takes. */
export interface UpdateFields {
  /** IPv4 unicast withdrawn routes (the Withdrawn Routes field). */
  withdrawn: Prefix[];
  /** Path attributes in wire order (malformed, duplicate and unknown ones kept as bytes). */
  attributes: PathAttribute[];
  /** IPv4 unicast NLRI (the NLRI field). */
  nlri: Prefix[];
}

export interface UpdateMessage extends UpdateFields {
  type: 'UPDATE';
  /**
   * The Path Attributes field exactly as received: a view into the decoded buffer (copy it
   * if the buffer is reused). Identical attribute sets have identical bytes, so a speaker
   * can intern/share them by these bytes.
   */
  rawAttributes: Uint8Array;
  /** Non-fatal RFC 7606 errors (fatal ones are thrown as BgpDecodeError). */
  errors: UpdateError[];
  /**
   * 'treat-as-withdraw' when every route the UPDATE announces (NLRI field and MP_REACH_NLRI)
   * must be handled as withdrawn; 'attribute-discard' when some attributes were dropped;
   * undefined when the UPDATE is clean.
   */
  action?: UpdateErrorAction;
}

const WELL_KNOWN_DATA = (code: number) => new Uint8Array([code]);

/**
 * Decodes the path attributes field buf[off..end) per RFC 4271 §6.3 / RFC 7606, appending
 * to `attrs` and `errors`. Throws BgpDecodeError only when RFC 7606 requires a session reset.
 */
export function decodeAttributes(
  buf: Uint8Array,
  off: number,
  end: number,
  ctx: DecodeContext,
  attrs: PathAttribute[],
  errors: UpdateError[],
): void {
  const seen = new Uint8Array(256);
  let i = off;
  while (i < end) {
    const flags = buf[i]!;
    const hl = flags & 0x10 ? 4 : 3;
    let len = -1;
    if (i + hl <= end) len = hl === 4 ? u16(buf, i + 2) : buf[i + 2]!;
    if (len < 0 || i + hl + len > end) {
      const data = buf.slice(i, end);
      const error = updateError(
        'treat-as-withdraw',
        1,
        new Uint8Array(0),
        'attribute overruns the attribute field',
      );
      attrs.push({ kind: 'trailing', data, error });
      errors.push(error);
      return;
    }
    const code = buf[i + 1]!;
    const valueStart = i + hl;
    const next = valueStart + len;
    const spec = SPEC_BY_CODE[code];
    if (seen[code]) {
      if (code === 14 || code === 15) {
        throw new BgpDecodeError(
          3,
          1,
          new Uint8Array(0),
          `duplicate ${code === 14 ? 'MP_REACH' : 'MP_UNREACH'}_NLRI`,
        );
      }
      const error = updateError(
        'attribute-discard',
        1,
        buf.slice(i, next),
        `duplicate attribute ${code}`,
        code,
      );
      attrs.push({ kind: 'unknown', code, flags, data: buf.slice(valueStart, next), error });
      errors.push(error);
      i = next;
      continue;
    }
    seen[code] = 1;
    if (spec === undefined) {
      const a: UnknownAttribute = { kind: 'unknown', code, flags, data: buf.slice(valueStart, next) };
      if (!(flags & 0x80)) {
        // RFC 4271 §6.3: an unrecognized attribute whose Optional bit is clear claims to be well-known.
        a.error = updateError(
          'treat-as-withdraw',
          2,
          buf.slice(i, next),
          `unrecognized well-known attribute ${code}`,
          code,
        );
        errors.push(a.error);
      }
      attrs.push(a);
      i = next;
      continue;
    }
    let subcode = 0;
    let detail = '';
    if ((flags & 0xc0) !== spec.flags) {
      subcode = 4;
      detail = `flags 0x${flags.toString(16)} on attribute ${code}`;
    } else {
      const r = spec.decode(buf.subarray(valueStart, next), flags, ctx);
      if (isProblem(r)) {
        subcode = r.subcode;
        detail = r.detail;
      } else {
        attrs.push(r);
      }
    }
    if (subcode !== 0) {
      if (spec.onError === 'session-reset') throw new BgpDecodeError(3, subcode, buf.slice(i, next), detail);
      const error = updateError(spec.onError, subcode, buf.slice(i, next), detail, code);
      attrs.push({ kind: 'unknown', code, flags, data: buf.slice(valueStart, next), error });
      errors.push(error);
    }
    i = next;
  }
}

/** Decodes an UPDATE body buf[off..end) (after the 19-octet header). */
export function decodeUpdateBody(
  buf: Uint8Array,
  off: number,
  end: number,
  ctx: DecodeContext = DEFAULT_CONTEXT,
): UpdateMessage {
  if (end - off < 4) throw new BgpDecodeError(3, 1, new Uint8Array(0), 'UPDATE body shorter than 4 octets');
  const wLen = u16(buf, off);
  const wStart = off + 2;
  const wEnd = wStart + wLen;
  if (wEnd + 2 > end)
    throw new BgpDecodeError(3, 1, new Uint8Array(0), 'withdrawn routes length overruns the message');
  const aLen = u16(buf, wEnd);
  const aStart = wEnd + 2;
  const aEnd = aStart + aLen;
  if (aEnd > end)
    throw new BgpDecodeError(3, 1, new Uint8Array(0), 'total path attribute length overruns the message');
  const ipv4AddPath = addPathReceive(ctx, 1, 1);
  const withdrawn = decodePrefixes(buf, wStart, wEnd, 1, ipv4AddPath, 10);
  const attributes: PathAttribute[] = [];
  const errors: UpdateError[] = [];
  decodeAttributes(buf, aStart, aEnd, ctx, attributes, errors);
  const nlri = decodePrefixes(buf, aEnd, end, 1, ipv4AddPath, 10);

  const has = (kind: AttributeKind) => attributes.some((a) => a.kind === kind);
  const mpReach = attributes.find((a) => a.kind === 'mp-reach');
  const announces =
    nlri.length > 0 || (mpReach !== undefined && (mpReach.nlri.length > 0 || !!mpReach.nlriData?.length));
  const malformedList = errors.some((e) => e.subcode === 1 && e.action === 'treat-as-withdraw');
  if (malformedList && withdrawn.length === 0 && nlri.length === 0 && !mpReach && !has('mp-unreach')) {
    // RFC 7606 §4: no NLRI could be located, so "treat-as-withdraw" is impossible.
    throw new BgpDecodeError(3, 1, new Uint8Array(0), 'malformed attribute list and no NLRI to withdraw');
  }
  if (announces) {
    // RFC 7606 §3(d): a missing well-known mandatory attribute means treat-as-withdraw.
    const required: [AttributeKind, number][] = [
      ['origin', 1],
      ['as-path', 2],
    ];
    if (nlri.length > 0) required.push(['next-hop', 3]);
    for (const [kind, code] of required) {
      const malformed = attributes.some((a) => a.kind === 'unknown' && a.code === code && a.error);
      if (!has(kind) && !malformed) {
        errors.push(
          updateError('treat-as-withdraw', 3, WELL_KNOWN_DATA(code), `missing attribute ${code}`, code),
        );
      }
    }
  }
  const msg: UpdateMessage = {
    type: 'UPDATE',
    withdrawn,
    attributes,
    nlri,
    rawAttributes: buf.subarray(aStart, aEnd),
    errors,
  };
  const action = worstAction(errors);
  if (action) msg.action = action;
  return msg;
}

/** Writes one path attribute (header with the attribute's own flags, then its value). */
export function encodeAttribute(a: PathAttribute, w: Writer, ctx: DecodeContext): void {
  if (a.kind === 'trailing') {
    w.bytes(a.data);
    return;
  }
  const start = w.pos;
  let flags = a.flags & 0xff;
  const code = a.kind === 'unknown' ? a.code : SPEC_BY_KIND.get(a.kind)!.code;
  w.u8(flags);
  w.u8(code);
  const lenPos = w.pos;
  w.u16(0);
  if (a.kind === 'unknown') w.bytes(a.data);
  else SPEC_BY_KIND.get(a.kind)!.encode(a, w, ctx);
  const vlen = w.pos - lenPos - 2;
  if (vlen > 0xffff) throw new RangeError(`attribute ${code} value of ${vlen} octets is too long`);
  if (flags & 0x10 || vlen > 255) {
    flags |= 0x10;
    w.setU8(start, flags);
    w.setU16(lenPos, vlen);
  } else {
    w.buf.copyWithin(lenPos + 1, lenPos + 2, w.pos);
    w.buf[lenPos] = vlen;
    w.pos--;
  }
}

/** Writes a whole UPDATE message, header included. */
export function encodeUpdate(
  u: UpdateFields,
  ctx: DecodeContext = DEFAULT_CONTEXT,
  w = new Writer(4096),
): Uint8Array {
  const start = writeHeader(w, MessageType.UPDATE);
  const ap = addPathSend(ctx, 1, 1);
  const wl = w.mark16();
  encodePrefixes(w, u.withdrawn, ap);
  w.setU16(wl, w.pos - wl - 2);
  const al = w.mark16();
  for (const a of u.attributes) encodeAttribute(a, w, ctx);
  const aLen = w.pos - al - 2;
  if (aLen > 0xffff) throw new RangeError('path attributes too long');
  w.setU16(al, aLen);
  encodePrefixes(w, u.nlri, ap);
  finishHeader(w, start, ctx, MessageType.UPDATE);
  return w.buf.slice(start, w.pos);
}

/** The first well-formed attribute of a kind (malformed and duplicate ones are skipped). */
export function getAttribute<K extends AttributeKind>(
  u: { attributes: readonly PathAttribute[] },
  kind: K,
): Extract<KnownAttribute, { kind: K }> | undefined {
  for (const a of u.attributes) if (a.kind === kind) return a as Extract<KnownAttribute, { kind: K }>;
  return undefined;
}

/**
 * The effective AS path (RFC 6793 §4.2.3): on a 2-octet session AS4_PATH is merged into
 * AS_PATH, unless AGGREGATOR carries a real 2-octet AS (then AS4_* are ignored).
 */
export function effectiveAsPath(
  u: { attributes: readonly PathAttribute[] },
  ctx: DecodeContext,
): AsPathSegment[] | undefined {
  const asPath = getAttribute(u, 'as-path');
  if (!asPath) return undefined;
  if (ctx.fourOctetAs) return asPath.segments;
  const as4 = getAttribute(u, 'as4-path');
  const agg = getAttribute(u, 'aggregator');
  if (!as4 || (agg && agg.as !== AS_TRANS)) return asPath.segments;
  return mergeAs4Path(asPath.segments, as4.segments);
}

/** The effective aggregator (AS4_AGGREGATOR replaces an AS_TRANS AGGREGATOR on 2-octet sessions). */
export function effectiveAggregator(
  u: { attributes: readonly PathAttribute[] },
  ctx: DecodeContext,
): { as: number; address: number } | undefined {
  const agg = getAttribute(u, 'aggregator');
  if (!agg) return undefined;
  const as4 = getAttribute(u, 'as4-aggregator');
  if (!ctx.fourOctetAs && agg.as === AS_TRANS && as4) return { as: as4.as, address: as4.address };
  return { as: agg.as, address: agg.address };
}

/** All routes of an UPDATE across families (IPv4 fields plus MP_REACH/MP_UNREACH unicast). */
export function updateRoutes(u: UpdateFields): { announced: Prefix[]; withdrawn: Prefix[] } {
  const announced = [...u.nlri];
  const withdrawn = [...u.withdrawn];
  const reach = getAttribute(u, 'mp-reach');
  if (reach) announced.push(...reach.nlri);
  const unreach = getAttribute(u, 'mp-unreach');
  if (unreach) withdrawn.push(...unreach.withdrawn);
  return { announced, withdrawn };
}

/** True for an End-of-RIB marker (RFC 4724): empty UPDATE, or only an empty MP_UNREACH_NLRI. */
export function isEndOfRib(u: UpdateFields): boolean {
  if (u.withdrawn.length || u.nlri.length) return false;
  if (u.attributes.length === 0) return true;
  const a = u.attributes[0]!;
  return (
    u.attributes.length === 1 && a.kind === 'mp-unreach' && a.withdrawn.length === 0 && !a.nlriData?.length
  );
}

// ---------------------------------------------------------------------------------------
// Fast path: locate the fields of an UPDATE without building objects.

export interface UpdateLayout {
  withdrawnStart: number;
  withdrawnEnd: number;
  attrStart: number;
  attrEnd: number;
  nlriStart: number;
  nlriEnd: number;
  /** Offsets of the MP_REACH_NLRI value's NLRI part, when present. */
  mpReach?: {
    afi: number;
    safi: number;
    nextHopStart: number;
    nextHopEnd: number;
    nlriStart: number;
    nlriEnd: number;
  };
  mpUnreach?: { afi: number; safi: number; nlriStart: number; nlriEnd: number };
}

/**
 * Splits an UPDATE body (buf[off..end), after the header) into its fields, checking only
 * the lengths (3/1 on overrun). Attribute values are not decoded: pair it with
 * forEachIPv4Prefix / packIPv4Prefixes and intern `buf.subarray(attrStart, attrEnd)`.
 */
export function scanUpdate(buf: Uint8Array, off: number, end: number): UpdateLayout {
  if (end - off < 4) throw new BgpDecodeError(3, 1, new Uint8Array(0), 'UPDATE body shorter than 4 octets');
  const withdrawnStart = off + 2;
  const withdrawnEnd = withdrawnStart + ((buf[off]! << 8) | buf[off + 1]!);
  if (withdrawnEnd + 2 > end)
    throw new BgpDecodeError(3, 1, new Uint8Array(0), 'withdrawn routes length overruns');
  const attrStart = withdrawnEnd + 2;
  const attrEnd = attrStart + ((buf[withdrawnEnd]! << 8) | buf[withdrawnEnd + 1]!);
  if (attrEnd > end)
    throw new BgpDecodeError(3, 1, new Uint8Array(0), 'total path attribute length overruns');
  const layout: UpdateLayout = {
    withdrawnStart,
    withdrawnEnd,
    attrStart,
    attrEnd,
    nlriStart: attrEnd,
    nlriEnd: end,
  };
  let i = attrStart;
  while (i < attrEnd) {
    const flags = buf[i]!;
    const code = buf[i + 1];
    const hl = flags & 0x10 ? 4 : 3;
    if (i + hl > attrEnd) throw new BgpDecodeError(3, 1, new Uint8Array(0), 'attribute header overruns');
    const len = hl === 4 ? (buf[i + 2]! << 8) | buf[i + 3]! : buf[i + 2]!;
    const v = i + hl;
    const next = v + len;
    if (next > attrEnd) throw new BgpDecodeError(3, 1, new Uint8Array(0), 'attribute overruns');
    if (code === 14) {
      if (len < 5 || v + 5 + buf[v + 3]! > next)
        throw new BgpDecodeError(3, 9, buf.slice(i, next), 'bad MP_REACH_NLRI');
      const nh = v + 4;
      const nhEnd = nh + buf[v + 3]!;
      layout.mpReach = {
        afi: (buf[v]! << 8) | buf[v + 1]!,
        safi: buf[v + 2]!,
        nextHopStart: nh,
        nextHopEnd: nhEnd,
        nlriStart: nhEnd + 1,
        nlriEnd: next,
      };
    } else if (code === 15) {
      if (len < 3) throw new BgpDecodeError(3, 9, buf.slice(i, next), 'bad MP_UNREACH_NLRI');
      layout.mpUnreach = {
        afi: (buf[v]! << 8) | buf[v + 1]!,
        safi: buf[v + 2]!,
        nlriStart: v + 3,
        nlriEnd: next,
      };
    }
    i = next;
  }
  return layout;
}
