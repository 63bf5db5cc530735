import { addPathReceive, addPathSend } from '../context.js';
import { BgpDecodeError } from '../errors.js';
import { decodePrefixes, encodePrefixes, ipv4ToString, ipv6ToString, type Prefix } from '../prefix.js';
import { toHex, u16, u32 } from '../writer.js';
import { type AttrSpec, problem } from './types.js';

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

const UNICAST_NH_LENGTHS = new Set([4, 16, 32]);

export const mpReachSpec: AttrSpec<MpReachAttribute> = {
  code: 14,
  kind: 'mp-reach',
  flags: 0x80,
  onError: 'session-reset',
  decode(v, flags, ctx) {
    if (v.length < 5) return problem(9, 'MP_REACH_NLRI shorter than 5 octets');
    const afi = u16(v, 0);
    const safi = v[2]!;
    const nhLen = v[3]!;
    if (4 + nhLen + 1 > v.length) return problem(9, 'MP_REACH_NLRI next hop overruns the attribute');
    const nextHop = v.slice(4, 4 + nhLen);
    const reserved = v[4 + nhLen]!;
    const start = 5 + nhLen;
    if (!isUnicast(afi, safi)) {
      return { kind: 'mp-reach', flags, afi, safi, nextHop, reserved, nlri: [], nlriData: v.slice(start) };
    }
    if (!UNICAST_NH_LENGTHS.has(nhLen)) return problem(9, `MP_REACH_NLRI next hop length ${nhLen}`);
    try {
      const nlri = decodePrefixes(v, start, v.length, afi, addPathReceive(ctx, afi, safi), 9);
      return { kind: 'mp-reach', flags, afi, safi, nextHop, reserved, nlri };
    } catch (e) {
      if (e instanceof BgpDecodeError) return problem(9, `MP_REACH_NLRI: ${e.message}`);
      throw e;
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
  decode(v, flags, ctx) {
    if (v.length < 3) return problem(9, 'MP_UNREACH_NLRI shorter than 3 octets');
    const afi = u16(v, 0);
    const safi = v[2]!;
    if (!isUnicast(afi, safi))
      return { kind: 'mp-unreach', flags, afi, safi, withdrawn: [], nlriData: v.slice(3) };
    try {
      const withdrawn = decodePrefixes(v, 3, v.length, afi, addPathReceive(ctx, afi, safi), 9);
      return { kind: 'mp-unreach', flags, afi, safi, withdrawn };
    } catch (e) {
      if (e instanceof BgpDecodeError) return problem(9, `MP_UNREACH_NLRI: ${e.message}`);
      throw e;
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
