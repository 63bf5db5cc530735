/**
 * The Adj-RIB-Out of one Established session, kept as BIRD keeps its export state: one bit
 * per Loc-RIB prefix id for "advertised to this peer" (what it was advertised with follows
 * from the Loc-RIB and the shared outbound sets, outbound.ts), and a pending table of
 * changes to send (prefix → outbound set, 0 = withdraw). UPDATEs pack prefixes sharing an
 * outbound set, and every message of a batch leaves in one socket write. When the socket
 * is full the rest waits in the pending table for 'drain', so a slow peer costs a table
 * entry per prefix, not buffered messages. A route reflector with 500 clients and 500
 * prefixes keeps 500 × 63 bytes of export state, not 500 tables.
 */
import { ipv4FromString } from 'bgp-parser-ts';
import type { LocRib, PathRef } from '../rib/loc-rib.js';
import { PrefixList, PrefixTable, v4String } from '../rib/prefix-table.js';
import type { Family } from '../session/capabilities.js';
import type { Channel } from './channel.js';
import type { Exporter, ExportTarget } from './outbound.js';
import { UpdateBuffer } from './update-builder.js';

export interface PeerChannelOptions {
  name: string;
  rib: LocRib;
  exporter: Exporter;
  target: ExportTarget;
  families: ReadonlySet<Family>;
  /** Our address on the session, for next hop self ('' when it has none of that family). */
  selfV4: string;
  selfV6: string;
  /** Sends encoded UPDATEs; false when the socket's buffer is full (call `drained` on 'drain'). */
  write(bytes: Uint8Array, messages: number): boolean;
  /** Counts of prefixes announced and withdrawn, per family; kept by the peer across sessions. */
  sentChanges?: Record<Family, ExportChanges>;
}

export interface ExportChanges {
  exportUpdates: number;
  exportWithdraws: number;
}

const uncounted = (): Record<Family, ExportChanges> => ({
  ipv4: { exportUpdates: 0, exportWithdraws: 0 },
  ipv6: { exportUpdates: 0, exportWithdraws: 0 },
});

/** Bytes of UPDATEs built per write before waiting for the socket to take them. */
const ROUND_BYTES = 1 << 20;

/**
 * One build buffer for every channel (building is synchronous and each batch leaves as a
 * copy): a buffer per peer would keep up to a round's bytes per peer for nothing.
 */
const buffer = new UpdateBuffer();

export class PeerChannel implements Channel {
  readonly name: string;
  /** Bit per Loc-RIB prefix id: advertised to the peer. */
  private sentBits = new Uint8Array(16);
  private sentCount = 0;
  private readonly sentOther = new Map<string, number>();
  private pend4 = new PrefixTable(16);
  private readonly pendOther = new Map<string, number>();
  private blocked = false;
  private idle: (() => void)[] = [];
  private readonly self4: number;
  private readonly counts: Record<Family, ExportChanges>;

  constructor(private readonly o: PeerChannelOptions) {
    this.name = o.name;
    this.counts = o.sentChanges ?? uncounted();
    this.self4 = o.selfV4 ? ipv4FromString(o.selfV4) : 0;
  }

  /** Prefixes advertised to the peer. */
  get size(): number {
    return this.sentCount + this.sentOther.size;
  }

  /** Prefixes advertised to the peer, per family (IPv4 are counted by bit, the others are IPv6). */
  get sizes(): Record<Family, number> {
    return { ipv4: this.sentCount, ipv6: this.sentOther.size };
  }

  private sent(id: number): boolean {
    const i = id >>> 3;
    return id !== 0 && i < this.sentBits.length && (this.sentBits[i]! & (1 << (id & 7))) !== 0;
  }

  private mark(id: number, on: boolean): void {
    if (id === 0 || this.sent(id) === on) return;
    const i = id >>> 3;
    if (i >= this.sentBits.length) {
      const next = new Uint8Array(Math.max(i + 1, this.sentBits.length * 2));
      next.set(this.sentBits);
      this.sentBits = next;
    }
    this.sentBits[i]! ^= 1 << (id & 7);
    this.sentCount += on ? 1 : -1;
  }

