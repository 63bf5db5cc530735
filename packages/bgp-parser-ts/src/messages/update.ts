import { OPAQUE_CHECK_BY_CODE } from '../attributes/checked-opaque.js';
import {
  type AsPathSegment,
  type AttributeKind,
  type KnownAttribute,
  mergeAs4Path,
  type PathAttribute,
  SPEC_BY_CODE,
  SPEC_BY_KIND,
} from '../attributes/index.js';
import { isPrefixFamily, type MpReachAttribute, mpNextHopValid } from '../attributes/mp-reach.js';
import { type AttrSpec, isProblem } from '../attributes/types.js';
import { AS_TRANS, MessageType } from '../constants.js';
import { addPathReceive, addPathSend, DEFAULT_CONTEXT, type DecodeContext } from '../context.js';
import {
  BgpDecodeError,
  sessionResetError,
  type UpdateError,
  type UpdateErrorAction,
  updateError,
  worstAction,
} from '../errors.js';
import { finishHeader, writeHeader } from '../header.js';
import { isValidIPv4Host } from '../host-address.js';
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
  /** RFC 7606 errors in wire order, each with its action and rule (a session reset is thrown instead). */
  errors: UpdateError[];
  /**
   * The strongest action of `errors` (RFC 7606 §3.h): 'afi-safi-disable' when a family must be
   * dropped (only with `ctx.afiSafiDisable`; the errors name it), 'treat-as-withdraw' when every
   * route the UPDATE announces (NLRI field and MP_REACH_NLRI) must be handled as withdrawn,
   * 'attribute-discard' when some attributes were dropped; undefined when the UPDATE is clean.
   * Never 'session-reset': that is thrown.
   */
  action?: UpdateErrorAction;
}

const EMPTY = new Uint8Array(0);

/** Type codes seen in the attribute field being decoded: 256 bits (decoding never re-enters). */
const SEEN = new Uint32Array(8);

function seen(code: number): boolean {
  return (SEEN[code >>> 5]! & (1 << (code & 31))) !== 0;
}

/** Records an error about an attribute kept as octets (so that the UPDATE re-encodes exactly). */
function keepMalformed(
  attrs: PathAttribute[],
  errors: UpdateError[],
  code: number,
  flags: number,
  value: Uint8Array,
  error: UpdateError,
): void {
  attrs.push({ kind: 'unknown', code, flags, data: value.slice(), error });
  errors.push(error);
}

/**
 * MP_REACH_NLRI/MP_UNREACH_NLRI errors name their family when it can be read; a speaker
 * that chose "AFI/SAFI disable" (RFC 4760 §7) gets that action instead of a session reset.
 */
function mpFamily(e: UpdateError, value: Uint8Array, ctx: DecodeContext): void {
  if (value.length < 3) return;
  e.afi = u16(value, 0);
  e.safi = value[2]!;
  if (ctx.afiSafiDisable && e.action === 'session-reset') e.action = 'afi-safi-disable';
}

/**
 * Decodes the path attributes field buf[off..end) per RFC 4271 §6.3 as RFC 7606 revises
 * it, appending to `attrs` and `errors` and never throwing: errors that reset the session
 * are recorded too. `nlriFollows`: the NLRI field is not empty (its next hop is checked).
 * Returns true when an attribute overran the field (RFC 7606 §4): the rest is 'trailing'.
 */
