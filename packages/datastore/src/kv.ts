import type { Etcd3 } from 'etcd3';

/** A stored value with the revisions that compare-and-swap writes are guarded by. */
export interface Versioned<T = string> {
  key: string;
  value: T;
  /** Revision of the last write to this key (etcd ModRevision), as a decimal string. */
  modRevision: string;
  createRevision: string;
}

/** One write of `writeAll`, with its guard. */
export interface GuardedWrite {
  key: string;
  value: string;
  /** Written only if the key's ModRevision is still this; when absent, only if the key does not exist. */
  modRevision?: string;
}

/** What `writeAll` did: every write, at one new revision; or none, with the keys as they are. */
export type WriteAllResult =
  | { written: true; revision: string }
  | { written: false; current: (Versioned | undefined)[] };

/** How a KeyValueStore talks to etcd: the etcd3 gRPC client, or etcd's JSON gateway over HTTP. */
export type Transport = 'grpc' | 'http';

/**
 * Compare-and-swap primitives over etcd. Every mutation is a transaction guarded on the
 * key's ModRevision (or on its absence), so concurrent writers never overwrite each
 * other: the loser gets `false`/undefined and must re-read.
 *
 * Two implementations with identical semantics: `KV` (etcd3 gRPC client; long-lived
 * daemons, which also watch) and `HttpKV` (etcd's JSON gateway over node:http(s); the
 * short-lived CNI plugin, which must not pay for loading gRPC). See README "Transports".
 */
export interface KeyValueStore {
  readonly transport: Transport;
  get(key: string): Promise<Versioned | undefined>;
  /** All keys under a prefix, with the store revision the read reflects. */
  list(prefix: string): Promise<{ items: Versioned[]; revision: string }>;
  /** Only the keys under a prefix (no values: cheap even with many large values). */
  keys(prefix: string): Promise<string[]>;
  /**
   * Creates the key only if it does not exist. Returns the new ModRevision, or undefined if
   * it existed — unless it holds exactly `value` (our own earlier write, see ownEarlierWrite).
   */
  create(key: string, value: string): Promise<string | undefined>;
  /** Writes the key only if its ModRevision is still `modRevision`. Returns the new ModRevision or undefined. */
  update(key: string, value: string, modRevision: string): Promise<string | undefined>;
  /**
   * Several guarded writes in one transaction: all of them when every guard holds, else none,
   * and then the keys' current entries in the same order (undefined: absent), read in that
   * same transaction. A failed guard whose keys all hold exactly our values is our own
   * earlier write (see ownEarlierWrite) and counts as written.
   */
  writeAll(writes: readonly GuardedWrite[]): Promise<WriteAllResult>;
  /** Deletes the key only if its ModRevision is still `modRevision`. */
  delete(key: string, modRevision: string): Promise<boolean>;
  /** Unconditional delete; returns whether the key existed. */
  deleteAny(key: string): Promise<boolean>;
  /** The cluster's current revision. */
  revision(): Promise<string>;
  /** Releases connections; the store is unusable afterwards. */
  close(): void;
}

/**
 * A guarded write can succeed while its answer is lost (a timeout, or the client retrying
 * the call after a dropped connection, or on another endpoint): the retry then fails its
 * guard against our own write. Taking that for someone else's write makes callers redo the
 * work — IPAM would hand out a second address. So a failed guard whose key holds exactly
 * the value we wrote counts as our success. (Callers' values carry what makes them unique:
 * a block's sequence number and handles, a resource's full content.)
 */
export async function ownEarlierWrite(
  kv: Pick<KeyValueStore, 'get'>,
  key: string,
  value: string,
): Promise<string | undefined> {
  const cur = await kv.get(key);
  return cur && cur.value === value ? cur.modRevision : undefined;
}

/**
 * The result of a `writeAll` whose guards failed: written after all when every key holds
 * exactly the value we wrote (our own write whose answer was lost).
 */
