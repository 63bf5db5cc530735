import { readFileSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';

const path = (key: string) => `/proc/sys/${key}`;

/** Reads one sysctl (`net/ipv4/ip_forward`); undefined when it does not exist. */
export function readSysctl(key: string): string | undefined {
  try {
    return readFileSync(path(key), 'utf8').trim();
  } catch {
    return undefined;
  }
}

/**
 * Writes sysctls straight into /proc/sys (no process per value). Remembers what it wrote
 * so a steady-state apply touches nothing; `invalidate()` makes the next apply re-read
 * every value, which is how hand-made drift gets repaired.
 */
export class SysctlDriver {
  private written = new Map<string, string>();
  /** Keys whose file did not exist at the last apply: retried by every apply. */
  private missing = new Set<string>();
  /** False until a full apply has run since the last invalidate (keys-only applies need one). */
  get valid(): boolean {
    return this.complete;
  }
  private complete = false;

  invalidate(): void {
    this.written.clear();
    this.missing.clear();
    this.complete = false;
  }

  /**
   * Re-reads every value felix wrote, asynchronously and in chunks (40,000 values at 10,000
   * endpoints: the applies are not held up); a value changed by hand is forgotten, so the
   * next apply checks and rewrites it. Returns how many had drifted.
   */
  async verify(): Promise<number> {
    const keys = [...this.written.keys()];
    let drifted = 0;
    for (let i = 0; i < keys.length; i += 512) {
      const chunk = keys.slice(i, i + 512);
      const now = await Promise.all(
        chunk.map((k) =>
          readFile(path(k), 'utf8').then(
            (v) => v.trim(),
            () => undefined,
          ),
        ),
      );
      chunk.forEach((k, j) => {
        const want = this.written.get(k);
        if (want === undefined || now[j] === want) return;
        // An apply may have written it meanwhile: the next apply reads it again anyway.
        this.written.delete(k);
        this.missing.add(k);
        drifted++;
      });
    }
    return drifted;
  }

  /**
   * Returns how many values were written and how many are waiting for their interface.
   * With `keys` (the calculation's delta) only those keys, and the missing ones, are
   * looked at; that needs a model (`valid`), else every key is.
   */
  apply(desired: Map<string, string>, keys?: Iterable<string>): { written: number; missing: number } {
    let written = 0;
    const one = (k: string) => {
      const v = desired.get(k);
      if (v === undefined) {
        this.written.delete(k);
        this.missing.delete(k);
        return;
      }
      if (this.written.get(k) === v) return;
      const cur = readSysctl(k);
      if (cur === undefined) {
        this.missing.add(k);
        return;
      }
      if (cur !== v) {
        try {
          writeFileSync(path(k), v);
          written++;
        } catch {
          this.missing.add(k);
          return;
        }
      }
      this.missing.delete(k);
      this.written.set(k, v);
    };
    if (keys && this.complete) {
      for (const k of [...this.missing]) one(k);
      for (const k of keys) one(k);
    } else {
      this.missing.clear();
      for (const k of this.written.keys()) if (!desired.has(k)) this.written.delete(k);
      for (const k of desired.keys()) one(k);
      this.complete = true;
    }
    return { written, missing: this.missing.size };
  }
}
