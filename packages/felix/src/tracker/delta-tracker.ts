export interface DeltaTrackerOptions<K, D, P> {
  /** Whether the kernel's value `dataplane` already is what `desired` asks for. Default: `Object.is`. */
  inSync?: (desired: D, dataplane: P, key: K) => boolean;
  /**
   * Whether two desired values are equal: setting an equal value is a no-op and the stored
   * object stays (drivers cache renderings by identity). Default: `Object.is`.
   */
  sameDesired?: (a: D, b: D) => boolean;
  /**
   * Whether a kernel item nobody desires is felix's to remove. Items that are not felix's
   * (an operator's route, a foreign chain) stay in the dataplane view — a desired item at the
   * same key then conflicts — and are never pending deletion. Default: every item is.
   */
  owned?: (key: K, dataplane: P) => boolean;
  /**
   * Drop a dataplane entry that is not `owned` once nothing desires its key (values felix
   * only ever sets, such as sysctls: remembering them would grow with every pod that left).
   */
  forgetUnowned?: boolean;
  /** The size of a desired value in a metric's unit (the rules of a chain), kept as a running total. */
  weigh?: (d: D) => number;
}

/**
 * One kind of kernel object as felix tracks it (Calico's DeltaTracker): the desired state
 * the calculators set, the dataplane as felix last read or wrote it, and what is pending —
 * the keys to set (desired, and different in or absent from the dataplane) and the keys to
 * delete (in the dataplane, felix's own, desired by nobody). Pending is kept up to date on
 * every change, so a driver writes exactly the pending items and nothing is diffed in full
 * except after a read of the kernel.
 *
 * Pending items come out in write order: the order in which they last became pending.
 *
 * An item a driver cannot write yet (its device is missing, an operator's route holds its
 * destination) simply stays pending and is tried again by the next apply.
 *
 * Reads beside writes: `beginRead()` when a background read of the kernel starts,
 * `replaceDataplane(read)` when it is done. What felix wrote between the two is newer than
 * the read, so for those keys the dataplane view keeps what felix wrote.
 */
export class DeltaTracker<K, D, P = D> {
  private readonly want = new Map<K, D>();
  private dp = new Map<K, P>();
  private readonly sets = new Set<K>();
  private readonly dels = new Set<K>();
  private readWritten: Set<K> | undefined;
  private known = false;
  private weight = 0;
  private readonly inSync: (d: D, p: P, k: K) => boolean;
  private readonly sameDesired: (a: D, b: D) => boolean;
  private readonly owned: (k: K, p: P) => boolean;

  constructor(private readonly opts: DeltaTrackerOptions<K, D, P> = {}) {
    this.inSync = opts.inSync ?? ((d, p) => Object.is(d, p));
    this.sameDesired = opts.sameDesired ?? Object.is;
    this.owned = opts.owned ?? (() => true);
  }

  // ---- desired side (the calculators) ----

  get desired(): ReadonlyMap<K, D> {
    return this.want;
  }

  /** Sum of `weigh` over the desired values. */
  get desiredWeight(): number {
    return this.weight;
  }

  /** Desired values set to something new or deleted so far (felix's `felix_int_dataplane_messages`). */
  desiredChanges = 0;

  setDesired(k: K, d: D): void {
    const cur = this.want.get(k);
    if (cur !== undefined && (cur === d || this.sameDesired(cur, d))) return;
    if (this.opts.weigh) this.weight += this.opts.weigh(d) - (cur === undefined ? 0 : this.opts.weigh(cur));
    this.want.set(k, d);
    this.desiredChanges++;
    this.recompute(k);
  }

  deleteDesired(k: K): void {
    const cur = this.want.get(k);
    if (cur === undefined) return;
    if (this.opts.weigh) this.weight -= this.opts.weigh(cur);
    this.want.delete(k);
    this.desiredChanges++;
    this.recompute(k);
  }

  // ---- dataplane side (the drivers) ----

  get dataplane(): ReadonlyMap<K, P> {
    return this.dp;
  }

  /** Whether the dataplane view came from a read (else a driver reads the kernel before it writes). */
  get synced(): boolean {
    return this.known;
  }

  /** The kernel now holds `p` at `k` (a driver wrote it). */
  wrote(k: K, p: P): void {
    this.dp.set(k, p);
    this.readWritten?.add(k);
    this.recompute(k);
  }

