import { BgpDecodeError } from './errors.js';
import { u32, type Writer } from './writer.js';

/**
 * One NLRI entry of the object model. `addr` is always the full address size (4 or 16
 * octets); octets beyond the prefix's wire length are zero, bits inside the last wire
 * octet are kept as received so that encoding reproduces the input exactly.
 */
export interface Prefix {
  afi: 1 | 2;
  len: number;
  addr: Uint8Array;
  /** RFC 7911 path identifier, present when add-path is in use for the family. */
  pathId?: number;
}

function nlriError(subcode: number, detail: string): BgpDecodeError {
  return new BgpDecodeError(3, subcode, new Uint8Array(0), detail);
}

/**
 * Decodes a run of prefixes (withdrawn routes, NLRI, or MP_(UN)REACH NLRI). Throws
 * BgpDecodeError(3, subcode) on a bad length or overrun: RFC 7606 §5.3 requires a session
 * reset when NLRI cannot be parsed.
 */
export function decodePrefixes(
  buf: Uint8Array,
  off: number,
  end: number,
  afi: 1 | 2,
  addPath: boolean,
  subcode = 10,
): Prefix[] {
  const out: Prefix[] = [];
  const max = afi === 1 ? 32 : 128;
  const size = afi === 1 ? 4 : 16;
  let i = off;
  while (i < end) {
    let pathId: number | undefined;
    if (addPath) {
      if (i + 4 > end) throw nlriError(subcode, 'truncated path identifier');
      pathId = u32(buf, i);
      i += 4;
      if (i >= end) throw nlriError(subcode, 'path identifier without prefix');
    }
    const len = buf[i++]!;
    if (len > max) throw nlriError(subcode, `prefix length ${len} > ${max}`);
    const n = (len + 7) >> 3;
    if (i + n > end) throw nlriError(subcode, 'prefix overruns its field');
    const addr = new Uint8Array(size);
    for (let k = 0; k < n; k++) addr[k] = buf[i + k]!;
    i += n;
    const p: Prefix = { afi, len, addr };
    if (pathId !== undefined) p.pathId = pathId;
    out.push(p);
  }
  return out;
}

/** Writes prefixes; with addPath a missing pathId is written as 0. */
export function encodePrefixes(w: Writer, prefixes: readonly Prefix[], addPath: boolean): void {
  for (const p of prefixes) {
    const n = (p.len + 7) >> 3;
    w.ensure(n + 5);
    if (addPath) w.u32(p.pathId ?? 0);
    w.buf[w.pos++] = p.len;
    for (let k = 0; k < n; k++) w.buf[w.pos++] = p.addr[k] ?? 0;
  }
}

/**
 * Fast path: walks IPv4 prefixes without allocating; calls cb(addr, len, pathId) with the
 * address as an unsigned 32-bit number (pathId is 0 without add-path). Returns the count.
 * Throws BgpDecodeError(3, subcode) on malformed input.
 */
