import type { Etcd3 } from 'etcd3';
import { connectEtcd, connectHttp, type EtcdConfig } from './connection.js';
import { AlreadyExistsError, ConflictError, NotFoundError } from './errors.js';
import type { HttpKV } from './http-kv.js';
import { DEFAULT_PREFIX, normalizePrefix, resourceKey, resourcesPrefix } from './keys.js';
import { isKeyValueStore, type KeyValueStore, KV, type Transport, type Versioned } from './kv.js';
import { KINDS, type Kind, type ResourceKinds } from './resources/registry.js';
import { Reflector, type ReflectorOptions } from './watch.js';

/** Fields that describe the stored copy, not the desired state: never written into the value. */
function toStored(res: { metadata: { resourceVersion?: string } }): string {
  const { resourceVersion: _rv, ...metadata } = res.metadata;
  return JSON.stringify({ ...res, metadata });
}

/** How Datastore.connect reaches etcd. */
export interface ConnectOptions {
  /**
   * `grpc` (default): the etcd3 client — watches (reflector()), for long-lived daemons.
   * `http`: etcd's JSON gateway over node:http(s) — no gRPC to load, for short-lived
   * processes (the CNI plugin); no reflector().
   */
  transport?: Transport;
  /** http only: time for one request on one endpoint (default 10 s). */
  requestTimeoutMs?: number;
}

/**
 * Typed resources in etcd. Reads return the resource with `metadata.resourceVersion` set
 * to its ModRevision; `update` and `delete` with a resourceVersion are compare-and-swap
 * and throw ConflictError when someone else wrote in between.
 *
 * `S` is the key-value transport: `KV` (gRPC, the default) or `HttpKV`; code that works
 * on either takes `Datastore<KeyValueStore>`.
 */
export class Datastore<S extends KeyValueStore = KV> {
  readonly kv: S;
  readonly prefix: string;

  /** On a KeyValueStore, or (as before) on an etcd3 client, which gets the gRPC `KV`. */
  constructor(store: S | Etcd3, prefix: string = DEFAULT_PREFIX) {
    this.kv = (isKeyValueStore(store) ? store : new KV(store)) as S;
    this.prefix = normalizePrefix(prefix);
  }

  /**
   * Synchronous: no round trip happens until the first read or write. The gRPC client
   * (etcd3) is loaded on the first grpc connect, never for `transport: 'http'`.
   */
  static connect(cfg: EtcdConfig, opts?: ConnectOptions & { transport?: 'grpc' }): Datastore<KV>;
  static connect(cfg: EtcdConfig, opts: ConnectOptions & { transport: 'http' }): Datastore<HttpKV>;
  static connect(cfg: EtcdConfig, opts: ConnectOptions): Datastore<KeyValueStore>;
  static connect(cfg: EtcdConfig, opts: ConnectOptions = {}): Datastore<KeyValueStore> {
    const transport = opts.transport ?? 'grpc';
    if (transport === 'http') return new Datastore(connectHttp(cfg, opts), cfg.prefix);
    if (transport !== 'grpc')
      throw new Error(`Datastore.connect: unknown transport ${JSON.stringify(transport)} (grpc or http)`);
    return new Datastore(new KV(connectEtcd(cfg)), cfg.prefix);
  }

  get transport(): Transport {
    return this.kv.transport;
  }

  /** The etcd3 client (gRPC transport only: watches, compaction, raw access in tests). */
  get etcd(): Etcd3 {
    if (this.kv instanceof KV) return this.kv.etcd;
    throw new Error(
      `Datastore.etcd: this datastore uses the ${this.kv.transport} transport, which has no etcd3 client; ` +
        `connect with { transport: 'grpc' }`,
    );
  }

  key<K extends Kind>(kind: K, name: string, namespace?: string): string {
    const info = KINDS[kind];
    return resourceKey(this.prefix, info.plural, name, info.namespaced ? namespace : undefined);
  }

  listPrefix<K extends Kind>(kind: K, namespace?: string): string {
    return resourcesPrefix(this.prefix, KINDS[kind].plural, namespace);
  }

  /**
   * Decodes a stored value. Values that no longer validate (written by an older version or
   * by hand) are returned as undefined rather than crashing a watcher; callers log them.
   */
  decode<K extends Kind>(kind: K, v: Versioned): ResourceKinds[K] | undefined {
    try {
      const res = KINDS[kind].validate(JSON.parse(v.value)) as ResourceKinds[K];
      res.metadata.resourceVersion = v.modRevision;
      return res;
    } catch {
      return undefined;
    }
  }

