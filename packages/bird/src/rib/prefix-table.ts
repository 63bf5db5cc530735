/**
 * A compact hash table of IPv4 prefixes: open addressing over typed arrays, no object per
 * prefix. Each entry holds two unsigned 32-bit values (`a`, `b`) and a flags byte whose
 * meaning belongs to the user (attribute-set id, peer index, dirty/pending marks). A
 * million entries take 28–56 MB (14 bytes a slot, the table kept at most half full).
 */
const EMPTY = 0;
const TOMB = 255;

export class PrefixTable {
  private addrs: Uint32Array;
  /** 0 = empty, 255 = deleted, else prefix length + 1. */
  private lens: Uint8Array;
  private va: Uint32Array;
  private vb: Uint32Array;
  private fl: Uint8Array;
  /** A third value per entry, for tables created with `withC`. */
  private vc: Uint32Array | undefined;
  private mask: number;
  private used = 0; // live + tombstones
  size = 0;

  constructor(
    capacity = 16,
    private readonly withC = false,
  ) {
    let cap = 16;
    while (cap < capacity * 2) cap *= 2;
    this.addrs = new Uint32Array(cap);
    this.lens = new Uint8Array(cap);
    this.va = new Uint32Array(cap);
    this.vb = new Uint32Array(cap);
    this.fl = new Uint8Array(cap);
    if (withC) this.vc = new Uint32Array(cap);
    this.mask = cap - 1;
  }

  slotC(slot: number): number {
    return this.vc![slot]!;
  }

  setSlotC(slot: number, c: number): void {
    this.vc![slot] = c;
  }

  private static hash(addr: number, len: number): number {
    let h = Math.imul(addr ^ Math.imul(len + 1, 0x9e3779b1), 0x85ebca6b);
    h ^= h >>> 13;
    h = Math.imul(h, 0xc2b2ae35);
    return (h ^ (h >>> 16)) >>> 0;
  }

  /** Slot of the prefix, or -1. */
  find(addr: number, len: number): number {
    const l = len + 1;
    let i = PrefixTable.hash(addr, len) & this.mask;
    for (;;) {
      const s = this.lens[i]!;
      if (s === EMPTY) return -1;
      if (s === l && this.addrs[i] === addr) return i;
      i = (i + 1) & this.mask;
    }
  }

  has(addr: number, len: number): boolean {
    return this.find(addr, len) >= 0;
  }

  slotA(slot: number): number {
    return this.va[slot]!;
  }

  slotB(slot: number): number {
    return this.vb[slot]!;
  }

  setSlotB(slot: number, b: number): void {
    this.vb[slot] = b;
  }

  setSlotA(slot: number, a: number): void {
    this.va[slot] = a;
  }

  /**
   * The first live slot at or after `from`, -1 at the end: a walk that may pause (a
   * generator) while entries are added or removed; a table that grew meanwhile is walked in
   * its new order, so an entry may be visited twice or not at all.
   */
  nextSlot(from: number): number {
    const lens = this.lens;
    for (let i = from; i < lens.length; i++) {
      const s = lens[i]!;
      if (s !== EMPTY && s !== TOMB) return i;
    }
    return -1;
  }

  slotFlags(slot: number): number {
    return this.fl[slot]!;
  }

  setSlotFlags(slot: number, f: number): void {
    this.fl[slot] = f;
  }

  /** Inserts or overwrites (an overwritten entry keeps its flags); returns true when the prefix was new. */
  set(addr: number, len: number, a: number, b = 0): boolean {
    if ((this.used + 1) * 2 > this.lens.length) this.grow();
    const l = len + 1;
    let i = PrefixTable.hash(addr, len) & this.mask;
    let tomb = -1;
    for (;;) {
      const s = this.lens[i]!;
      if (s === EMPTY) break;
      if (s === TOMB) {
        if (tomb < 0) tomb = i;
      } else if (s === l && this.addrs[i] === addr) {
        this.va[i] = a;
        this.vb[i] = b;
        return false;
      }
      i = (i + 1) & this.mask;
    }
    if (tomb >= 0) i = tomb;
    else this.used++;
    this.addrs[i] = addr;
    this.lens[i] = l;
    this.va[i] = a;
    this.vb[i] = b;
    this.fl[i] = 0;
    if (this.vc) this.vc[i] = 0;
    this.size++;
    return true;
  }

  /** Slot of the prefix, inserting it (a = b = flags = 0) when absent. */
  slotFor(addr: number, len: number): number {
    const i = this.find(addr, len);
    if (i >= 0) return i;
    this.set(addr, len, 0, 0);
    return this.find(addr, len);
  }

  addrOf(slot: number): number {
    return this.addrs[slot]!;
  }

  lenOf(slot: number): number {
    return this.lens[slot]! - 1;
  }

  delete(addr: number, len: number): boolean {
    const i = this.find(addr, len);
    if (i < 0) return false;
    this.lens[i] = TOMB;
    this.size--;
    return true;
  }

  clear(): void {
    this.lens.fill(0);
    this.used = 0;
    this.size = 0;
  }

  forEach(cb: (addr: number, len: number, a: number, b: number) => void): void {
    const lens = this.lens;
    for (let i = 0; i < lens.length; i++) {
      const s = lens[i]!;
      if (s !== EMPTY && s !== TOMB) cb(this.addrs[i]!, s - 1, this.va[i]!, this.vb[i]!);
    }
  }

