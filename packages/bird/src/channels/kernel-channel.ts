/**
 * The kernel as a consumer of the Loc-RIB (BIRD's `kernel` protocol): the best paths of a
 * prefix become one route (`proto bird`, `via <next hop> dev <device> onlink`, every ECMP
 * next hop), nothing for paths we originate. It owns next-hop resolution (the device that
 * reaches a next hop, asked once per next hop, or tunl0 for IPIP pools) and batching: the
 * desired route of every prefix is a route-spec id in a compact prefix table with
 * pending/installed marks, and writes stream out of that table to the kernel (rtnetlink)
 * while new changes keep arriving — no batch is ever built in memory. Route changes the
 * kernel announces (`ip monitor route`) are checked against the table prefix by prefix and
 * repaired at once (a route of ours deleted or replaced by someone else); a periodic
 * read-back compares the whole kernel table with ours as a backstop.
 */
import type { Logger } from 'pino';
import type { KernelChange, KernelIo, RouteWrite } from '../kernel/io.js';
import { type NextHop, routeSpec } from '../kernel/routes.js';
import type { LocRib, PathRef } from '../rib/loc-rib.js';
import { PrefixList, PrefixTable, parseV4Prefix, v4String } from '../rib/prefix-table.js';
import type { Channel } from './channel.js';

/** Slot flags of the IPv4 table. */
const PENDING = 1; // the kernel may differ from the table: write it
const INSTALLED = 2; // a route of ours is in the kernel for this prefix
const SEEN = 4; // found in the kernel by the current read-back

export interface DeviceOverride {
  device(prefix: string): string | undefined;
  deviceV4(addr: number, len: number): string | undefined;
}

export interface KernelChannelOptions {
  rib: LocRib;
  io: KernelIo;
  log: Logger;
  /** After every write: seconds it took, routes written or removed, routes installed now. */
  onWrite?: (seconds: number, writes: number, installed: number) => void;
  /** Routes of ours the kernel announced as lost or changed, written again (prefixes). */
  onRepair?: (prefixes: string[]) => void;
}

interface OtherEntry {
  spec: number;
  flags: number;
}

export class KernelChannel implements Channel {
  readonly name = 'kernel';
  private readonly t4 = new PrefixTable(1024);
  private readonly other = new Map<string, OtherEntry>();
  private readonly specs: string[] = [''];
  /** The next hops of each route spec, as written to the kernel. */
  private readonly specHops: (readonly NextHop[])[] = [[]];
  private readonly specIds = new Map<string, number>();
  private readonly devices = new Map<string, string>();
  private readonly resolving = new Set<string>();
  /**
   * The prefixes whose route waits on a next hop being resolved: looked at again, alone, when
   * its device is known. A full feed instead costs every prefix of the Loc-RIB per new next
   * hop, which in a mesh is every peer's first route.
   */
  private readonly waiting = new Map<string, { v4: Set<number>; other: Set<string> }>();
  /** The next hops the last `specFor` could not resolve yet. */
  private unresolved: string[] = [];
  /** Woken when the last next hop being resolved is known. */
  private resolvedWaiters: (() => void)[] = [];
  /** attribute set → route spec of a single-path route, for the current batch. */
  private readonly specCache = new Map<number, number>();
  private override: DeviceOverride | undefined;
  private pendingCount = 0;
  private installedCount = 0;
  private writing: Promise<void> | undefined;
  private again = false;
  /** false while our own graceful restart runs: routes of the previous run are kept. */
  sweepAllowed = false;
  private watcher: { stop(): void } | undefined;

  constructor(private readonly o: KernelChannelOptions) {}

  /** Routes of ours in the kernel (as far as our writes know). */
  get installed(): number {
    return this.installedCount;
  }

  /** Prefixes whose kernel route is to be written. */
  get pending(): number {
    return this.pendingCount;
  }

  /** Device overrides (IPIP pools); the caller feeds the channel again afterwards. */
  setOverride(o: DeviceOverride | undefined): void {
    this.override = o;
    this.specCache.clear();
  }

  private specId(hops: readonly NextHop[]): number {
    const spec = routeSpec(hops);
    let id = this.specIds.get(spec);
    if (id === undefined) {
      id = this.specs.length;
      this.specs.push(spec);
      this.specHops.push(hops);
      this.specIds.set(spec, id);
    }
    return id;
  }