  /** Changes waiting for the socket. */
  get pending(): number {
    return this.pend4.size + this.pendOther.size;
  }

  updateV4(addr: number, len: number, paths: readonly PathRef[], prefixId: number): void {
    if (!this.o.families.has('ipv4')) return;
    const want = this.o.exporter.outbound(paths[0], this.o.target);
    const out = this.o.exporter.out;
    let advertised = this.sent(prefixId);
    if (paths.length) {
      // Removed and added again within one batch, the prefix has a new id: the mark follows.
      const now = this.o.rib.idOfV4(addr, len);
      if (now !== prefixId) {
        this.mark(prefixId, false);
        if (advertised) this.mark(now, true);
        advertised = this.sent(now);
      }
    } else this.mark(prefixId, false); // the id goes back to the Loc-RIB
    const p = this.pend4.find(addr, len);
    const queued = p >= 0 ? this.pend4.slotA(p) : -1;
    if (queued === want) return;
    if (queued > 0) out.unref(queued);
    if (want === 0 && !advertised && !(queued === 0)) {
      if (p >= 0) this.pend4.deleteSlot(p);
      return;
    }
    if (want) out.ref(want);
    if (p >= 0) this.pend4.setSlotA(p, want);
    else this.pend4.set(addr, len, want, 0);
    // A withdrawal is settled now: the bit is cleared when staged, as the id may be reused.
    if (want === 0) this.mark(this.o.rib.idOfV4(addr, len), false);
  }

  updateOther(prefix: string, paths: readonly PathRef[]): void {
    if (!this.o.families.has('ipv6')) return;
    const id = this.o.exporter.outbound(paths[0], this.o.target);
    const out = this.o.exporter.out;
    const cur = this.sentOther.get(prefix) ?? 0;
    const queued = this.pendOther.get(prefix);
    if (queued === id) return;
    if (queued) out.unref(queued);
    if (id === cur) {
      this.pendOther.delete(prefix);
      return;
    }
    if (id) out.ref(id);
    this.pendOther.set(prefix, id);
  }

  /** Runs `fn` once everything staged so far has been handed to the socket (e.g. End-of-RIB). */
  whenSent(fn: () => void): void {
    if (this.pending === 0) fn();
    else this.idle.push(fn);
  }

  /** The socket took what it had: continue with what waits. */
  drained(): void {
    this.blocked = false;
    this.flush();
  }

  flush(): void {
    this.send();
    this.shrinkPending();
    if (this.pending === 0 && this.idle.length) {
      const fns = this.idle;
      this.idle = [];
      for (const fn of fns) fn();
    }
  }

  private send(): void {
    this.shrinkPending();
    let idle = 0;
    while (!this.blocked && this.pending > 0) {
      const b = buffer;
      b.reset();
      this.build4(b);
      if (b.pos < ROUND_BYTES) this.buildOther(b);
      if (b.messages === 0) {
        if (++idle > 2) return; // unsendable changes were turned into withdrawals: once more
        continue;
      }
      if (!this.o.write(b.bytes.slice(), b.messages)) this.blocked = true;
    }
  }

  /** A pending table grown for a full export is walked on every later change, and held: start small again. */
  private shrinkPending(): void {
    if (this.pend4.capacity > 64 && this.pend4.size * 16 < this.pend4.capacity)
      this.pend4 = this.pend4.copy();
  }

