import { EventEmitter } from 'node:events';
import type { Etcd3, IKeyValue, IWatchResponse, Watcher } from 'etcd3';
import { KV, type Versioned } from './kv.js';

export type WatchEvent<T> =
  | { type: 'put'; key: string; value: T; modRevision: string; previous?: T }
  | { type: 'delete'; key: string; previous: T; modRevision: string };

export interface ReflectorOptions<T> {
  /** Turns a stored value into the consumer's type; undefined drops it (e.g. invalid data). */
  decode: (v: Versioned) => T | undefined;
  /** Resume from a point the consumer already knows: its state and the revision it reflects. */
  resume?: { revision: string; known: Map<string, Versioned<T>> };
  /** Delay before re-listing after a failure (doubles up to maxBackoffMs). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface Reflector<T> {
  on(event: 'event', fn: (e: WatchEvent<T>) => void): this;
  /** The cache matches etcd as of `revision` (after the first list and after every resync). */
  on(event: 'synced', fn: (info: { revision: string; resync: boolean }) => void): this;
  /** A re-list began: the watch could not resume (compaction, cancel, error). */
  on(event: 'resync', fn: (info: { reason: string }) => void): this;
  on(event: 'disconnected' | 'connected', fn: () => void): this;
  on(event: 'error', fn: (err: Error) => void): this;
}

