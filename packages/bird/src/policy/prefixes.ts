/**
 * Prefixes for policy decisions, parsed by the codec (bgp-parser-ts): containment checks
 * for import policy and configuration, without loading the datastore client.
 */
import { parsePrefix } from 'bgp-parser-ts';

export interface Net {
  afi: 1 | 2;
  addr: Uint8Array;
  len: number;
}

/** "10.0.0.0/24", "2001:db8::/48", or an address alone (a host prefix); undefined when malformed. */
export function parseNet(s: string): Net | undefined {
  try {
    const p = parsePrefix(s.includes('/') ? s : `${s}/${s.includes(':') ? 128 : 32}`);
    return { afi: p.afi, addr: p.addr, len: p.len };
  } catch {
    return undefined;
  }
}

/** An IPv4 prefix given as numbers. */
export function netV4(addr: number, len: number): Net {
  return {
    afi: 1,
    addr: new Uint8Array([addr >>> 24, (addr >>> 16) & 255, (addr >>> 8) & 255, addr & 255]),
    len,
  };
}

/** `inner` lies inside `outer` (same family, at least as long, same leading bits). */
export function netContains(outer: Net, inner: Net): boolean {
  if (outer.afi !== inner.afi || inner.len < outer.len) return false;
  for (let bit = 0; bit < outer.len; bit++) {
    const m = 0x80 >> (bit & 7);
    if ((outer.addr[bit >> 3]! & m) !== (inner.addr[bit >> 3]! & m)) return false;
  }
  return true;
}

/** 4 or 6 for an IPv4 or IPv6 address, undefined otherwise. */
export function addressFamily(s: string): 4 | 6 | undefined {
  const n = s.includes('/') ? undefined : parseNet(s);
  return n ? (n.afi === 1 ? 4 : 6) : undefined;
}
