import type { GuardedWrite, KeyValueStore, Versioned, WriteAllResult } from '@tricolor/datastore';

/**
 * etcd's compare-and-swap semantics in memory (one revision counter, ModRevision guards), so
 * the runner's actions run unchanged on a `Datastore` without a cluster: the conformance
 * model checks the cases' expectations against the policy evaluator this way.
 */
export class MemoryKV implements KeyValueStore {
  readonly transport = 'grpc' as const;
  private rev = 0;
  private readonly data = new Map<string, Versioned>();

  async get(key: string): Promise<Versioned | undefined> {
    return this.data.get(key);
  }

  async list(prefix: string): Promise<{ items: Versioned[]; revision: string }> {
    const items = [...this.data.values()]
      .filter((v) => v.key.startsWith(prefix))
      .sort((a, b) => (a.key < b.key ? -1 : 1));
    return { items, revision: String(this.rev) };
  }

  async keys(prefix: string): Promise<string[]> {
    return (await this.list(prefix)).items.map((v) => v.key);
  }

  private write(key: string, value: string, createRevision?: string): string {
    const modRevision = String(++this.rev);
    this.data.set(key, { key, value, modRevision, createRevision: createRevision ?? modRevision });
    return modRevision;
  }

  async create(key: string, value: string): Promise<string | undefined> {
    return this.data.has(key) ? undefined : this.write(key, value);
  }

  async update(key: string, value: string, modRevision: string): Promise<string | undefined> {
    const cur = this.data.get(key);
    return cur?.modRevision === modRevision ? this.write(key, value, cur.createRevision) : undefined;
  }

  async writeAll(writes: readonly GuardedWrite[]): Promise<WriteAllResult> {
    const current = writes.map((w) => this.data.get(w.key));
    if (writes.some((w, i) => current[i]?.modRevision !== w.modRevision)) return { written: false, current };
    const revision = String(++this.rev);
    for (const w of writes) {
      const createRevision = this.data.get(w.key)?.createRevision ?? revision;
      this.data.set(w.key, { key: w.key, value: w.value, modRevision: revision, createRevision });
    }
    return { written: true, revision };
  }

  async delete(key: string, modRevision: string): Promise<boolean> {
    if (this.data.get(key)?.modRevision !== modRevision) return false;
    this.rev++;
    return this.data.delete(key);
  }

  async deleteAny(key: string): Promise<boolean> {
    if (!this.data.has(key)) return false;
    this.rev++;
    return this.data.delete(key);
  }

  async revision(): Promise<string> {
    return String(this.rev);
  }

  close(): void {}
}