  async get<K extends Kind>(
    kind: K,
    name: string,
    namespace?: string,
  ): Promise<ResourceKinds[K] | undefined> {
    const v = await this.kv.get(this.key(kind, name, namespace));
    return v ? this.decode(kind, v) : undefined;
  }

  async list<K extends Kind>(
    kind: K,
    namespace?: string,
  ): Promise<{ items: ResourceKinds[K][]; revision: string }> {
    const { items, revision } = await this.kv.list(this.listPrefix(kind, namespace));
    const out: ResourceKinds[K][] = [];
    for (const v of items) {
      const r = this.decode(kind, v);
      if (r) out.push(r);
    }
    return { items: out, revision };
  }

  /** Validates and creates; AlreadyExistsError if the name is taken. */
  async create<K extends Kind>(
    res: ResourceKinds[K] | (Record<string, unknown> & { kind: K }),
  ): Promise<ResourceKinds[K]> {
    const valid = KINDS[res.kind as K].validate(res);
    const key = this.key(valid.kind as K, valid.metadata.name, valid.metadata.namespace);
    valid.metadata.creationTimestamp ??= new Date().toISOString();
    const rev = await this.kv.create(key, toStored(valid));
    if (rev === undefined) throw new AlreadyExistsError(key);
    valid.metadata.resourceVersion = rev;
    return valid;
  }

  /**
   * Validates and replaces. With metadata.resourceVersion the write is compare-and-swap
   * (ConflictError if it changed); without it, it overwrites whatever is there.
   */
  async update<K extends Kind>(
    res: ResourceKinds[K] | (Record<string, unknown> & { kind: K }),
  ): Promise<ResourceKinds[K]> {
    const valid = KINDS[res.kind as K].validate(res);
    const key = this.key(valid.kind as K, valid.metadata.name, valid.metadata.namespace);
    let expected = valid.metadata.resourceVersion;
    if (expected === undefined) {
      const cur = await this.kv.get(key);
      if (!cur) throw new NotFoundError(key);
      expected = cur.modRevision;
    }
    const rev = await this.kv.update(key, toStored(valid), expected);
    if (rev === undefined) {
      if (!(await this.kv.get(key))) throw new NotFoundError(key);
      throw new ConflictError(key, valid.metadata.resourceVersion);
    }
    valid.metadata.resourceVersion = rev;
    return valid;
  }

  /** Creates or replaces (kubectl-apply-like), retrying on concurrent writes. */
  async apply<K extends Kind>(
    res: ResourceKinds[K] | (Record<string, unknown> & { kind: K }),
  ): Promise<ResourceKinds[K]> {
    for (let attempt = 0; ; attempt++) {
      try {
        const { resourceVersion: _ignored, ...metadata } = (res as ResourceKinds[K]).metadata;
        const cur = await this.get(res.kind as K, metadata.name, metadata.namespace);
        if (!cur) return await this.create({ ...res, metadata } as ResourceKinds[K]);
        const next = { ...res, metadata: { ...metadata, resourceVersion: cur.metadata.resourceVersion } };
        if (cur.metadata.creationTimestamp)
          next.metadata.creationTimestamp ??= cur.metadata.creationTimestamp;
        return await this.update(next as ResourceKinds[K]);
      } catch (e) {
        if (
          attempt >= 10 ||
          !(e instanceof ConflictError || e instanceof AlreadyExistsError || e instanceof NotFoundError)
        )
          throw e;
      }
    }
  }

  /** Deletes; with a resourceVersion only if unchanged. Returns false if it did not exist. */
  async delete<K extends Kind>(
    kind: K,
    name: string,
    namespace?: string,
    opts: { resourceVersion?: string } = {},
  ): Promise<boolean> {
    const key = this.key(kind, name, namespace);
    if (opts.resourceVersion === undefined) return this.kv.deleteAny(key);
    if (await this.kv.delete(key, opts.resourceVersion)) return true;
    if (!(await this.kv.get(key))) return false;
    throw new ConflictError(key, opts.resourceVersion);
  }

  /** A list+watch of one kind (all namespaces), decoding and validating each value. */
  reflector<K extends Kind>(
    kind: K,
    opts: Omit<ReflectorOptions<ResourceKinds[K]>, 'decode'> = {},
  ): Reflector<ResourceKinds[K]> {
    if (!(this.kv instanceof KV))
      throw new Error(
        `Datastore.reflector('${kind}'): watching needs the grpc transport, but this datastore uses ` +
          `${this.kv.transport}; connect with Datastore.connect(cfg) or { transport: 'grpc' }`,
      );
    return new Reflector(this.etcd, this.listPrefix(kind), { ...opts, decode: (v) => this.decode(kind, v) });
  }

  close(): void {
    this.kv.close();
  }
}