  /** The route spec id for a prefix's best paths; 0 = no kernel route. */
  private specFor(paths: readonly PathRef[], forced: string | undefined): number {
    this.unresolved.length = 0;
    const best = paths[0];
    if (!best) return 0;
    const src = this.o.rib.peers[best.peer];
    if (!src || src.local) return 0;
    const single = paths.length === 1 && forced === undefined;
    if (single) {
      const hit = this.specCache.get(best.attrId);
      if (hit !== undefined) return hit;
    }
    const hops: NextHop[] = [];
    let unresolved = false;
    for (const p of paths) {
      const nh = this.o.rib.store.get(p.attrId).nextHop;
      if (!nh || hops.some((h) => h.via === nh)) continue;
      const dev = forced ?? this.devices.get(nh);
      if (dev === undefined) {
        unresolved = true;
        this.unresolved.push(nh);
        this.resolve(nh);
        continue;
      }
      if (dev) hops.push({ via: nh, dev });
    }
    const id = hops.length ? this.specId(hops) : 0;
    if (single && !unresolved) this.specCache.set(best.attrId, id);
    return id;
  }

  private resolve(nh: string): void {
    if (this.resolving.has(nh)) return;
    this.resolving.add(nh);
    void this.o.io.deviceFor(nh).then((dev) => {
      this.resolving.delete(nh);
      this.devices.set(nh, dev);
      this.specCache.clear();
      if (!dev)
        this.o.log.warn({ nextHop: nh }, 'next hop is not reachable through any device; route not installed');
      this.retryWaiting(nh);
      if (this.resolving.size === 0) for (const w of this.resolvedWaiters.splice(0)) w();
    });
  }

  /** Keeps the prefix for when the next hops `specFor` could not resolve are known. */
  private waitFor(v4Key: number | undefined, prefix: string | undefined): void {
    for (const nh of this.unresolved) {
      let w = this.waiting.get(nh);
      if (!w) {
        w = { v4: new Set(), other: new Set() };
        this.waiting.set(nh, w);
      }
      if (v4Key !== undefined) w.v4.add(v4Key);
      if (prefix !== undefined) w.other.add(prefix);
    }
  }

  /** A next hop's device is known: the prefixes that waited on it get their routes. */
  private retryWaiting(nh: string): void {
    const w = this.waiting.get(nh);
    if (!w) return;
    this.waiting.delete(nh);
    const rib = this.o.rib;
    for (const key of w.v4) {
      const addr = Math.floor(key / 64);
      const len = key % 64;
      this.updateV4(addr, len, rib.pathsV4(addr, len), 0);
    }
    for (const p of w.other) this.updateOther(p, rib.paths(p));
    this.flush();
  }

  updateV4(addr: number, len: number, paths: readonly PathRef[], _id: number): void {
    const id = this.specFor(paths, paths.length ? this.override?.deviceV4(addr, len) : undefined);
    if (this.unresolved.length) this.waitFor(addr * 64 + len, undefined);
    const t = this.t4;
    const slot = t.find(addr, len);
    if (slot < 0) {
      if (!id) return;
      t.set(addr, len, id, 0);
      t.setSlotFlags(t.find(addr, len), PENDING);
      this.pendingCount++;
      return;
    }
    if (t.slotA(slot) === id) return;
    const f = t.slotFlags(slot);
    if (!id && !(f & INSTALLED)) {
      if (f & PENDING) this.pendingCount--;
      t.deleteSlot(slot);
      return;
    }
    t.setSlotA(slot, id);
    if (!(f & PENDING)) {
      t.setSlotFlags(slot, f | PENDING);
      this.pendingCount++;
    }
  }

  updateOther(prefix: string, paths: readonly PathRef[]): void {
    const id = this.specFor(paths, paths.length ? this.override?.device(prefix) : undefined);
    if (this.unresolved.length) this.waitFor(undefined, prefix);
    const e = this.other.get(prefix);
    if (!e) {
      if (!id) return;
      this.other.set(prefix, { spec: id, flags: PENDING });
      this.pendingCount++;
      return;
    }
    if (e.spec === id) return;
    if (!id && !(e.flags & INSTALLED)) {
      if (e.flags & PENDING) this.pendingCount--;
      this.other.delete(prefix);
      return;
    }
    e.spec = id;
    if (!(e.flags & PENDING)) {
      e.flags |= PENDING;
      this.pendingCount++;
    }
  }

  /** Ends a batch: starts a write unless one runs (which then goes round once more). */
  flush(): void {
    this.specCache.clear();
    if (this.pendingCount === 0) return;
    if (this.writing) {
      this.again = true;
      return;
    }
    this.writing = this.write().finally(() => {
      this.writing = undefined;
      if (this.again || this.pendingCount > 0) {
        this.again = false;
        setImmediate(() => this.flush());
      }
    });
  }

  /** Resolves once everything pending now (and meanwhile) is written. */
  async settle(): Promise<void> {
    while (this.writing || this.pendingCount > 0) {
      if (!this.writing) this.flush();
      await this.writing;
    }
  }

