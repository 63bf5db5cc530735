/**
 * IPv4/IPv6 addresses and CIDRs as bigints: one representation for both families, so
 * block arithmetic in IPAM and route comparison in felix/bird need no per-family code.
 */
export type IpFamily = 4 | 6;

export interface IpAddress {
  family: IpFamily;
  value: bigint;
}

export interface Cidr {
  family: IpFamily;
  /** Network address (host bits cleared). */
  address: bigint;
  prefixLength: number;
}

export const familyBits = (family: IpFamily): number => (family === 4 ? 32 : 128);

const V4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

function parseV4(s: string): bigint | undefined {
  const m = V4.exec(s);
  if (!m) return undefined;
  let v = 0n;
  for (let i = 1; i <= 4; i++) {
    const part = m[i]!;
    if (part.length > 1 && part.startsWith('0')) return undefined; // no octal ambiguity
    const n = Number(part);
    if (n > 255) return undefined;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseV6(s: string): bigint | undefined {
  if (s.length < 2 || s.length > 45 || /[^0-9a-fA-F:.]/.test(s)) return undefined;
  let tail4: bigint | undefined;
  let text = s;
  const lastColon = s.lastIndexOf(':');
  if (s.includes('.', lastColon)) {
    tail4 = parseV4(s.slice(lastColon + 1));
    if (tail4 === undefined) return undefined;
    text = `${s.slice(0, lastColon + 1)}0:0`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const groups = (h: string) => (h === '' ? [] : h.split(':'));
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  const total = head.length + tail.length;
  if (halves.length === 1 ? total !== 8 : total > 7) return undefined;
  const all = [...head, ...Array<string>(8 - total).fill('0'), ...tail];
  let v = 0n;
  for (const g of all) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return undefined;
    v = (v << 16n) | BigInt(Number.parseInt(g, 16));
  }
  if (tail4 !== undefined) v = (v & ~0xffffffffn) | tail4;
  return v;
}

/** Parses an IPv4 or IPv6 address; undefined when it is not one. */
export function parseIp(s: string): IpAddress | undefined {
  const v4 = parseV4(s);
  if (v4 !== undefined) return { family: 4, value: v4 };
  const v6 = parseV6(s);
  return v6 === undefined ? undefined : { family: 6, value: v6 };
}

export function formatIp(ip: IpAddress): string {
  if (ip.family === 4) {
    const v = Number(ip.value);
    return `${v >>> 24}.${(v >>> 16) & 255}.${(v >>> 8) & 255}.${v & 255}`;
  }
  const g: number[] = [];
  for (let i = 7; i >= 0; i--) g.push(Number((ip.value >> BigInt(i * 16)) & 0xffffn));
  // RFC 5952: compress the longest run (of at least two) of zero groups.
  let bestStart = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = (xs: number[]) => xs.map((x) => x.toString(16)).join(':');
  if (bestStart < 0) return hex(g);
  return `${hex(g.slice(0, bestStart))}::${hex(g.slice(bestStart + bestLen))}`;
}

export function mask(family: IpFamily, prefixLength: number): bigint {
  const bits = BigInt(familyBits(family));
  const host = bits - BigInt(prefixLength);
  return ((1n << bits) - 1n) ^ ((1n << host) - 1n);
}

/**
 * Parses "a.b.c.d/n" or "x::/n". With `strict`, host bits must be zero (a route or pool
 * written with host bits set is almost always a typo). Without a prefix length, the
 * address is taken as a host route (/32 or /128).
 */
export function parseCidr(s: string, opts: { strict?: boolean } = {}): Cidr | undefined {
  const slash = s.indexOf('/');
  const ip = parseIp(slash < 0 ? s : s.slice(0, slash));
  if (!ip) return undefined;
  const bits = familyBits(ip.family);
  let len = bits;
  if (slash >= 0) {
    const lenText = s.slice(slash + 1);
    if (!/^\d{1,3}$/.test(lenText)) return undefined;
    len = Number(lenText);
    if (len > bits) return undefined;
  }
  const network = ip.value & mask(ip.family, len);
  if (opts.strict && network !== ip.value) return undefined;
  return { family: ip.family, address: network, prefixLength: len };
}

/**
 * What is wrong with a CIDR string, in words ("octet 300 out of range (0-255)", "prefix length
 * 33 over 32", "host bits set: ..."), or undefined when `parseCidr` accepts it.
 */
export function cidrProblem(s: string, opts: { strict?: boolean } = {}): string | undefined {
  const slash = s.indexOf('/');
  const addr = slash < 0 ? s : s.slice(0, slash);
  const ip = parseIp(addr);
  if (!ip) return addressProblem(addr, addr === s);
  const bits = familyBits(ip.family);
  if (slash >= 0) {
    const lenText = s.slice(slash + 1);
    if (!/^\d+$/.test(lenText)) return `prefix length ${JSON.stringify(lenText)} is not a number`;
    if (Number(lenText) > bits) return `prefix length ${Number(lenText)} over ${bits}`;
  }
  const c = parseCidr(s)!;
  if (opts.strict && c.address !== ip.value) {
    const host = formatIp({ family: ip.family, value: ip.value & ~mask(ip.family, c.prefixLength) });
    return `host bits set (${host} beyond the /${c.prefixLength}; the network is ${formatCidr(c)})`;
  }
  return undefined;
}

function addressProblem(addr: string, whole: boolean): string {
  if (addr === '') return 'no address';
  if (/^[\d.]+$/.test(addr)) {
    const octets = addr.split('.');
    if (octets.length !== 4) return `an IPv4 address has 4 octets, not ${octets.length}`;
    for (const o of octets) {
      if (o === '') return 'an empty octet';
      if (Number(o) > 255) return `octet ${o} out of range (0-255)`;
      if (o.length > 1 && o.startsWith('0')) return `octet ${o} has a leading zero (ambiguous: octal?)`;
    }
  }
  return whole ? 'not an IPv4 or IPv6 address' : `${JSON.stringify(addr)} is not an IPv4 or IPv6 address`;
}

export function formatCidr(c: Cidr): string {
  return `${formatIp({ family: c.family, value: c.address })}/${c.prefixLength}`;
}

/** Canonical text of a CIDR string (host bits cleared, RFC 5952 IPv6), or undefined. */
export function canonicalCidr(s: string): string | undefined {
  const c = parseCidr(s);
  return c ? formatCidr(c) : undefined;
}

export function cidrContainsIp(c: Cidr, ip: IpAddress): boolean {
  return c.family === ip.family && (ip.value & mask(c.family, c.prefixLength)) === c.address;
}

/** True when `inner` lies entirely inside `outer`. */
export function cidrContains(outer: Cidr, inner: Cidr): boolean {
  return (
    outer.family === inner.family &&
    inner.prefixLength >= outer.prefixLength &&
    (inner.address & mask(outer.family, outer.prefixLength)) === outer.address
  );
}

export function cidrsOverlap(a: Cidr, b: Cidr): boolean {
  return cidrContains(a, b) || cidrContains(b, a);
}

/** Number of addresses in the CIDR. */
export function cidrSize(c: Cidr): bigint {
  return 1n << BigInt(familyBits(c.family) - c.prefixLength);
}

/** The n-th address of the CIDR (0 = network address). */
export function nthIp(c: Cidr, n: bigint | number): IpAddress {
  return { family: c.family, value: c.address + BigInt(n) };
}