function collectAttributes(
  buf: Uint8Array,
  off: number,
  end: number,
  ctx: DecodeContext,
  attrs: PathAttribute[],
  errors: UpdateError[],
  nlriFollows: boolean,
): boolean {
  SEEN.fill(0);
  let i = off;
  while (i < end) {
    const flags = buf[i]!;
    const hl = flags & 0x10 ? 4 : 3;
    const len = i + hl <= end ? (hl === 4 ? u16(buf, i + 2) : buf[i + 2]!) : -1;
    if (len < 0 || i + hl + len > end) {
      const code = i + 1 < end ? buf[i + 1] : undefined;
      const error = updateError(
        'treat-as-withdraw',
        1,
        EMPTY,
        len < 0
          ? `${end - i} octet(s) left in the attribute field, too few for an attribute header`
          : `attribute ${code} of length ${len} overruns the attribute field`,
        code,
        'RFC 7606 §4',
      );
      attrs.push({ kind: 'trailing', data: buf.slice(i, end), error });
      errors.push(error);
      return true;
    }
    const code = buf[i + 1]!;
    const valueStart = i + hl;
    const next = valueStart + len;
    const value = buf.subarray(valueStart, next); // copied only when kept as octets
    if (seen(code)) {
      const mp = code === 14 || code === 15;
      const error = updateError(
        mp ? 'session-reset' : 'attribute-discard',
        1,
        EMPTY,
        mp
          ? `${code === 14 ? 'MP_REACH' : 'MP_UNREACH'}_NLRI appears twice`
          : `attribute ${code} appears twice (the first one is kept)`,
        code,
        'RFC 7606 §3.g',
      );
      keepMalformed(attrs, errors, code, flags, value, error);
      i = next;
      continue;
    }
    SEEN[code >>> 5]! |= 1 << (code & 31);
    const spec = SPEC_BY_CODE[code];
    if (spec === undefined) {
      const check = OPAQUE_CHECK_BY_CODE[code];
      let error: UpdateError | undefined;
      if (check) {
        error = screen(check, flags, ctx, buf, i, next, code);
        const p = error ? undefined : check.check(value);
        if (p)
          error = updateError(
            check.onError,
            p.subcode,
            buf.slice(i, next),
            p.detail,
            code,
            p.rule ?? check.rule,
          );
      } else if (!(flags & 0x80)) {
        // RFC 4271 §6.3 (not revised by RFC 7606): an unrecognized attribute claiming to be well-known.
        error = updateError(
          'session-reset',
          2,
          buf.slice(i, next),
          `unrecognized well-known attribute ${code}`,
          code,
          'RFC 4271 §6.3',
        );
      }
      if (error) keepMalformed(attrs, errors, code, flags, value, error);
      else attrs.push({ kind: 'unknown', code, flags, data: value.slice() });
      i = next;
      continue;
    }
    let error = screen(spec, flags, ctx, buf, i, next, code);
    if (!error) {
      const r = spec.decode(value, flags, ctx);
      if (isProblem(r)) {
        error = updateError(spec.onError, r.subcode, buf.slice(i, next), r.detail, code, r.rule ?? spec.rule);
      } else {
        attrs.push(r);
        // A next hop that is not a valid host address (RFC 4271 §6.3, 3/8) is treat-as-withdraw
        // (RFC 7606 §3.e); the attribute is kept: its routes are needed to withdraw them.
        if (
          r.kind === 'next-hop'
            ? nlriFollows && !isValidIPv4Host(r.nextHop)
            : r.kind === 'mp-reach' && isInvalidMpNextHop(r)
        ) {
          errors.push(
            updateError(
              'treat-as-withdraw',
              8,
              buf.slice(i, next),
              `next hop is not a valid host address`,
              code,
              'RFC 7606 §3.e',
            ),
          );
        }
      }
    }
    if (error) {
      if (code === 14 || code === 15) mpFamily(error, value, ctx);
      keepMalformed(attrs, errors, code, flags, value, error);
    }
    i = next;
  }
  return false;
}

/**
 * What an attribute gets before its value is looked at: discarded when this session must
 * ignore it, or its flags' handling when the Optional/Transitive bits conflict with its type.
 */
function screen(
  rules: Pick<AttrSpec<unknown>, 'flags' | 'onFlagsError' | 'ignoredOn'>,
  flags: number,
  ctx: DecodeContext,
  buf: Uint8Array,
  at: number,
  next: number,
  code: number,
): UpdateError | undefined {
  const ignored = rules.ignoredOn?.(ctx);
  if (ignored) return updateError('attribute-discard', 0, EMPTY, ignored.detail, code, ignored.rule);
  if ((flags & 0xc0) === rules.flags) return undefined;
  const f = rules.onFlagsError;
  const detail = `flags 0x${flags.toString(16).padStart(2, '0')} on attribute ${code}`;
  return updateError(f.action, f.subcode, buf.slice(at, next), detail, code, f.rule);
}