  /**
   * Resolves once the table is the whole desired state and written: no next hop is being
   * resolved (a prefix whose next hop is asked about has no route spec yet, though the
   * Loc-RIB has a path for it) and nothing is pending.
   */
  async idle(): Promise<void> {
    while (this.resolving.size || this.writing || this.pendingCount > 0) {
      if (this.resolving.size) await new Promise<void>((r) => this.resolvedWaiters.push(r));
      else await this.settle();
    }
  }

  /** Whether a kernel route of ours for this prefix is unwanted now (no route spec in the table). */
  private strayV4(addr: number, len: number): boolean {
    const slot = this.t4.find(addr, len);
    return slot < 0 || this.t4.slotA(slot) === 0;
  }

  private strayOther(prefix: string): boolean {
    return !this.other.get(prefix)?.spec;
  }

  /** Writes for the pending entries, marking each written as it is taken. */
  private *writes(): Generator<RouteWrite> {
    const t = this.t4;
    for (let slot = t.nextSlot(0); slot >= 0; slot = t.nextSlot(slot + 1)) {
      const f = t.slotFlags(slot);
      if (!(f & PENDING)) continue;
      const addr = t.addrOf(slot);
      const len = t.lenOf(slot);
      const id = t.slotA(slot);
      this.pendingCount--;
      if (id) {
        if (!(f & INSTALLED)) this.installedCount++;
        t.setSlotFlags(slot, (f & ~PENDING) | INSTALLED);
        yield { prefix: v4String(addr, len), hops: this.specHops[id]! };
      } else {
        if (f & INSTALLED) this.installedCount--;
        t.deleteSlot(slot);
        yield { prefix: v4String(addr, len) };
      }
    }
    for (const [p, e] of [...this.other]) {
      if (!(e.flags & PENDING)) continue;
      this.pendingCount--;
      if (e.spec) {
        if (!(e.flags & INSTALLED)) this.installedCount++;
        e.flags = INSTALLED;
        yield { prefix: p, hops: this.specHops[e.spec]! };
      } else {
        if (e.flags & INSTALLED) this.installedCount--;
        this.other.delete(p);
        yield { prefix: p };
      }
    }
  }

  private async write(): Promise<void> {
    const t0 = process.hrtime.bigint();
    try {
      const r = await this.o.io.apply(this.writes());
      if (r.failed || r.errors.length)
        this.o.log.warn({ failed: r.failed, errors: r.errors }, 'kernel route write had errors');
      this.o.onWrite?.(Number(process.hrtime.bigint() - t0) / 1e9, r.writes, this.installedCount);
    } catch (e) {
      this.o.log.warn({ err: (e as Error).message }, 'kernel write failed');
    }
  }

