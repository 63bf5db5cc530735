/**
 * The Adj-RIB-Out of one Established session: what was sent per prefix (an outbound set
 * id, outbound.ts) and what is to be sent, both in compact prefix tables, and the UPDATEs
 * that turn one into the other — prefixes sharing an outbound set packed together, every
 * message of a batch in one socket write. When the socket is full the rest waits in the
 * pending table for 'drain', so a slow peer costs a table entry per prefix, not buffered
 * messages. Both tables hold a reference on the outbound sets they name.
 */
import { ipv4FromString } from 'bgp-parser-ts';
import type { PathRef } from '../rib/loc-rib.js';
import { PrefixList, PrefixTable, v4String } from '../rib/prefix-table.js';
import type { Family } from '../session/capabilities.js';
import type { Channel } from './channel.js';
import type { Exporter, ExportTarget } from './outbound.js';
import { UpdateBuffer } from './update-builder.js';

export interface PeerChannelOptions {
  name: string;
  exporter: Exporter;
  target: ExportTarget;
  families: ReadonlySet<Family>;
  /** Our address on the session, for next hop self ('' when it has none of that family). */
  selfV4: string;
  selfV6: string;
  /** Sends encoded UPDATEs; false when the socket's buffer is full (call `drained` on 'drain'). */
  write(bytes: Uint8Array, messages: number): boolean;
  /** About how many prefixes the peer will be sent (sizes the table once instead of growing it). */
  expectedPrefixes?: number;
}

/** Bytes of UPDATEs built per write before waiting for the socket to take them. */
const ROUND_BYTES = 1 << 20;

/**
 * One build buffer for every channel (building is synchronous and each batch leaves as a
 * copy): a buffer per peer would keep up to a round's bytes per peer for nothing.
 */
const buffer = new UpdateBuffer();

export class PeerChannel implements Channel {
  readonly name: string;
  private readonly sent4: PrefixTable;
  private readonly sentOther = new Map<string, number>();
  private pend4 = new PrefixTable(16);
  private readonly pendOther = new Map<string, number>();
  private blocked = false;
  private idle: (() => void)[] = [];
  private readonly self4: number;

  constructor(private readonly o: PeerChannelOptions) {
    this.name = o.name;
    this.sent4 = new PrefixTable(o.expectedPrefixes ?? 16);
    this.self4 = o.selfV4 ? ipv4FromString(o.selfV4) : 0;
  }

  /** Prefixes advertised to the peer. */
  get size(): number {
    return this.sent4.size + this.sentOther.size;
  }

  /** Changes waiting for the socket. */
  get pending(): number {
    return this.pend4.size + this.pendOther.size;
  }

  updateV4(addr: number, len: number, paths: readonly PathRef[]): void {
    if (!this.o.families.has('ipv4')) return;
    const id = this.o.exporter.outbound(paths[0], this.o.target);
    const out = this.o.exporter.out;
    const s = this.sent4.find(addr, len);
    const cur = s >= 0 ? this.sent4.slotA(s) : 0;
    const p = this.pend4.find(addr, len);
    if (p >= 0) {
      const queued = this.pend4.slotA(p);
      if (queued === id) return;
      if (queued) out.unref(queued);
      if (id === cur) {
        this.pend4.deleteSlot(p);
        return;
      }
    } else if (id === cur) return;
    if (id) out.ref(id);
    this.pend4.set(addr, len, id, 0);
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
        const s = this.sent4.find(addr, len);
        if (s >= 0) out.unref(this.sent4.slotA(s));
        if (id) this.sent4.set(addr, len, id, 0);
        else if (s >= 0) this.sent4.deleteSlot(s);
        this.pend4.delete(addr, len);
      }
    };
    if (withdraw.length) {
      b.withdrawV4(withdraw.raw, withdraw.length);
      take(withdraw, 0);
    }
    for (const [id, list] of groups) {
      if (b.pos >= ROUND_BYTES) break;
      const set = out.get(id);
      const nh = set.nextHop ? set.nextHop4 : this.self4;
      if (!nh) {
        // No IPv4 next hop to give: not advertised (what was sent before is withdrawn).
        for (let i = 0; i < list.length; i++) {
          out.unref(id);
          if (this.sent4.has(list.addr(i), list.len(i))) this.pend4.set(list.addr(i), list.len(i), 0, 0);
          else this.pend4.delete(list.addr(i), list.len(i));
        }
        continue;
      }
      b.announceV4(set.attrs, set.nhPos, nh, list.raw, list.length);
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
    if (sentBefore.length) b.withdrawV6(sentBefore);
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
      take(list, id);
    }
  }

  /** Prefixes advertised with the next hop they carry ('' = ours). */
  exported(): { prefix: string; nextHop: string }[] {
    const out = this.o.exporter.out;
    const rows: { prefix: string; nextHop: string }[] = [];
    const nh = (id: number, self: string) => out.get(id).nextHop || self;
    this.sent4.forEach((addr, len, id) => {
      rows.push({ prefix: v4String(addr, len), nextHop: nh(id, this.o.selfV4) });
    });
    for (const [p, id] of this.sentOther) rows.push({ prefix: p, nextHop: nh(id, this.o.selfV6) });
    return rows;
  }

  /** Forgets everything (session down): every reference is given back. */
  reset(): void {
    const out = this.o.exporter.out;
    this.sent4.forEach((_a, _l, id) => {
      out.unref(id);
    });
    this.pend4.forEach((_a, _l, id) => {
      if (id) out.unref(id);
    });
    for (const id of this.sentOther.values()) out.unref(id);
    for (const id of this.pendOther.values()) if (id) out.unref(id);
    this.sent4.clear();
    this.pend4.clear();
    this.sentOther.clear();
    this.pendOther.clear();
    this.idle = [];
  }
}