  private build4(b: UpdateBuffer): void {
    if (this.pend4.size === 0) return;
    const out = this.o.exporter.out;
    const groups = new Map<number, PrefixList>();
    const withdraw = new PrefixList(4);
    this.pend4.forEachSlot((slot, addr, len) => {
      const id = this.pend4.slotA(slot);
      if (id === 0) withdraw.push(addr, len);
      else {
        let g = groups.get(id);
        if (!g) {
          g = new PrefixList(1);
          groups.set(id, g);
        }
        g.push(addr, len);
      }
    });
    const take = (list: PrefixList, id: number) => {
      for (let i = 0; i < list.length; i++) {
        const addr = list.addr(i);
        const len = list.len(i);
        if (id) {
          out.unref(id);
          this.mark(this.o.rib.idOfV4(addr, len), true);
        }
        this.pend4.delete(addr, len);
      }
    };
    if (withdraw.length) {
      b.withdrawV4(withdraw.raw, withdraw.length);
      this.counts.ipv4.exportWithdraws += withdraw.length;
      take(withdraw, 0);
    }
    for (const [id, list] of groups) {
      if (b.pos >= ROUND_BYTES) break;
      const set = out.get(id);
      const nh = set.nextHop ? set.nextHop4 : this.self4;
      if (!nh) {
        // No IPv4 next hop to give: not advertised (what was sent before is withdrawn).
        for (let i = 0; i < list.length; i++) {
          const id4 = this.o.rib.idOfV4(list.addr(i), list.len(i));
          out.unref(id);
          if (this.sent(id4)) {
            this.pend4.set(list.addr(i), list.len(i), 0, 0);
            this.mark(id4, false);
          } else this.pend4.delete(list.addr(i), list.len(i));
        }
        continue;
      }
      b.announceV4(set.attrs, set.nhPos, nh, list.raw, list.length);
      this.counts.ipv4.exportUpdates += list.length;
      take(list, id);
    }
  }

  private buildOther(b: UpdateBuffer): void {
    if (this.pendOther.size === 0) return;
    const out = this.o.exporter.out;
    const groups = new Map<number, string[]>();
    const withdraw: string[] = [];
    for (const [p, id] of this.pendOther) {
      if (id === 0) withdraw.push(p);
      else {
        let g = groups.get(id);
        if (!g) {
          g = [];
          groups.set(id, g);
        }
        g.push(p);
      }
    }
    const take = (list: string[], id: number) => {
      for (const p of list) {
        const cur = this.sentOther.get(p);
        if (cur) out.unref(cur);
        if (id) this.sentOther.set(p, id);
        else this.sentOther.delete(p);
        this.pendOther.delete(p);
      }
    };
    const sentBefore = withdraw.filter((p) => this.sentOther.has(p));
    if (sentBefore.length) {
      b.withdrawV6(sentBefore);
      this.counts.ipv6.exportWithdraws += sentBefore.length;
    }
    take(withdraw, 0);
    for (const [id, list] of groups) {
      const set = out.get(id);
      const nh = set.nextHop.includes(':') ? set.nextHop : this.o.selfV6;
      if (!nh) {
        for (const p of list) {
          out.unref(id);
          if (this.sentOther.has(p)) this.pendOther.set(p, 0);
          else this.pendOther.delete(p);
        }
        continue;
      }
      b.announceV6(set.attrs, nh, list);
      this.counts.ipv6.exportUpdates += list.length;
      take(list, id);
    }
  }

  /** Prefixes advertised with the next hop they carry. */
  exported(): { prefix: string; nextHop: string }[] {
    const ex = this.o.exporter;
    const rows: { prefix: string; nextHop: string }[] = [];
    const nh = (id: number, self: string) => (id ? ex.out.get(id).nextHop : '') || self;
    this.o.rib.forEachV4((addr, len, paths, id) => {
      if (this.sent(id))
        rows.push({
          prefix: v4String(addr, len),
          nextHop: nh(ex.outbound(paths[0], this.o.target), this.o.selfV4),
        });
    });
    for (const [p, id] of this.sentOther) rows.push({ prefix: p, nextHop: nh(id, this.o.selfV6) });
    return rows;
  }

  /** Forgets everything (session down): every reference is given back. */
  reset(): void {
    const out = this.o.exporter.out;
    this.pend4.forEach((_a, _l, id) => {
      if (id) out.unref(id);
    });
    for (const id of this.sentOther.values()) out.unref(id);
    for (const id of this.pendOther.values()) if (id) out.unref(id);
    this.sentBits = new Uint8Array(16);
    this.sentCount = 0;
    this.pend4.clear();
    this.sentOther.clear();
    this.pendOther.clear();
    this.idle = [];
  }
}
