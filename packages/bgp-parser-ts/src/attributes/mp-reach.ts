import { addPathReceive, addPathSend, afiSafiKey, type DecodeContext } from '../context.js';
import { BgpDecodeError } from '../errors.js';
import { isIPv6LinkLocal, isValidIPv4Host, isValidIPv6Host } from '../host-address.js';
import { decodePrefixes, encodePrefixes, ipv4ToString, ipv6ToString, type Prefix } from '../prefix.js';
import { toHex, u16, u32 } from '../writer.js';
import { type AttrProblem, type AttrSpec, FLAGS_MP, problem } from './types.js';

/**
 * MP_REACH_NLRI (type 14, RFC 4760). IPv4/IPv6 unicast NLRI are decoded into `nlri`;
 * any other AFI/SAFI keeps its NLRI octets in `nlriData` (and `nlri` is empty).
 * `nextHop` holds the raw next-hop field: 4 octets (IPv4), 16 (IPv6, or IPv6 for IPv4
 * NLRI per RFC 8950), 32 (IPv6 global + link-local).
 */
export interface MpReachAttribute {
  kind: 'mp-reach';
  flags: number;
  afi: number;
  safi: number;
  nextHop: Uint8Array;
  /** The reserved octet (formerly the SNPA count); kept so encoding reproduces the input. */
  reserved: number;
  nlri: Prefix[];
  nlriData?: Uint8Array;
}

/** MP_UNREACH_NLRI (type 15). Empty `withdrawn` with no `nlriData` is an End-of-RIB marker. */
export interface MpUnreachAttribute {
  kind: 'mp-unreach';
  flags: number;
  afi: number;
  safi: number;
  withdrawn: Prefix[];
  nlriData?: Uint8Array;
}

export function isUnicast(afi: number, safi: number): afi is 1 | 2 {
  return (afi === 1 || afi === 2) && safi === 1;
}

/** SAFIs whose NLRI are plain prefixes: unicast (1) and multicast (2). */
export function isPrefixFamily(afi: number, safi: number): afi is 1 | 2 {
  return (afi === 1 || afi === 2) && (safi === 1 || safi === 2);
}

/**
 * The next-hop lengths a family allows (RFC 4760 §3 and the family's own RFC): IPv4 and IPv6
 * unicast, multicast and labeled unicast (RFC 8277) take an address of their AFI (IPv6: a
 * global one, optionally followed by a link-local one, RFC 2545), VPN families (SAFI 128,
 * 129) the same preceded by a zero Route Distinguisher (RFC 4364, RFC 4659). A next hop of
 * the other AFI is allowed where RFC 8950 Extended Next Hop is negotiated (ctx), or, when the
 * context does not say, for IPv4 NLRI. Undefined for the families the codec does not check.
 */
export function nextHopLengths(
  afi: number,
  safi: number,
  ctx?: DecodeContext,
): readonly number[] | undefined {
  const rd = safi === 128 || safi === 129 ? 8 : 0;
  if ((afi !== 1 && afi !== 2) || (rd === 0 && safi !== 1 && safi !== 2 && safi !== 4)) return undefined;
  const ext = ctx?.extendedNextHop;
  const otherAfi = afi === 1 ? 2 : 1;
  const other = ext ? (ext.get(afiSafiKey(afi, safi))?.includes(otherAfi) ?? false) : afi === 1;
  const v4 = [rd + 4];
  const v6 = rd === 0 ? [16, 32] : [24, 48];
  return afi === 1 ? (other ? [...v4, ...v6] : v4) : other ? [...v4, ...v6] : v6;
}

/**
 * Whether an IPv4/IPv6 unicast or multicast next hop is a valid host address (RFC 4271 §6.3):
 * the IPv4 one, or the global IPv6 one; "::" followed by a link-local address is the
 * link-local-only form some speakers send on unnumbered links.
 */
export function mpNextHopValid(nh: Uint8Array): boolean {
  if (nh.length === 4) return isValidIPv4Host(u32(nh, 0));
  if (nh.length === 32 && isIPv6LinkLocal(nh, 16) && nh.subarray(0, 16).every((b) => b === 0)) return true;
  return isValidIPv6Host(nh, 0);
}

function nlriProblem(what: string, e: unknown): AttrProblem {
  if (e instanceof BgpDecodeError) return problem(9, `${what}: ${e.detail ?? e.message}`);
  throw e;
}

