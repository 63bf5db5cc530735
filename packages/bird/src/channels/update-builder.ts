/**
 * UPDATE messages from pre-encoded path attributes and packed prefixes, pure byte work:
 * the attributes of an outbound set are encoded once (outbound.ts) and copied into every
 * UPDATE that carries them, for every peer; NEXT_HOP is put in per message (it may be the
 * session's own address). Messages are appended to one growable buffer, so a batch of
 * changes for a peer leaves as a single socket write.
 */
import { type DecodeContext, encodeUpdate, ipv6FromString, parsePrefix } from 'bgp-parser-ts';

const MAX = 4096;
const HEADER = 19;

export class UpdateBuffer {
  buf = new Uint8Array(4096);
  pos = 0;
  messages = 0;

  private ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let size = this.buf.length * 2;
    while (size < this.pos + n) size *= 2;
    const next = new Uint8Array(size);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /** The bytes written so far (a view, valid until the next write). */
  get bytes(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }

  reset(): void {
    this.pos = 0;
    this.messages = 0;
    if (this.buf.length > 2 << 20) this.buf = new Uint8Array(4096);
  }

  private header(start: number): void {
    this.buf.fill(0xff, start, start + 16);
    this.buf[start + 18] = 2;
  }

  private finish(start: number): void {
    const len = this.pos - start;
    this.buf[start + 16] = len >> 8;
    this.buf[start + 17] = len & 255;
    this.messages++;
  }

  /**
   * IPv4 announcements sharing one attribute set: as many UPDATEs as the prefixes need.
   * `attrs` are the encoded attributes without NEXT_HOP, which goes in at `nhPos`.
   */
  announceV4(
    attrs: Uint8Array,
    nhPos: number,
    nextHop: number,
    prefixes: ArrayLike<number>,
    count: number,
  ): void {
    const attrLen = attrs.length + 7;
    const room = MAX - HEADER - 4 - attrLen;
    if (room < 5) throw new RangeError(`path attributes of ${attrLen} octets leave no room for NLRI`);
    let i = 0;
    while (i < count) {
      this.ensure(MAX);
      const start = this.pos;
      this.header(start);
      let p = start + HEADER;
      const b = this.buf;
      b[p++] = 0;
      b[p++] = 0;
      b[p++] = attrLen >> 8;
      b[p++] = attrLen & 255;
      b.set(attrs.subarray(0, nhPos), p);
      p += nhPos;
      b[p++] = 0x40;
      b[p++] = 3;
      b[p++] = 4;
      b[p++] = nextHop >>> 24;
      b[p++] = (nextHop >>> 16) & 255;
      b[p++] = (nextHop >>> 8) & 255;
      b[p++] = nextHop & 255;
      b.set(attrs.subarray(nhPos), p);
      p += attrs.length - nhPos;
      [p, i] = this.packV4(p, prefixes, i, count, room);
      this.pos = p;
      this.finish(start);
    }
  }

  /** Packs IPv4 prefixes from index `i` into at most `room` bytes at `p`: [end position, next index]. */
  private packV4(
    p: number,
    prefixes: ArrayLike<number>,
    i: number,
    count: number,
    room: number,
  ): [number, number] {
    const b = this.buf;
    const end = p + room;
    while (i < count) {
      const addr = prefixes[i * 2]!;
      const len = prefixes[i * 2 + 1]!;
      const n = (len + 7) >> 3;
      if (p + 1 + n > end) break;
      b[p++] = len;
      for (let k = 0; k < n; k++) b[p++] = (addr >>> (24 - 8 * k)) & 255;
      i++;
    }
    return [p, i];
  }

  /** IPv4 withdrawals, packed into the withdrawn-routes field. */
  withdrawV4(prefixes: ArrayLike<number>, count: number): void {
    const room = MAX - HEADER - 4;
    let i = 0;
    while (i < count) {
      this.ensure(MAX);
      const start = this.pos;
      this.header(start);
      let p = start + HEADER + 2;
      const b = this.buf;
      [p, i] = this.packV4(p, prefixes, i, count, room);
      const used = p - start - HEADER - 2;
      b[start + HEADER] = used >> 8;
      b[start + HEADER + 1] = used & 255;
      b[p++] = 0; // no path attributes
      b[p++] = 0;
      this.pos = p;
      this.finish(start);
    }
  }

  /** IPv6 announcements (MP_REACH_NLRI) sharing one attribute set and next hop. */
  announceV6(attrs: Uint8Array, nextHop: string, prefixes: readonly string[]): void {
    const nh = ipv6FromString(nextHop);
    this.mp(
      14,
      prefixes,
      (b, p) => {
        b[p++] = 16;
        b.set(nh, p);
        p += 16;
        b[p++] = 0; // reserved
        return p;
      },
      5 + 16,
      attrs,
    );
  }

  /** IPv6 withdrawals (MP_UNREACH_NLRI). */
  withdrawV6(prefixes: readonly string[]): void {
    this.mp(15, prefixes, (_b, p) => p, 0, new Uint8Array(0));
  }

  private mp(
    code: 14 | 15,
    prefixes: readonly string[],
    afterSafi: (b: Uint8Array, p: number) => number,
    extra: number,
    attrs: Uint8Array,
  ): void {
    const packed = prefixes.map((s) => {
      const pf = parsePrefix(s);
      return { len: pf.len, addr: pf.addr };
    });
    const room = MAX - HEADER - 4 - 4 - 3 - extra - attrs.length;
    if (room < 17) throw new RangeError(`path attributes of ${attrs.length} octets leave no room for NLRI`);
    let i = 0;
    while (i < packed.length) {
      this.ensure(MAX);
      const start = this.pos;
      this.header(start);
      const b = this.buf;
      let p = start + HEADER;
      b[p++] = 0; // no withdrawn IPv4 routes
      b[p++] = 0;
      const attrLenAt = p;
      p += 2;
      const attrStart = p;
      b[p++] = 0x90; // optional, extended length
      b[p++] = code;
      const mpLenAt = p;
      p += 2;
      const mpStart = p;
      b[p++] = 0;
      b[p++] = 2; // AFI IPv6
      b[p++] = 1; // SAFI unicast
      p = afterSafi(b, p);
      let used = 0;
      while (i < packed.length) {
        const { len, addr } = packed[i]!;
        const n = (len + 7) >> 3;
        if (used + 1 + n > room) break;
        b[p++] = len;
        for (let k = 0; k < n; k++) b[p++] = addr[k] ?? 0;
        used += 1 + n;
        i++;
      }
      const mpLen = p - mpStart;
      b[mpLenAt] = mpLen >> 8;
      b[mpLenAt + 1] = mpLen & 255;
      b.set(attrs, p);
      p += attrs.length;
      const attrLen = p - attrStart;
      b[attrLenAt] = attrLen >> 8;
      b[attrLenAt + 1] = attrLen & 255;
      this.pos = p;
      this.finish(start);
    }
  }
}

/** End-of-RIB markers (RFC 4724) for the families of a session. */
export function endOfRib(afi: 1 | 2, ctx: DecodeContext): Uint8Array {
  if (afi === 1) return encodeUpdate({ withdrawn: [], attributes: [], nlri: [] }, ctx);
  return encodeUpdate(
    {
      withdrawn: [],
      nlri: [],
      attributes: [{ kind: 'mp-unreach', flags: 0x80, afi: 2, safi: 1, withdrawn: [] }],
    },
    ctx,
  );
}
