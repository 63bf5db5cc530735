/**
 * Interned, reference-counted values by key: each distinct key is stored once and named by
 * a small id (0 is never used, so it can mean "none"); a value goes away with its last
 * reference. Attribute sets as received (attrs.ts) and as sent (channels/outbound.ts).
 */
export interface Interned {
  readonly id: number;
  readonly key: string;
  refs: number;
}

export class InternStore<T extends Interned> {
  /** Told when a value is gone: caches keyed by its id must forget it (the id is reused). */
  onFree: ((value: T) => void) | undefined;
  private readonly byKey = new Map<string, T>();
  private readonly byId: (T | undefined)[] = [undefined];
  private readonly free: number[] = [];

  constructor(private readonly what: string) {}

  get size(): number {
    return this.byKey.size;
  }

  lookup(key: string): T | undefined {
    return this.byKey.get(key);
  }

  /** The value for `key`, made by `make(id)` when new. Does not add a reference. */
  protected internWith(key: string, make: (id: number) => T): T {
    const hit = this.byKey.get(key);
    if (hit) return hit;
    const v = make(this.free.pop() ?? this.byId.length);
    this.byKey.set(key, v);
    this.byId[v.id] = v;
    return v;
  }

  get(id: number): T {
    const v = this.byId[id];
    if (!v) throw new Error(`${this.what} ${id} does not exist`);
    return v;
  }

  ref(id: number, n = 1): void {
    this.byId[id]!.refs += n;
  }

  /** Drops references; `unref(id, 0)` frees a value nobody took. */
  unref(id: number, n = 1): void {
    const v = this.byId[id];
    if (!v) return;
    v.refs -= n;
    if (v.refs > 0) return;
    this.byKey.delete(v.key);
    this.byId[id] = undefined;
    this.free.push(id);
    this.onFree?.(v);
  }
}
