import type { DeltaTracker } from '../tracker/delta-tracker.js';
import type { KernelIO } from './kernel-io.js';

/**
 * Sysctls, written straight into /proc/sys (no process per value). There is nothing to
 * delete and nothing to read up front: each pending value is read right before it is
 * written, and written only when it differs. A key whose file is missing (its interface
 * is not there yet) stays pending. `refresh` re-reads every wanted value in the background;
 * drifted ones become pending again.
 */
export class SysctlDriver {
  constructor(
    private readonly t: DeltaTracker<string, string>,
    private readonly io: KernelIO,
  ) {
    t.assumeEmpty();
  }

  /**
   * Writes what is pending; returns how many values were written and how many wait for
   * their interface. Synchronous file I/O (a /proc/sys value costs microseconds; the thread
   * pool and a promise per file cost far more), in chunks of 512 with a yield between them, so a
   * first converge's 40,000 values leave the event loop free to feed the route and
   * iptables writes running beside them.
   */
  async apply(): Promise<{ written: number; waiting: number }> {
    const pending = this.t.pendingSets();
    let written = 0;
    let waiting = 0;
    for (let i = 0; i < pending.length; i++) {
      if (i % 512 === 0 && pending.length > 512) await new Promise((r) => setImmediate(r));
      const [k, v] = pending[i]!;
      const cur = this.io.readSysctl(k);
      if (cur === undefined) {
        waiting++;
        continue;
      }
      if (cur !== v) {
        try {
          this.io.writeSysctl(k, v);
        } catch {
          waiting++;
          continue;
        }
        written++;
      }
      this.t.wrote(k, v);
    }
    return { written, waiting };
  }

  /**
   * Re-reads every wanted value beside the applies, in chunks with a yield between them
   * (40,000 at 10,000 endpoints). Returns how many are pending afterwards (drifted or missing).
   */
  async refresh(): Promise<number> {
    await this.t.resync(async () => {
      const keys = [...this.t.desired.keys()];
      const read: [string, string][] = [];
      for (let i = 0; i < keys.length; i += 1024) {
        if (i) await new Promise((r) => setImmediate(r));
        const chunk = keys.slice(i, i + 1024);
        const now = await Promise.all(chunk.map((k) => this.io.readSysctlAsync(k)));
        chunk.forEach((k, j) => {
          if (now[j] !== undefined) read.push([k, now[j]!]);
        });
      }
      return read;
    });
    return this.t.pendingCount;
  }
}