/**
 * List + watch of a key prefix with a local cache, in the manner of a Kubernetes
 * reflector. Consumers see every change exactly once, in revision order:
 *  - a connection drop is resumed by the etcd client from the last revision seen;
 *  - events at or below the cached ModRevision of a key are dropped (no duplicates);
 *  - when the watch cannot resume (its revision was compacted, or it was cancelled),
 *    the prefix is re-listed and only the differences from the cache are emitted, as
 *    ordinary put/delete events, followed by `synced` — nothing lost, nothing repeated,
 *    and no flush of consumers' state.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: typed event overloads for EventEmitter
export class Reflector<T> extends EventEmitter {
  readonly cache = new Map<string, Versioned<T>>();
  private watcher: Watcher | undefined;
  /**
   * This reflector's own watch stream. etcd3 multiplexes every watcher of a namespace over
   * one stream, and when several are cancelled at once (a compaction cancels them all) it can
   * receive a response for a watcher it already dropped and throws from a stream handler,
   * killing the process. A namespace per reflector gives each its own stream (and manager).
   */
  private watchSpace: ReturnType<Etcd3['namespace']> | undefined;
  private generation = 0;
  private stopped = false;
  private revision = '0';
  private readonly kv: KV;
  resyncs = 0;

  constructor(
    readonly etcd: Etcd3,
    readonly prefix: string,
    private readonly opts: ReflectorOptions<T>,
  ) {
    super();
    this.kv = new KV(etcd);
  }

  /** The revision the cache reflects. */
  get currentRevision(): string {
    return this.revision;
  }

  /** Starts; resolves after the first `synced`. */
  async start(): Promise<void> {
    const synced = new Promise<void>((resolve) => this.once('synced', () => resolve()));
    if (this.opts.resume) {
      for (const [k, v] of this.opts.resume.known) this.cache.set(k, v);
      this.revision = this.opts.resume.revision;
      // etcd accepts a watch from a compacted revision and cancels it a moment later; a
      // read at that revision fails at once, so a lost history is found before `synced`.
      const compacted = await this.etcd
        .getAll()
        .prefix(this.prefix)
        .revision(this.revision)
        .count()
        .then(
          () => undefined,
          (e: Error) => e.message,
        );
      if (compacted !== undefined)
        void this.relist(true, `cannot resume from revision ${this.revision}: ${compacted}`);
      else if (await this.watchFrom(this.revision))
        this.emit('synced', { revision: this.revision, resync: false });
    } else {
      void this.relist(false);
    }
    await synced;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.generation++;
    const w = this.watcher;
    this.watcher = undefined;
    if (w) await w.cancel().catch(() => undefined);
  }

  /** Errors are reported to listeners if any; the reflector itself always recovers. */
  private report(err: Error): void {
    if (this.listenerCount('error') > 0) this.emit('error', err);
  }

  private async relist(resync: boolean, reason = ''): Promise<void> {
    const gen = ++this.generation;
    const old = this.watcher;
    this.watcher = undefined;
    if (old) void old.cancel().catch(() => undefined);
    if (resync) {
      this.resyncs++;
      this.emit('resync', { reason });
    }
    let delay = this.opts.backoffMs ?? 100;
    for (;;) {
      if (this.stopped || gen !== this.generation) return;
      try {
        const { items, revision } = await this.kv.list(this.prefix);
        if (this.stopped || gen !== this.generation) return;
        this.applySnapshot(items);
        this.revision = revision;
        this.emit('synced', { revision, resync });
        await this.watchFrom(revision, gen);
        return;
      } catch (e) {
        this.report(e as Error);
        await new Promise((r) => setTimeout(r, delay));
        delay = Math.min(delay * 2, this.opts.maxBackoffMs ?? 2_000);
      }
    }
  }

  /** Emits the difference between the cache and a fresh listing, then adopts the listing. */
  private applySnapshot(items: Versioned[]): void {
    const seen = new Set<string>();
    for (const raw of items) {
      seen.add(raw.key);
      const cur = this.cache.get(raw.key);
      if (cur && cur.modRevision === raw.modRevision) continue;
      this.applyPut(raw, cur);
    }
    for (const [key, cur] of [...this.cache]) {
      if (!seen.has(key)) {
        this.cache.delete(key);
        this.emit('event', { type: 'delete', key, previous: cur.value, modRevision: this.revision });
      }
    }
  }

  private applyPut(raw: Versioned, cur: Versioned<T> | undefined): void {
    const value = this.opts.decode(raw);
    if (value === undefined) {
      // Undecodable now: to the consumer it is as if the key were gone.
      if (cur) {
        this.cache.delete(raw.key);
        this.emit('event', {
          type: 'delete',
          key: raw.key,
          previous: cur.value,
          modRevision: raw.modRevision,
        });
      }
      return;
    }
    this.cache.set(raw.key, { ...raw, value });
    const e: WatchEvent<T> = { type: 'put', key: raw.key, value, modRevision: raw.modRevision };
    if (cur) e.previous = cur.value;
    this.emit('event', e);
  }

  /** Opens the watch after `revision`; false when it could not (a resync was started instead). */
  private async watchFrom(revision: string, gen = ++this.generation): Promise<boolean> {
    const start = (BigInt(revision) + 1n).toString();
    let watcher: Watcher;
    try {
      this.watchSpace ??= this.etcd.namespace(this.prefix);
      watcher = await this.watchSpace.watch().prefix('').startRevision(start).create();
    } catch (e) {
      if (gen === this.generation && !this.stopped)
        void this.relist(true, `watch could not resume: ${(e as Error).message}`);
      return false;
    }
    if (this.stopped || gen !== this.generation) {
      void watcher.cancel().catch(() => undefined);
      return false;
    }
    this.watcher = watcher;
    watcher.on('data', (res: IWatchResponse) => {
      if (gen !== this.generation) return;
      for (const ev of res.events) this.applyEvent(ev.type, ev.kv);
      this.revision = res.header.revision;
    });
    watcher.on('disconnected', () => gen === this.generation && this.emit('disconnected'));
    watcher.on('connected', () => gen === this.generation && this.emit('connected'));
    watcher.on('error', (err: Error) => {
      if (gen !== this.generation || this.stopped) return;
      void this.relist(true, err.message);
    });
    return true;
  }

  private applyEvent(type: string, kv: IKeyValue): void {
    // Keys arrive relative to the reflector's namespace (its prefix).
    const key = this.prefix + kv.key.toString();
    const cur = this.cache.get(key);
    if (cur && BigInt(cur.modRevision) >= BigInt(kv.mod_revision)) return; // already seen
    if (type === 'Delete') {
      if (!cur) return;
      this.cache.delete(key);
      this.emit('event', { type: 'delete', key, previous: cur.value, modRevision: kv.mod_revision });
      return;
    }
    this.applyPut(
      { key, value: kv.value.toString(), modRevision: kv.mod_revision, createRevision: kv.create_revision },
      cur,
    );
  }
}