  /** The kernel no longer holds `k` (a driver deleted it). */
  removed(k: K): void {
    this.dp.delete(k);
    this.readWritten?.add(k);
    this.recompute(k);
  }

  /** The kernel dropped these items by itself (their device went): they become pending again if desired. */
  forgetDataplane(which: (k: K, p: P) => boolean): void {
    for (const [k, p] of [...this.dp]) if (which(k, p)) this.removed(k);
  }

  /** A read of the kernel starts; writes from now on win over what it returns. */
  beginRead(): void {
    this.readWritten ??= new Set();
  }

  /** The read started by `beginRead` failed or was abandoned. */
  cancelRead(): void {
    this.readWritten = undefined;
  }

  /**
   * The kernel as a read found it (a resync or a background refresh). Keys written since
   * `beginRead` keep the view's value; pending is recomputed over everything — this is what
   * repairs drift.
   */
  replaceDataplane(read: Iterable<readonly [K, P]>): void {
    const fresh = new Map<K, P>(read);
    for (const k of this.readWritten ?? []) {
      const p = this.dp.get(k);
      if (p === undefined) fresh.delete(k);
      else fresh.set(k, p);
    }
    this.readWritten = undefined;
    this.dp = fresh;
    this.known = true;
    this.recomputeAll();
  }

  /**
   * Reads the kernel beside whatever else runs (`beginRead`, the read, `replaceDataplane`);
   * one read at a time: a call while one runs joins it.
   */
  resync(read: () => Promise<Iterable<readonly [K, P]>>): Promise<void> {
    if (this.reading) return this.reading;
    this.beginRead();
    const gen = ++this.readGen;
    this.reading = read()
      .then(
        (items) => {
          if (gen === this.readGen) this.replaceDataplane(items);
        },
        (e: unknown) => {
          if (gen === this.readGen) this.cancelRead();
          throw e;
        },
      )
      .finally(() => {
        if (gen === this.readGen) this.reading = undefined;
      });
    return this.reading;
  }

  private reading: Promise<void> | undefined;
  /** Bumped by `invalidate`: a read begun before it is dropped (its result may predate what made the view wrong). */
  private readGen = 0;

  /** The dataplane view is no longer trusted (a write failed, netlink said so): read before the next write. */
  invalidate(): void {
    this.readWritten = undefined;
    this.readGen++;
    this.reading = undefined;
    this.dp = new Map();
    this.known = false;
    this.recomputeAll();
  }

  /** Treat the (empty) view as read: for kinds whose items are checked one by one before a write. */
  assumeEmpty(): void {
    if (!this.known) this.replaceDataplane([]);
  }

  // ---- pending ----

  get pendingCount(): number {
    return this.sets.size + this.dels.size;
  }

  /** Keys to write with their desired values, in write order (a snapshot: safe across awaits). */
  pendingSets(): [K, D][] {
    const out: [K, D][] = [];
    for (const k of this.sets) out.push([k, this.want.get(k)!]);
    return out;
  }

  /** Keys to delete with the dataplane values felix knows, in write order (a snapshot). */
  pendingDeletes(): [K, P][] {
    const out: [K, P][] = [];
    for (const k of this.dels) out.push([k, this.dp.get(k)!]);
    return out;
  }

  isPending(k: K): boolean {
    return this.sets.has(k) || this.dels.has(k);
  }

  private recomputeAll(): void {
    this.sets.clear();
    this.dels.clear();
    for (const [k, d] of this.want) {
      const p = this.dp.get(k);
      if (p === undefined || !this.inSync(d, p, k)) this.sets.add(k);
    }
    for (const [k, p] of this.dp) {
      if (this.want.has(k)) continue;
      if (this.owned(k, p)) this.dels.add(k);
      else if (this.opts.forgetUnowned) this.dp.delete(k);
    }
  }

  private recompute(k: K): void {
    this.sets.delete(k);
    this.dels.delete(k);
    const d = this.want.get(k);
    const p = this.dp.get(k);
    if (d !== undefined) {
      if (p === undefined || !this.inSync(d, p, k)) this.sets.add(k);
    } else if (p !== undefined) {
      if (this.owned(k, p)) this.dels.add(k);
      else if (this.opts.forgetUnowned) this.dp.delete(k);
    }
  }
}
