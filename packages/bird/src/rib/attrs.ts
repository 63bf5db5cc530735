/**
 * Interned path-attribute sets. Every route points at one shared AttrSet by id; sets are
 * keyed by the raw attribute bytes as received (plus the session's AS width), so the
 * thousands of prefixes an UPDATE carries cost one lookup, and identical sets from many
 * UPDATEs are stored once. Reference counted: a set disappears with its last route.
 */
import { Buffer } from 'node:buffer';
import {
  type AsPathSegment,
  type DecodeContext,
  effectiveAsPath,
  getAttribute,
  ipv4ToString,
  ipv6ToString,
  type PathAttribute,
} from 'bgp-parser-ts';
import { type Interned, InternStore } from './intern.js';

export interface AttrSet extends Interned {
  /** Attributes without MP_REACH/MP_UNREACH (the next hop is in `nextHop`). */
  readonly attributes: PathAttribute[];
  /** Printable next hop ("192.0.2.1" / "2001:db8::1"), '' when none. */
  readonly nextHop: string;
  readonly localPref: number | undefined;
  readonly asPath: AsPathSegment[];
  readonly asPathLen: number;
  /** First AS of the path (0 for an empty path). */
  readonly neighborAs: number;
  readonly origin: number;
  readonly med: number | undefined;
  readonly originatorId: number | undefined;
  readonly clusterList: number[];
}

function latin1(buf: Uint8Array, start: number, end: number): string {
  return Buffer.from(buf.buffer, buf.byteOffset + start, end - start).toString('latin1');
}

/**
 * What besides the octets decides how an attribute field decodes and is classified
 * (RFC 7606): the AS width and the peer type (the same LOCAL_PREF is kept from an internal
 * peer and discarded from an external one).
 */
function sessionKey(ctx: DecodeContext): string {
  return (
    (ctx.fourOctetAs ? '4' : '2') +
    (ctx.peerType === 'external' ? 'e' : ctx.peerType === 'confederation' ? 'c' : 'i')
  );
}

/** Intern key of an attribute field without MP attributes (the fast path). */
export function rawAttrKey(buf: Uint8Array, start: number, end: number, ctx: DecodeContext): string {
  return sessionKey(ctx) + latin1(buf, start, end);
}

/**
 * Intern key of an attribute field that may carry MP_REACH/MP_UNREACH: those two are
 * skipped (they hold NLRI, unique per UPDATE) and the MP next hop is appended instead.
 */
export function mpAttrKey(
  buf: Uint8Array,
  start: number,
  end: number,
  ctx: DecodeContext,
  nextHop: string,
): string {
  let key = sessionKey(ctx);
  let i = start;
  while (i < end) {
    const flags = buf[i]!;
    const code = buf[i + 1]!;
    const hl = flags & 0x10 ? 4 : 3;
    const len = hl === 4 ? (buf[i + 2]! << 8) | buf[i + 3]! : buf[i + 2]!;
    const next = Math.min(end, i + hl + len);
    if (code !== 14 && code !== 15) key += latin1(buf, i, next);
    i = next;
  }
  return `${key}|${nextHop}`;
}

/** Printable first next hop of an MP_REACH next-hop field (IPv6 global, or IPv4 per RFC 8950). */
export function mpNextHopString(nh: Uint8Array): string {
  if (nh.length === 4) return ipv4ToString(((nh[0]! << 24) | (nh[1]! << 16) | (nh[2]! << 8) | nh[3]!) >>> 0);
  if (nh.length >= 16) return ipv6ToString(nh, 0);
  return '';
}

export function asPathLength(segments: readonly AsPathSegment[]): number {
  let n = 0;
  for (const s of segments) {
    if (s.type === 2) n += s.asns.length;
    else if (s.type === 1) n += 1; // AS_SET counts as one (RFC 4271 §9.1.2.2)
  }
  return n;
}

/** Builds the decision-relevant summary of an attribute list. */
export function summarize(
  attributes: PathAttribute[],
  ctx: DecodeContext,
  mpNextHop = '',
): Omit<AttrSet, 'id' | 'key' | 'refs'> {
  const asPath = effectiveAsPath({ attributes }, ctx) ?? [];
  const first = asPath[0];
  const nh = getAttribute({ attributes }, 'next-hop');
  return {
    attributes: attributes.filter((a) => a.kind !== 'mp-reach' && a.kind !== 'mp-unreach'),
    nextHop: mpNextHop || (nh ? ipv4ToString(nh.nextHop) : ''),
    localPref: getAttribute({ attributes }, 'local-pref')?.localPref,
    asPath,
    asPathLen: asPathLength(asPath),
    neighborAs: first && first.type === 2 ? first.asns[0]! : 0,
    origin: getAttribute({ attributes }, 'origin')?.origin ?? 2,
    med: getAttribute({ attributes }, 'med')?.med,
    originatorId: getAttribute({ attributes }, 'originator-id')?.originatorId,
    clusterList: getAttribute({ attributes }, 'cluster-list')?.clusterIds ?? [],
  };
}

export class AttrStore extends InternStore<AttrSet> {
  constructor() {
    super('attribute set');
  }

  /** Returns the set for `key`, creating it from `make()` when new. Does not add a reference. */
  intern(key: string, make: () => Omit<AttrSet, 'id' | 'key' | 'refs'>): AttrSet {
    return this.internWith(key, (id) => ({ ...make(), id, key, refs: 0 }));
  }
}

export function originName(o: number): string {
  return o === 0 ? 'IGP' : o === 1 ? 'EGP' : 'incomplete';
}
