/** Prefixes as text and back: canonical form (host bits cleared, IPv6 compressed). */
import { ipv6ToString, parsePrefix } from 'bgp-parser-ts';
import { v4String } from './prefix-table.js';

/** The IPv4 address of 4 bytes as an unsigned number. */
export function u32(b: Uint8Array): number {
  return ((b[0]! << 24) | (b[1]! << 16) | (b[2]! << 8) | b[3]!) >>> 0;
}

/** Canonical prefix text; an address alone is a host prefix. Throws on text that is no prefix. */
export function canonical(p: string): string {
  const pf = parsePrefix(p.includes('/') ? p : `${p}/${p.includes(':') ? 128 : 32}`);
  if (pf.afi === 1) {
    const mask = pf.len === 0 ? 0 : (0xffffffff << (32 - pf.len)) >>> 0;
    return v4String((u32(pf.addr) & mask) >>> 0, pf.len);
  }
  return `${ipv6ToString(pf.addr)}/${pf.len}`;
}