  /**
   * Reads our routes back and repairs drift: routes missing or different are written again;
   * routes of ours we do not want (left from before a restart, added by hand) are removed
   * once sweeping is allowed. A route is only taken for a stray against a complete table
   * (no next hop being resolved, before and after the read) and checked again just before
   * it is removed: a route a peer has just sent must never leave the kernel, not even for
   * the moment until the next write puts it back. Returns the number of routes written.
   */
  async reconcile(): Promise<number> {
    await this.idle();
    const t = this.t4;
    const stray4 = new PrefixList();
    const strayOther: string[] = [];
    const seenOther = new Set<string>();
    let repaired = 0;
    try {
      await this.o.io.routes((r) => {
        if (!r.prefix.includes(':')) {
          const [a, l] = r.prefix.split('/');
          const o = a!.split('.').map(Number);
          const addr = ((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0;
          const len = Number(l);
          if (this.strayV4(addr, len)) {
            if (this.sweepAllowed) stray4.push(addr, len);
            return;
          }
          const slot = t.find(addr, len);
          const f = t.slotFlags(slot);
          t.setSlotFlags(slot, f | SEEN);
          if (this.specs[t.slotA(slot)] !== r.spec && !(f & PENDING)) {
            t.setSlotFlags(slot, f | SEEN | PENDING);
            this.pendingCount++;
            repaired++;
          }
        } else {
          if (this.strayOther(r.prefix)) {
            if (this.sweepAllowed) strayOther.push(r.prefix);
            return;
          }
          const e = this.other.get(r.prefix)!;
          seenOther.add(r.prefix);
          if (this.specs[e.spec] !== r.spec && !(e.flags & PENDING)) {
            e.flags |= PENDING;
            this.pendingCount++;
            repaired++;
          }
        }
      });
    } catch (e) {
      // A read cut short (a dump the kernel interrupted): its marks must not count next time.
      t.forEachSlot((slot) => t.setSlotFlags(slot, t.slotFlags(slot) & ~SEEN));
      this.flush();
      throw e;
    }
    // Installed routes the kernel lost: write them again.
    t.forEachSlot((slot) => {
      const f = t.slotFlags(slot);
      if (f & SEEN) t.setSlotFlags(slot, f & ~SEEN);
      else if (f & INSTALLED && !(f & PENDING)) {
        t.setSlotFlags(slot, f | PENDING);
        this.pendingCount++;
        repaired++;
      }
    });
    for (const [p, e] of this.other)
      if (!seenOther.has(p) && e.flags & INSTALLED && !(e.flags & PENDING)) {
        e.flags |= PENDING;
        this.pendingCount++;
        repaired++;
      }
    // Changes that arrived during the read may have their next hops asked about: the table
    // is not the whole desired state, and strays wait for the next pass.
    const swept = { n: 0 };
    if (stray4.length + strayOther.length && this.resolving.size === 0)
      await this.o.io.apply(this.sweepWrites(stray4, strayOther, swept));
    this.flush();
    await this.settle();
    return repaired + swept.n;
  }

  /** Removals of the strays still unwanted as each is taken (counted in `swept.n`). */
  private *sweepWrites(
    stray4: PrefixList,
    strayOther: string[],
    swept: { n: number },
  ): Generator<RouteWrite> {
    for (let i = 0; i < stray4.length; i++) {
      const a = stray4.addr(i);
      const l = stray4.len(i);
      if (!this.strayV4(a, l)) continue;
      swept.n++;
      yield { prefix: v4String(a, l) };
    }
    for (const p of strayOther) {
      if (!this.strayOther(p)) continue;
      swept.n++;
      yield { prefix: p };
    }
  }

  /** Whether routes of ours are in the kernel now (a previous run's: we are restarting). */
  async anyInKernel(): Promise<boolean> {
    let any = false;
    await this.o.io.routes(() => {
      any = true;
    });
    return any;
  }

  /** Starts repairing from the kernel's route change announcements (when the kernel I/O has them). */
  watch(): void {
    this.watcher ??= this.o.io.watch?.((changes) => this.onKernelChanges(changes));
  }

  /** Stops watching and lets the kernel I/O end its processes (the speaker stops). */
  close(): void {
    this.watcher?.stop();
    this.watcher = undefined;
    this.o.io.close?.();
  }

  /**
   * Route changes the kernel announced, judged against the table prefix by prefix: a route
   * we installed that was deleted, or replaced by one that is not ours as we wrote it, is
   * written again. Our own writes announce exactly what the table says and change nothing;
   * our own removals concern prefixes no longer in the table. Strays are left to the
   * periodic read-back (which knows when sweeping is safe).
   */
  onKernelChanges(changes: readonly KernelChange[]): void {
    const repaired: string[] = [];
    const t = this.t4;
    for (const c of changes) {
      const intact = !c.deleted && c.ours;
      if (!c.prefix.includes(':')) {
        const p = parseV4Prefix(c.prefix);
        const slot = p ? t.find(p.addr, p.len) : -1;
        if (slot < 0) continue;
        const f = t.slotFlags(slot);
        if (!(f & INSTALLED) || f & PENDING || t.slotA(slot) === 0) continue;
        if (intact && this.specs[t.slotA(slot)] === c.spec) continue;
        t.setSlotFlags(slot, f | PENDING);
      } else {
        const e = this.other.get(c.prefix);
        if (!e || !(e.flags & INSTALLED) || e.flags & PENDING || !e.spec) continue;
        if (intact && this.specs[e.spec] === c.spec) continue;
        e.flags |= PENDING;
      }
      this.pendingCount++;
      repaired.push(c.prefix);
    }
    if (!repaired.length) return;
    this.o.onRepair?.(repaired);
    this.flush();
  }

  /** Removes every route we installed (a clean stop without graceful restart). */
  async removeAll(): Promise<void> {
    await this.settle();
    const t = this.t4;
    t.forEachSlot((slot) => {
      t.setSlotA(slot, 0);
      if (!(t.slotFlags(slot) & PENDING)) {
        t.setSlotFlags(slot, t.slotFlags(slot) | PENDING);
        this.pendingCount++;
      }
    });
    for (const e of this.other.values()) {
      e.spec = 0;
      if (!(e.flags & PENDING)) {
        e.flags |= PENDING;
        this.pendingCount++;
      }
    }
    this.flush();
    await this.settle();
  }

  /** Installed route of a prefix, for `show route` views ('' when none). */
  routeOf(prefix: string): string {
    if (prefix.includes(':')) {
      const e = this.other.get(prefix);
      return e && e.flags & INSTALLED ? this.specs[e.spec]! : '';
    }
    const p = parseV4Prefix(prefix);
    const slot = p ? this.t4.find(p.addr, p.len) : -1;
    return slot >= 0 && this.t4.slotFlags(slot) & INSTALLED ? this.specs[this.t4.slotA(slot)]! : '';
  }
}
