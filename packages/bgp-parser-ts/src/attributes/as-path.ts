import { AS_TRANS } from '../constants.js';
import type { DecodeContext } from '../context.js';
import { u16, u32, type Writer } from '../writer.js';
import { type AttrProblem, type AttrSpec, FLAGS_WITHDRAW_3C, FLAGS_WITHDRAW_3E, problem } from './types.js';

/** One AS_PATH segment: type 1 AS_SET, 2 AS_SEQUENCE, 3 AS_CONFED_SEQUENCE, 4 AS_CONFED_SET. */
export interface AsPathSegment {
  type: number;
  asns: number[];
}

/** AS_PATH (type 2): ASNs are 2 or 4 octets depending on the session (DecodeContext.fourOctetAs). */
export interface AsPathAttribute {
  kind: 'as-path';
  flags: number;
  segments: AsPathSegment[];
}

/** AS4_PATH (type 17, RFC 6793): always 4-octet ASNs, sent on 2-octet sessions. */
export interface As4PathAttribute {
  kind: 'as4-path';
  flags: number;
  segments: AsPathSegment[];
}

/**
 * Decodes AS_PATH-shaped segments. Malformed (RFC 7606 §7.2, RFC 6793 §6): an unknown
 * segment type, a segment length of zero, a segment overrunning the attribute, a single
 * octet left over; and any AS number 0 (RFC 7607 §2). Problems carry `subcode`.
 */
export function decodeSegments(
  v: Uint8Array,
  asnSize: 2 | 4,
  subcode: number,
): AsPathSegment[] | AttrProblem {
  const segments: AsPathSegment[] = [];
  let zero = false;
  let i = 0;
  while (i < v.length) {
    if (i + 2 > v.length) return problem(subcode, 'one octet left after the last segment');
    const type = v[i]!;
    const count = v[i + 1]!;
    if (type < 1 || type > 4) return problem(subcode, `segment type ${type}`);
    if (count === 0) return problem(subcode, 'segment length 0');
    i += 2;
    if (i + count * asnSize > v.length) return problem(subcode, 'segment overruns the attribute');
    const asns = new Array<number>(count);
    for (let k = 0; k < count; k++) {
      const asn = asnSize === 4 ? u32(v, i) : u16(v, i);
      if (asn === 0) zero = true;
      asns[k] = asn;
      i += asnSize;
    }
    segments.push({ type, asns });
  }
  return zero ? problem(subcode, 'AS 0 in the path', 'RFC 7607 §2') : segments;
}

export function encodeSegments(segments: readonly AsPathSegment[], w: Writer, asnSize: 2 | 4): void {
  for (const s of segments) {
    // Segments longer than 255 ASNs are split, as RFC 4271 §5.1.2 allows.
    for (let from = 0; from === 0 || from < s.asns.length; from += 255) {
      const part = s.asns.slice(from, from + 255);
      w.u8(s.type);
      w.u8(part.length);
      for (const asn of part) {
        if (asnSize === 4) w.u32(asn);
        else w.u16(asn > 0xffff ? AS_TRANS : asn);
      }
    }
  }
}

export const asPathSpec: AttrSpec<AsPathAttribute> = {
  code: 2,
  kind: 'as-path',
  flags: 0x40,
  onError: 'treat-as-withdraw',
  rule: 'RFC 7606 §7.2',
  onFlagsError: FLAGS_WITHDRAW_3E,
  decode(v, flags, ctx) {
    const segments = decodeSegments(v, ctx.fourOctetAs ? 4 : 2, 11);
    if (!Array.isArray(segments)) return segments;
    return sessionAsPathProblem(segments, ctx) ?? { kind: 'as-path', flags, segments };
  },
  encode(a, w, ctx) {
    encodeSegments(a.segments, w, ctx.fourOctetAs ? 4 : 2);
  },
};

export const as4PathSpec: AttrSpec<As4PathAttribute> = {
  code: 17,
  kind: 'as4-path',
  flags: 0xc0,
  onError: 'attribute-discard',
  rule: 'RFC 6793 §6',
  onFlagsError: FLAGS_WITHDRAW_3C,
  ignoredOn: (ctx) =>
    ctx.fourOctetAs
      ? { rule: 'RFC 6793 §4.1, §6', detail: 'AS4_PATH from a four-octet AS speaker' }
      : undefined,
  decode(v, flags) {
    // "too small (i.e., less than 6) for at least one AS number" (RFC 6793 §6): an empty one too.
    if (v.length < 6) return problem(9, `AS4_PATH length ${v.length}`);
    const segments = decodeSegments(v, 4, 9);
    return Array.isArray(segments) ? { kind: 'as4-path', flags, segments } : segments;
  },
  encode(a, w) {
    encodeSegments(a.segments, w, 4);
  },
};

/**
 * AS_PATH checks that depend on the session: confederation segments from an external peer
 * (RFC 5065 §5.3) and, when enforced, the first AS (RFC 4271 §6.3; RFC 7606 §7.2).
 */
function sessionAsPathProblem(segments: AsPathSegment[], ctx: DecodeContext): AttrProblem | undefined {
  if (ctx.peerType === 'external' && segments.some((s) => s.type === 3 || s.type === 4))
    return problem(11, 'confederation segment from an external peer', 'RFC 5065 §5.3');
  const want = ctx.enforceFirstAs;
  if (want !== undefined) {
    const first = segments[0];
    const expected = ctx.fourOctetAs || want <= 0xffff ? want : AS_TRANS;
    if (!first || (first.type !== 2 && first.type !== 3) || first.asns[0] !== expected)
      return problem(11, `first AS ${first?.asns[0] ?? 'missing'}, the peer is AS ${want}`, 'RFC 7606 §7.2');
  }
  return undefined;
}

/** Path length as RFC 4271 counts it for comparison: each SEQUENCE ASN 1, a SET 1, confed 0. */
export function asPathLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === 2) n += s.asns.length;
    else if (s.type === 1) n += 1;
  }
  return n;
}

/**
 * RFC 6793 §4.2.3: rebuilds the effective AS path from AS_PATH and AS4_PATH received on a
 * 2-octet session. AS4_PATH is ignored when it is longer than AS_PATH.
 */
export function mergeAs4Path(
  asPath: readonly AsPathSegment[],
  as4Path: readonly AsPathSegment[],
): AsPathSegment[] {
  const keep = asPathLength(asPath) - asPathLength(as4Path);
  if (keep < 0) return asPath.map((s) => ({ type: s.type, asns: [...s.asns] }));
  const out: AsPathSegment[] = [];
  let left = keep;
  for (const s of asPath) {
    if (left <= 0) break;
    if (s.type === 2) {
      const take = Math.min(left, s.asns.length);
      out.push({ type: 2, asns: s.asns.slice(0, take) });
      left -= take;
    } else if (s.type === 1) {
      out.push({ type: 1, asns: [...s.asns] });
      left -= 1;
    } else {
      out.push({ type: s.type, asns: [...s.asns] });
    }
  }
  for (const s of as4Path) {
    if (s.type === 3 || s.type === 4) continue; // RFC 6793 §6: confed segments in AS4_PATH are ignored
    const last = out[out.length - 1];
    if (last && last.type === 2 && s.type === 2) last.asns.push(...s.asns);
    else out.push({ type: s.type, asns: [...s.asns] });
  }
  return out;
}