export function writeAllOutcome(
  writes: readonly GuardedWrite[],
  current: (Versioned | undefined)[],
): WriteAllResult {
  const ours = writes.every((w, i) => current[i]?.value === w.value);
  if (!ours) return { written: false, current };
  const revision = current.reduce(
    (max, v) => (BigInt(v!.modRevision) > BigInt(max) ? v!.modRevision : max),
    '0',
  );
  return { written: true, revision };
}

/** True for anything implementing KeyValueStore (as opposed to a raw etcd3 client). */
export function isKeyValueStore(x: unknown): x is KeyValueStore {
  return typeof (x as KeyValueStore | undefined)?.deleteAny === 'function';
}

/** KeyValueStore over the etcd3 gRPC client (only a type import here: etcd3 is loaded by connectEtcd). */
export class KV implements KeyValueStore {
  readonly transport = 'grpc' as const;

  constructor(readonly etcd: Etcd3) {}

  async get(key: string): Promise<Versioned | undefined> {
    const res = await this.etcd.get(key).exec();
    const kv = res.kvs[0];
    return kv
      ? { key, value: kv.value.toString(), modRevision: kv.mod_revision, createRevision: kv.create_revision }
      : undefined;
  }

  async list(prefix: string): Promise<{ items: Versioned[]; revision: string }> {
    const res = await this.etcd.getAll().prefix(prefix).exec();
    return {
      revision: res.header.revision,
      items: res.kvs.map((kv) => ({
        key: kv.key.toString(),
        value: kv.value.toString(),
        modRevision: kv.mod_revision,
        createRevision: kv.create_revision,
      })),
    };
  }

  async keys(prefix: string): Promise<string[]> {
    return this.etcd.getAll().prefix(prefix).keys();
  }

  async create(key: string, value: string): Promise<string | undefined> {
    const res = await this.etcd.if(key, 'Create', '==', 0).then(this.etcd.put(key).value(value)).commit();
    return res.succeeded ? res.header.revision : ownEarlierWrite(this, key, value);
  }

  async update(key: string, value: string, modRevision: string): Promise<string | undefined> {
    const res = await this.etcd
      .if(key, 'Mod', '==', modRevision)
      .then(this.etcd.put(key).value(value))
      .commit();
    return res.succeeded ? res.header.revision : ownEarlierWrite(this, key, value);
  }

  async writeAll(writes: readonly GuardedWrite[]): Promise<WriteAllResult> {
    if (writes.length === 0) return { written: true, revision: await this.revision() };
    const [first, ...rest] = writes as [GuardedWrite, ...GuardedWrite[]];
    let txn =
      first.modRevision === undefined
        ? this.etcd.if(first.key, 'Create', '==', 0)
        : this.etcd.if(first.key, 'Mod', '==', first.modRevision);
    for (const w of rest)
      txn =
        w.modRevision === undefined
          ? txn.and(w.key, 'Create', '==', 0)
          : txn.and(w.key, 'Mod', '==', w.modRevision);
    const res = await txn
      .then(...writes.map((w) => this.etcd.put(w.key).value(w.value)))
      .else(...writes.map((w) => this.etcd.get(w.key)))
      .commit();
    if (res.succeeded) return { written: true, revision: res.header.revision };
    const current = res.responses.map((r, i) => {
      const kv = r.response_range?.kvs[0];
      return kv
        ? {
            key: writes[i]!.key,
            value: kv.value.toString(),
            modRevision: kv.mod_revision,
            createRevision: kv.create_revision,
          }
        : undefined;
    });
    return writeAllOutcome(writes, current);
  }

  async delete(key: string, modRevision: string): Promise<boolean> {
    const res = await this.etcd.if(key, 'Mod', '==', modRevision).then(this.etcd.delete().key(key)).commit();
    return res.succeeded;
  }

  async deleteAny(key: string): Promise<boolean> {
    const res = await this.etcd.delete().key(key).exec();
    return Number(res.deleted) > 0;
  }

  async revision(): Promise<string> {
    const res = await this.etcd.get('\0').exec();
    return res.header.revision;
  }

  close(): void {
    this.etcd.close();
  }
}