function isInvalidMpNextHop(r: MpReachAttribute): boolean {
  return isPrefixFamily(r.afi, r.safi) && !mpNextHopValid(r.nextHop);
}

/**
 * Decodes the path attributes field buf[off..end) per RFC 4271 §6.3 / RFC 7606, appending
 * to `attrs` and `errors`. Throws BgpDecodeError when an error requires a session reset
 * (after looking at every attribute: `err.errors` lists them all).
 */
export function decodeAttributes(
  buf: Uint8Array,
  off: number,
  end: number,
  ctx: DecodeContext,
  attrs: PathAttribute[],
  errors: UpdateError[],
  nlriFollows = true,
): void {
  collectAttributes(buf, off, end, ctx, attrs, errors, nlriFollows);
  const fatal = errors.find((e) => e.action === 'session-reset');
  if (fatal) throw sessionResetError(fatal, errors);
}

/** Decodes a Withdrawn Routes or NLRI field; a syntax error is recorded as a session reset (3/10). */
function prefixField(
  buf: Uint8Array,
  off: number,
  end: number,
  addPath: boolean,
  errors: UpdateError[],
  field: string,
  rule: string,
): Prefix[] {
  if (off === end) return [];
  try {
    return decodePrefixes(buf, off, end, 1, addPath, 10);
  } catch (e) {
    if (!(e instanceof BgpDecodeError)) throw e;
    errors.push(
      updateError('session-reset', 10, EMPTY, `${field}: ${e.detail ?? e.message}`, undefined, rule),
    );
    return [];
  }
}

function lengthError(detail: string): BgpDecodeError {
  const e = new BgpDecodeError(3, 1, EMPTY, detail);
  e.rule = 'RFC 7606 §3.b';
  e.errors = [updateError('session-reset', 1, EMPTY, detail, undefined, e.rule)];
  return e;
}

/**
 * Decodes an UPDATE body buf[off..end) (after the 19-octet header), classifying every error
 * per RFC 7606 and keeping on where it allows, so that the strongest action of the message
 * is known (§3.h). Returns the UPDATE with its errors and `action`; throws BgpDecodeError
 * (with `errors`) when that action is a session reset.
 */
