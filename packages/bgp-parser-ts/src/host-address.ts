/**
 * Whether a next hop "represents a valid IP host address" (RFC 4271 §6.3). Rejected: IPv4
 * 0.0.0.0/8 ("this network"), 127.0.0.0/8 (loopback, "MUST NOT appear outside a host",
 * RFC 1122 §3.2.1.3), 224.0.0.0/4 (multicast) and 240.0.0.0/4 (reserved, with the limited
 * broadcast address); IPv6 :: (unspecified), ::1 (loopback), ff00::/8 (multicast), and
 * IPv4-mapped forms of the rejected IPv4 addresses. Link-local addresses are host addresses.
 */
export function isValidIPv4Host(addr: number): boolean {
  const first = addr >>> 24;
  return first !== 0 && first !== 127 && first < 224;
}

/** The IPv6 address at b[off..off+16) (see isValidIPv4Host for the rules). */
export function isValidIPv6Host(b: Uint8Array, off = 0): boolean {
  if (b[off] === 0xff) return false;
  for (let i = 0; i < 10; i++) if (b[off + i] !== 0) return true;
  const w5 = (b[off + 10]! << 8) | b[off + 11]!;
  const v4 = ((b[off + 12]! << 24) | (b[off + 13]! << 16) | (b[off + 14]! << 8) | b[off + 15]!) >>> 0;
  if (w5 === 0xffff) return isValidIPv4Host(v4); // ::ffff:a.b.c.d
  return !(w5 === 0 && v4 <= 1); // :: and ::1
}

/** True for fe80::/10. */
export function isIPv6LinkLocal(b: Uint8Array, off = 0): boolean {
  return b[off] === 0xfe && (b[off + 1]! & 0xc0) === 0x80;
}