export const mpReachSpec: AttrSpec<MpReachAttribute> = {
  code: 14,
  kind: 'mp-reach',
  flags: 0x80,
  onError: 'session-reset',
  rule: 'RFC 7606 §5.3',
  onFlagsError: FLAGS_MP,
  decode(v, flags, ctx) {
    if (v.length < 5) return problem(9, `MP_REACH_NLRI length ${v.length} (less than 5)`);
    const afi = u16(v, 0);
    const safi = v[2]!;
    const nhLen = v[3]!;
    if (4 + nhLen + 1 > v.length) return problem(9, 'MP_REACH_NLRI next hop overruns the attribute');
    const allowed = nextHopLengths(afi, safi, ctx);
    if (allowed && !allowed.includes(nhLen))
      return problem(
        9,
        `MP_REACH_NLRI next hop length ${nhLen} for AFI ${afi} SAFI ${safi}`,
        'RFC 7606 §7.11',
      );
    const nextHop = v.slice(4, 4 + nhLen);
    const reserved = v[4 + nhLen]!;
    const start = 5 + nhLen;
    try {
      if (!isUnicast(afi, safi)) {
        // Multicast NLRI are plain prefixes: checked (RFC 7606 §5.3), kept as octets.
        if (isPrefixFamily(afi, safi))
          decodePrefixes(v, start, v.length, afi, addPathReceive(ctx, afi, safi), 9);
        return { kind: 'mp-reach', flags, afi, safi, nextHop, reserved, nlri: [], nlriData: v.slice(start) };
      }
      const nlri = decodePrefixes(v, start, v.length, afi, addPathReceive(ctx, afi, safi), 9);
      return { kind: 'mp-reach', flags, afi, safi, nextHop, reserved, nlri };
    } catch (e) {
      return nlriProblem('MP_REACH_NLRI', e);
    }
  },
  encode(a, w, ctx) {
    w.u16(a.afi);
    w.u8(a.safi);
    w.u8(a.nextHop.length);
    w.bytes(a.nextHop);
    w.u8(a.reserved);
    if (a.nlriData) w.bytes(a.nlriData);
    else if (isUnicast(a.afi, a.safi)) encodePrefixes(w, a.nlri, addPathSend(ctx, a.afi, a.safi));
  },
};

export const mpUnreachSpec: AttrSpec<MpUnreachAttribute> = {
  code: 15,
  kind: 'mp-unreach',
  flags: 0x80,
  onError: 'session-reset',
  rule: 'RFC 7606 §5.3',
  onFlagsError: FLAGS_MP,
  decode(v, flags, ctx) {
    if (v.length < 3) return problem(9, `MP_UNREACH_NLRI length ${v.length} (less than 3)`);
    const afi = u16(v, 0);
    const safi = v[2]!;
    try {
      if (!isUnicast(afi, safi)) {
        if (isPrefixFamily(afi, safi)) decodePrefixes(v, 3, v.length, afi, addPathReceive(ctx, afi, safi), 9);
        return { kind: 'mp-unreach', flags, afi, safi, withdrawn: [], nlriData: v.slice(3) };
      }
      const withdrawn = decodePrefixes(v, 3, v.length, afi, addPathReceive(ctx, afi, safi), 9);
      return { kind: 'mp-unreach', flags, afi, safi, withdrawn };
    } catch (e) {
      return nlriProblem('MP_UNREACH_NLRI', e);
    }
  },
  encode(a, w, ctx) {
    w.u16(a.afi);
    w.u8(a.safi);
    if (a.nlriData) w.bytes(a.nlriData);
    else if (isUnicast(a.afi, a.safi)) encodePrefixes(w, a.withdrawn, addPathSend(ctx, a.afi, a.safi));
  },
};

/** Text forms of an MP_REACH next-hop field (global and, when present, link-local). */
export function mpNextHops(nh: Uint8Array): string[] {
  switch (nh.length) {
    case 4:
      return [ipv4ToString(u32(nh, 0))];
    case 16:
      return [ipv6ToString(nh, 0)];
    case 32:
      return [ipv6ToString(nh, 0), ipv6ToString(nh, 16)];
    case 12: // RD + IPv4 (VPN)
      return [ipv4ToString(u32(nh, 8))];
    case 24: // RD + IPv6 (VPN)
      return [ipv6ToString(nh, 8)];
    case 48:
      return [ipv6ToString(nh, 8), ipv6ToString(nh, 32)];
    default:
      return nh.length === 0 ? [] : [toHex(nh)];
  }
}