export function forEachIPv4Prefix(
  buf: Uint8Array,
  off: number,
  end: number,
  addPath: boolean,
  cb: (addr: number, len: number, pathId: number) => void,
  subcode = 10,
): number {
  let i = off;
  let count = 0;
  while (i < end) {
    let pathId = 0;
    if (addPath) {
      if (i + 5 > end) throw nlriError(subcode, 'truncated path identifier');
      pathId = ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> 0;
      i += 4;
    }
    const len = buf[i++]!;
    if (len > 32) throw nlriError(subcode, `prefix length ${len} > 32`);
    const n = (len + 7) >> 3;
    if (i + n > end) throw nlriError(subcode, 'prefix overruns its field');
    let a = 0;
    switch (n) {
      case 4:
        a = (buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!;
        break;
      case 3:
        a = (buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8);
        break;
      case 2:
        a = (buf[i]! << 24) | (buf[i + 1]! << 16);
        break;
      case 1:
        a = buf[i]! << 24;
        break;
    }
    i += n;
    cb(a >>> 0, len, pathId);
    count++;
  }
  return count;
}

/**
 * Fast path: decodes IPv4 prefixes into a packed Uint32Array starting at out[outIndex]:
 * pairs [addr, len] without add-path, triples [addr, len, pathId] with it. Returns the
 * number of prefixes written. `out` must have room (at most one prefix per octet of input).
 */
export function packIPv4Prefixes(
  buf: Uint8Array,
  off: number,
  end: number,
  addPath: boolean,
  out: Uint32Array,
  outIndex = 0,
  subcode = 10,
): number {
  let i = off;
  let o = outIndex;
  const start = outIndex;
  const stride = addPath ? 3 : 2;
  while (i < end) {
    let pathId = 0;
    if (addPath) {
      if (i + 5 > end) throw nlriError(subcode, 'truncated path identifier');
      pathId = ((buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!) >>> 0;
      i += 4;
    }
    const len = buf[i++]!;
    if (len > 32) throw nlriError(subcode, `prefix length ${len} > 32`);
    const n = (len + 7) >> 3;
    if (i + n > end) throw nlriError(subcode, 'prefix overruns its field');
    let a = 0;
    if (n === 3) a = (buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8);
    else if (n === 4) a = (buf[i]! << 24) | (buf[i + 1]! << 16) | (buf[i + 2]! << 8) | buf[i + 3]!;
    else if (n === 2) a = (buf[i]! << 24) | (buf[i + 1]! << 16);
    else if (n === 1) a = buf[i]! << 24;
    i += n;
    if (o + stride > out.length) throw new RangeError('packIPv4Prefixes: output array too small');
    out[o] = a;
    out[o + 1] = len;
    if (addPath) out[o + 2] = pathId;
    o += stride;
  }
  return (o - start) / stride;
}

// ---------------------------------------------------------------------------------------
// Human forms (JSON, CLI, tests) — not for hot paths.

export function ipv4ToString(a: number): string {
  return `${a >>> 24}.${(a >>> 16) & 255}.${(a >>> 8) & 255}.${a & 255}`;
}

export function ipv4FromString(s: string): number {
  const parts = s.split('.');
  if (parts.length !== 4) throw new TypeError(`bad IPv4 address ${s}`);
  let a = 0;
  for (const p of parts) {
    const n = Number(p);
    if (!/^\d{1,3}$/.test(p) || n > 255) throw new TypeError(`bad IPv4 address ${s}`);
    a = a * 256 + n;
  }
  return a >>> 0;
}

/** RFC 5952 text form of a 16-octet address (IPv4-mapped shown as ::ffff:a.b.c.d). */
export function ipv6ToString(b: Uint8Array, off = 0): string {
  const g: number[] = [];
  for (let i = 0; i < 8; i++) g.push((b[off + 2 * i]! << 8) | b[off + 2 * i + 1]!);
  if (g[0] === 0 && g[1] === 0 && g[2] === 0 && g[3] === 0 && g[4] === 0 && g[5] === 0xffff) {
    return `::ffff:${b[off + 12]}.${b[off + 13]}.${b[off + 14]}.${b[off + 15]}`;
  }
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (g[i] !== 0) {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && g[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) {
      bestStart = i;
      bestLen = j - i;
    }
    i = j;
  }
  const hex = g.map((x) => x.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLen).join(':')}`;
}

export function ipv6FromString(s: string): Uint8Array {
  const out = new Uint8Array(16);
  let text = s;
  const tail: number[] = [];
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const a = ipv4FromString(v4[1]!);
    tail.push(a >>> 16, a & 0xffff);
    text = text.slice(0, -v4[1]!.length);
    if (text.endsWith(':') && !text.endsWith('::')) text = text.slice(0, -1);
  }
  const parse = (part: string): number[] =>
    part === ''
      ? []
      : part.split(':').map((h) => {
          if (!/^[0-9a-fA-F]{1,4}$/.test(h)) throw new TypeError(`bad IPv6 address ${s}`);
          return Number.parseInt(h, 16);
        });
  let groups: number[];
  const dbl = text.indexOf('::');
  if (dbl >= 0) {
    const head = parse(text.slice(0, dbl));
    const rest = parse(text.slice(dbl + 2));
    const fill = 8 - head.length - rest.length - tail.length;
    if (fill < 0) throw new TypeError(`bad IPv6 address ${s}`);
    groups = [...head, ...new Array<number>(fill).fill(0), ...rest, ...tail];
  } else {
    groups = [...parse(text), ...tail];
  }
  if (groups.length !== 8) throw new TypeError(`bad IPv6 address ${s}`);
  for (let i = 0; i < 8; i++) {
    out[2 * i] = groups[i]! >> 8;
    out[2 * i + 1] = groups[i]! & 255;
  }
  return out;
}

/** "10.0.0.0/24" or "2001:db8::/32". */
export function prefixToString(p: Prefix): string {
  return p.afi === 1 ? `${ipv4ToString(u32(p.addr, 0))}/${p.len}` : `${ipv6ToString(p.addr)}/${p.len}`;
}

/** Parses "10.0.0.0/24" or "2001:db8::/32" (host bits beyond the length are cleared). */
export function parsePrefix(s: string, pathId?: number): Prefix {
  const slash = s.lastIndexOf('/');
  if (slash < 0) throw new TypeError(`bad prefix ${s}`);
  const len = Number(s.slice(slash + 1));
  const text = s.slice(0, slash);
  const afi: 1 | 2 = text.includes(':') ? 2 : 1;
  let addr: Uint8Array;
  if (afi === 1) {
    const a = ipv4FromString(text);
    addr = new Uint8Array([a >>> 24, (a >>> 16) & 255, (a >>> 8) & 255, a & 255]);
  } else {
    addr = ipv6FromString(text);
  }
  if (!Number.isInteger(len) || len < 0 || len > addr.length * 8) throw new TypeError(`bad prefix ${s}`);
  for (let bit = len; bit < addr.length * 8; bit++) addr[bit >> 3] = addr[bit >> 3]! & ~(0x80 >> (bit & 7));
  const p: Prefix = { afi, len, addr };
  if (pathId !== undefined) p.pathId = pathId;
  return p;
}
