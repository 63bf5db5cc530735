/**
 * Adj-RIB-In of one peer: what it announced, after import policy. IPv4 without add-path
 * lives in a PrefixTable (value a = attribute-set id, b = flags); IPv6 and add-path paths
 * in a map keyed by the prefix string, then by path id. Reference counts of attribute sets
 * are kept here: every stored path holds one.
 */
import type { AttrStore } from './attrs.js';
import { PrefixTable } from './prefix-table.js';

export const STALE = 1;

export class AdjRibIn {
  readonly v4 = new PrefixTable(4);
  /** prefix string → path id → attrId * 2 + stale bit. */
  readonly other = new Map<string, Map<number, number>>();

  constructor(private readonly store: AttrStore) {}

  get size(): number {
    let n = this.v4.size;
    for (const m of this.other.values()) n += m.size;
    return n;
  }

  /** Stores a path; returns true when the prefix's candidate changed. */
  setV4(addr: number, len: number, attrId: number): boolean {
    const slot = this.v4.find(addr, len);
    if (slot >= 0) {
      const old = this.v4.slotA(slot);
      const wasStale = this.v4.slotB(slot) & STALE;
      if (old === attrId && !wasStale) return false;
      this.store.ref(attrId);
      this.v4.set(addr, len, attrId, 0);
      this.store.unref(old);
      return true;
    }
    this.store.ref(attrId);
    this.v4.set(addr, len, attrId, 0);
    return true;
  }

  deleteV4(addr: number, len: number): boolean {
    const slot = this.v4.find(addr, len);
    if (slot < 0) return false;
    this.store.unref(this.v4.slotA(slot));
    this.v4.deleteSlot(slot);
    return true;
  }

  setOther(prefix: string, pathId: number, attrId: number): boolean {
    let m = this.other.get(prefix);
    if (!m) {
      m = new Map();
      this.other.set(prefix, m);
    }
    const old = m.get(pathId);
    if (old === attrId * 2) return false;
    this.store.ref(attrId);
    m.set(pathId, attrId * 2);
    if (old !== undefined) this.store.unref(old >> 1);
    return true;
  }

  deleteOther(prefix: string, pathId: number): boolean {
    const m = this.other.get(prefix);
    const old = m?.get(pathId);
    if (!m || old === undefined) return false;
    m.delete(pathId);
    if (m.size === 0) this.other.delete(prefix);
    this.store.unref(old >> 1);
    return true;
  }

  /** Marks every path stale (graceful restart of the peer began). */
  markStale(): void {
    this.v4.forEachSlot((slot) => this.v4.setSlotB(slot, STALE));
    for (const m of this.other.values()) for (const [k, v] of m) m.set(k, v | STALE);
  }

  /**
   * Removes stale paths (of one family, or all), calling back with each removed prefix:
   * (addr, len) for IPv4 table entries, (string) for the others.
   */
  sweepStale(
    afi: 1 | 2 | 0,
    onV4: (addr: number, len: number) => void,
    onOther: (p: string) => void,
  ): number {
    let n = 0;
    if (afi !== 2) {
      this.v4.forEachSlot((slot, addr, len) => {
        if (this.v4.slotB(slot) & STALE) {
          this.store.unref(this.v4.slotA(slot));
          this.v4.deleteSlot(slot);
          onV4(addr, len);
          n++;
        }
      });
    }
    for (const [p, m] of [...this.other]) {
      const isV6 = p.includes(':');
      if ((afi === 1 && isV6) || (afi === 2 && !isV6)) continue;
      let changed = false;
      for (const [k, v] of [...m])
        if (v & STALE) {
          m.delete(k);
          this.store.unref(v >> 1);
          changed = true;
          n++;
        }
      if (m.size === 0) this.other.delete(p);
      if (changed) onOther(p);
    }
    return n;
  }

  /** Drops everything, calling back with each prefix removed. */
  clear(onV4: (addr: number, len: number) => void, onOther: (p: string) => void): void {
    const v4: number[] = [];
    this.v4.forEach((addr, len, a) => {
      this.store.unref(a);
      v4.push(addr, len);
    });
    this.v4.clear();
    const other = [...this.other];
    this.other.clear();
    for (const [p, m] of other) {
      for (const v of m.values()) this.store.unref(v >> 1);
      onOther(p);
    }
    for (let i = 0; i < v4.length; i += 2) onV4(v4[i]!, v4[i + 1]!);
  }
}