  /** Visits every live slot (use slotA/slotB/setSlotB on it); do not insert while visiting. */
  forEachSlot(cb: (slot: number, addr: number, len: number) => void): void {
    const lens = this.lens;
    for (let i = 0; i < lens.length; i++) {
      const s = lens[i]!;
      if (s !== EMPTY && s !== TOMB) cb(i, this.addrs[i]!, s - 1);
    }
  }

  /** Deletes the entry at a slot found by find/forEachSlot. */
  deleteSlot(slot: number): void {
    if (this.lens[slot] === EMPTY || this.lens[slot] === TOMB) return;
    this.lens[slot] = TOMB;
    this.size--;
  }

  /** A copy sized for the live entries (flags kept). */
  copy(): PrefixTable {
    const t = new PrefixTable(Math.max(16, this.size), this.withC);
    this.forEachSlot((slot, addr, len) => {
      t.set(addr, len, this.va[slot]!, this.vb[slot]!);
      const j = t.find(addr, len);
      t.fl[j] = this.fl[slot]!;
      if (t.vc) t.vc[j] = this.vc![slot]!;
    });
    return t;
  }

  /** Bytes held by the arrays. */
  get bytes(): number {
    return this.lens.length * (this.vc ? 18 : 14);
  }

  /** Slots in the arrays (live entries, tombstones and free ones). */
  get capacity(): number {
    return this.lens.length;
  }

  private grow(): void {
    const oldA = this.addrs;
    const oldL = this.lens;
    const oldVa = this.va;
    const oldVb = this.vb;
    const oldFl = this.fl;
    const oldVc = this.vc;
    // Only grow when live entries need it; otherwise rehash in place to drop tombstones.
    const cap = this.size * 4 > oldL.length ? oldL.length * 2 : oldL.length;
    this.addrs = new Uint32Array(cap);
    this.lens = new Uint8Array(cap);
    this.va = new Uint32Array(cap);
    this.vb = new Uint32Array(cap);
    this.fl = new Uint8Array(cap);
    if (oldVc) this.vc = new Uint32Array(cap);
    this.mask = cap - 1;
    this.used = 0;
    this.size = 0;
    for (let i = 0; i < oldL.length; i++) {
      const s = oldL[i]!;
      if (s !== EMPTY && s !== TOMB) {
        this.set(oldA[i]!, s - 1, oldVa[i]!, oldVb[i]!);
        if (oldFl[i] || oldVc?.[i]) {
          const j = this.find(oldA[i]!, s - 1);
          this.fl[j] = oldFl[i]!;
          if (oldVc) this.vc![j] = oldVc[i]!;
        }
      }
    }
  }
}

/** An append-only list of unsigned 32-bit numbers in a growable typed array. */
export class U32List {
  private buf: Uint32Array;
  length = 0;

  constructor(capacity = 32) {
    this.buf = new Uint32Array(capacity);
  }

  push(v: number): void {
    if (this.length === this.buf.length) {
      const next = new Uint32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length++] = v;
  }

  at(i: number): number {
    return this.buf[i]!;
  }

  clear(): void {
    this.length = 0;
    if (this.buf.length > 1 << 16) this.buf = new Uint32Array(32);
  }
}

/** An append-only list of IPv4 prefixes (address, length) in a growable typed array. */
export class PrefixList {
  private buf: Uint32Array;
  length = 0;

  constructor(capacity = 32) {
    this.buf = new Uint32Array(capacity * 2);
  }

  push(addr: number, len: number): void {
    if ((this.length + 1) * 2 > this.buf.length) {
      const next = new Uint32Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.length * 2] = addr;
    this.buf[this.length * 2 + 1] = len;
    this.length++;
  }

  /** Address and length pairs, `length` of them. */
  get raw(): Uint32Array {
    return this.buf;
  }

  addr(i: number): number {
    return this.buf[i * 2]!;
  }

  len(i: number): number {
    return this.buf[i * 2 + 1]!;
  }

  /** Empties the list; a large buffer is given back rather than kept. */
  clear(): void {
    this.length = 0;
    if (this.buf.length > 1 << 16) this.buf = new Uint32Array(64);
  }
}

/** "a.b.c.d/len" of a packed IPv4 prefix. */
export function v4String(addr: number, len: number): string {
  return `${addr >>> 24}.${(addr >>> 16) & 255}.${(addr >>> 8) & 255}.${addr & 255}/${len}`;
}

/** Parses "a.b.c.d/len" (or "a.b.c.d" = /32); undefined when malformed. */
export function parseV4Prefix(s: string): { addr: number; len: number } | undefined {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})(?:\/(\d{1,2}))?$/.exec(s.trim());
  if (!m) return undefined;
  const o = [m[1], m[2], m[3], m[4]].map(Number);
  if (o.some((x) => x! > 255)) return undefined;
  const len = m[5] === undefined ? 32 : Number(m[5]);
  if (len > 32) return undefined;
  const addr = ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
  const mask = len === 0 ? 0 : (0xffffffff << (32 - len)) >>> 0;
  return { addr: (addr & mask) >>> 0, len };
}
