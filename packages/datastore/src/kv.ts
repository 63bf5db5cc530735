import type { Etcd3 } from 'etcd3';

/** A stored value with the revisions that compare-and-swap writes are guarded by. */
export interface Versioned<T = string> {
  key: string;
  value: T;
  /** Revision of the last write to this key (etcd ModRevision), as a decimal string. */
  modRevision: string;
  createRevision: string;
}

/**
 * Compare-and-swap primitives over etcd. Every mutation is a transaction guarded on the
 * key's ModRevision (or on its absence), so concurrent writers never overwrite each
 * other: the loser gets `false` and must re-read.
 */
export class KV {
  constructor(readonly etcd: Etcd3) {}

  async get(key: string): Promise<Versioned | undefined> {
    const res = await this.etcd.get(key).exec();
    const kv = res.kvs[0];
    return kv
      ? { key, value: kv.value.toString(), modRevision: kv.mod_revision, createRevision: kv.create_revision }
      : undefined;
  }

  /** All keys under a prefix, with the store revision the read reflects. */
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

  /** Creates the key only if it does not exist. Returns the new ModRevision, or undefined if it existed. */
  async create(key: string, value: string): Promise<string | undefined> {
    const res = await this.etcd.if(key, 'Create', '==', 0).then(this.etcd.put(key).value(value)).commit();
    return res.succeeded ? res.header.revision : this.ownEarlierWrite(key, value);
  }

  /** Writes the key only if its ModRevision is still `modRevision`. Returns the new ModRevision or undefined. */
  async update(key: string, value: string, modRevision: string): Promise<string | undefined> {
    const res = await this.etcd
      .if(key, 'Mod', '==', modRevision)
      .then(this.etcd.put(key).value(value))
      .commit();
    return res.succeeded ? res.header.revision : this.ownEarlierWrite(key, value);
  }

  /**
   * A guarded write can succeed while its answer is lost (a timeout, or the etcd client
   * retrying the call after a dropped connection): the retry then fails its guard against
   * our own write. Taking that for someone else's write makes callers redo the work — IPAM
   * would hand out a second address. So a failed guard whose key holds exactly the value we
   * wrote counts as our success. (Callers' values carry what makes them unique: a block's
   * sequence number and handles, a resource's full content.)
   */
  private async ownEarlierWrite(key: string, value: string): Promise<string | undefined> {
    const cur = await this.get(key);
    return cur && cur.value === value ? cur.modRevision : undefined;
  }

  /** Deletes the key only if its ModRevision is still `modRevision`. */
  async delete(key: string, modRevision: string): Promise<boolean> {
    const res = await this.etcd.if(key, 'Mod', '==', modRevision).then(this.etcd.delete().key(key)).commit();
    return res.succeeded;
  }

  /** Unconditional delete; returns whether the key existed. */
  async deleteAny(key: string): Promise<boolean> {
    const res = await this.etcd.delete().key(key).exec();
    return Number(res.deleted) > 0;
  }

  /** The cluster's current revision. */
  async revision(): Promise<string> {
    const res = await this.etcd.get('\0').exec();
    return res.header.revision;
  }
}
