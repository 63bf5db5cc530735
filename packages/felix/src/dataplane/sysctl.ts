import { readFileSync, writeFileSync } from 'node:fs';

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

  invalidate(): void {
    this.written.clear();
  }

  /** Returns how many values were written and how many are waiting for their interface. */
  apply(desired: Map<string, string>): { written: number; missing: number } {
    let written = 0;
    let missing = 0;
    for (const k of [...this.written.keys()]) if (!desired.has(k)) this.written.delete(k);
    for (const [k, v] of desired) {
      if (this.written.get(k) === v) continue;
      const cur = readSysctl(k);
      if (cur === undefined) {
        missing++;
        continue;
      }
      if (cur !== v) {
        try {
          writeFileSync(path(k), v);
          written++;
        } catch {
          missing++;
          continue;
        }
      }
      this.written.set(k, v);
    }
    return { written, missing };
  }
}