export function decodeUpdateBody(
  buf: Uint8Array,
  off: number,
  end: number,
  ctx: DecodeContext = DEFAULT_CONTEXT,
): UpdateMessage {
  if (end - off < 4) throw lengthError('UPDATE body shorter than 4 octets');
  const wLen = u16(buf, off);
  const wStart = off + 2;
  const wEnd = wStart + wLen;
  if (wEnd + 2 > end) throw lengthError('withdrawn routes length overruns the message');
  const aLen = u16(buf, wEnd);
  const aStart = wEnd + 2;
  const aEnd = aStart + aLen;
  if (aEnd > end) throw lengthError('total path attribute length overruns the message');
  const ipv4AddPath = addPathReceive(ctx, 1, 1);
  const errors: UpdateError[] = [];
  const withdrawn = prefixField(buf, wStart, wEnd, ipv4AddPath, errors, 'Withdrawn Routes', 'RFC 7606 §3.i');
  const attributes: PathAttribute[] = [];
  const overran = collectAttributes(buf, aStart, aEnd, ctx, attributes, errors, aEnd < end);
  const nlri = prefixField(buf, aEnd, end, ipv4AddPath, errors, 'NLRI', 'RFC 7606 §5.3');

  const mpReachSeen = seen(14);
  if (!overran && (nlri.length > 0 || mpReachSeen)) {
    // RFC 7606 §3.d; NEXT_HOP only with NLRI in the NLRI field, ORIGIN and AS_PATH also with
    // MP_REACH_NLRI (RFC 4760 §3). A malformed or discarded copy counts as present.
    if (!seen(1)) errors.push(missing(1, 'ORIGIN'));
    if (!seen(2)) errors.push(missing(2, 'AS_PATH'));
    if (nlri.length > 0 && !seen(3)) errors.push(missing(3, 'NEXT_HOP'));
  }
  if (errors.length > 0) {
    let reachable = nlri.length > 0;
    if (!reachable && mpReachSeen) {
      for (const a of attributes) {
        if (a.kind === 'mp-reach' && (a.nlri.length > 0 || (a.nlriData?.length ?? 0) > 0)) reachable = true;
      }
    }
    const taw = reachable ? undefined : errors.find((e) => e.action === 'treat-as-withdraw');
    if (taw) {
      // RFC 7606 §5.2: attribute errors in an UPDATE that announces nothing (withdrawals do
      // not count) cannot be treated as withdraw: the NLRI may not have been parsed right.
      errors.push({
        ...taw,
        action: 'session-reset',
        rule: 'RFC 7606 §5.2',
        message: `${taw.message}, in an UPDATE with no reachable NLRI`,
      });
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
  if (action === 'session-reset') {
    const e = sessionResetError(errors.find((x) => x.action === 'session-reset')!, errors);
    e.update = msg;
    throw e;
  }
  return msg;
}

function missing(code: number, name: string): UpdateError {
  return updateError(
    'treat-as-withdraw',
    3,
    new Uint8Array([code]),
    `missing ${name}`,
    code,
    'RFC 7606 §3.d',
  );
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
  /**
   * An attribute overran the attribute field (RFC 7606 §4): the attributes are malformed,
   * the UPDATE is treat-as-withdraw; attributes after the overrun were not scanned.
   */
  attributeOverrun?: true;
}

/**
 * Splits an UPDATE body (buf[off..end), after the header) into its fields, checking only
 * the lengths. Attribute values are not decoded: pair it with forEachIPv4Prefix /
 * packIPv4Prefixes and intern `buf.subarray(attrStart, attrEnd)` after decoding one UPDATE
 * with those attribute octets (decodeUpdateBody) to learn its RFC 7606 classification.
 * Throws BgpDecodeError for what resets the session whatever the attributes say: lengths
 * overrunning the message (3/1), MP_REACH_NLRI/MP_UNREACH_NLRI twice (3/1) or too short to
 * frame (3/9), an attribute overrunning the attribute field of an UPDATE that announces
 * nothing (3/1, RFC 7606 §4 and §5.2). With NLRI to withdraw the overrun is treat-as-withdraw:
 * `attributeOverrun` is set (decodeUpdateBody classifies it).
 */
export function scanUpdate(buf: Uint8Array, off: number, end: number): UpdateLayout {
  if (end - off < 4) throw lengthError('UPDATE body shorter than 4 octets');
  const withdrawnStart = off + 2;
  const withdrawnEnd = withdrawnStart + ((buf[off]! << 8) | buf[off + 1]!);
  if (withdrawnEnd + 2 > end) throw lengthError('withdrawn routes length overruns the message');
  const attrStart = withdrawnEnd + 2;
  const attrEnd = attrStart + ((buf[withdrawnEnd]! << 8) | buf[withdrawnEnd + 1]!);
  if (attrEnd > end) throw lengthError('total path attribute length overruns the message');
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
    if (i + hl > attrEnd) return attributeOverrun(layout, end);
    const len = hl === 4 ? (buf[i + 2]! << 8) | buf[i + 3]! : buf[i + 2]!;
    const v = i + hl;
    const next = v + len;
    if (next > attrEnd) return attributeOverrun(layout, end);
    if (code === 14) {
      if (layout.mpReach) throw duplicateMp(14);
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
      if (layout.mpUnreach) throw duplicateMp(15);
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

function duplicateMp(code: number): BgpDecodeError {
  const e = new BgpDecodeError(3, 1, EMPTY, `${code === 14 ? 'MP_REACH' : 'MP_UNREACH'}_NLRI appears twice`);
  e.rule = 'RFC 7606 §3.g';
  return e;
}

/** RFC 7606 §4: treat-as-withdraw (left to decodeUpdateBody), or a reset when nothing is announced (§5.2). */
function attributeOverrun(layout: UpdateLayout, end: number): UpdateLayout {
  const reach = layout.mpReach;
  if (layout.attrEnd === end && !(reach && reach.nlriEnd > reach.nlriStart)) {
    const e = new BgpDecodeError(
      3,
      1,
      EMPTY,
      'attribute overruns the attribute field of an UPDATE with no NLRI',
    );
    e.rule = 'RFC 7606 §5.2';
    throw e;
  }
  layout.attributeOverrun = true;
  return layout;
}
