import { rereadIfInterrupted } from '@tricolor/linux';
import type { DeltaTracker } from '../tracker/delta-tracker.js';
import { type Neighbor, neighborKey } from './items.js';
import type { KernelIO } from './kernel-io.js';

export interface NeighborReport {
  commands: number;
  /** Entries left pending because their device does not exist (yet). */
  waiting: number;
}

/**
 * Permanent neighbor entries (workload MACs, remote VTEPs), a lane of their own after each
 * apply (see `Dataplane`): one `ip -force -batch` for everything pending since its last run.
 */
export class NeighborDriver {
  constructor(
    private readonly t: DeltaTracker<string, Neighbor>,
    private readonly io: KernelIO,
  ) {}

  read(): Promise<void> {
    // A dump interrupted by a concurrent change (felix's own writes) is read again.
    return this.t.resync(() =>
      rereadIfInterrupted(async () =>
        (await this.io.readNeighbors()).map((n) => [neighborKey(n), n] as const),
      ),
    );
  }

  async apply(): Promise<NeighborReport> {
    if (!this.t.synced) await this.read();
    const lines: string[] = [];
    const deleted: string[] = [];
    const written: [string, Neighbor][] = [];
    let waiting = 0;
    for (const [k, n] of this.t.pendingDeletes()) {
      lines.push(`neigh del ${n.ip} dev ${n.dev}`);
      deleted.push(k);
    }
    for (const [k, n] of this.t.pendingSets()) {
      if (!this.io.linkExists(n.dev)) {
        waiting++;
        continue;
      }
      lines.push(`neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev} nud permanent`);
      written.push([k, n]);
    }
    if (lines.length) {
      try {
        await this.io.ipBatch(lines);
      } catch (e) {
        this.t.invalidate();
        throw e;
      }
      for (const k of deleted) this.t.removed(k);
      for (const [k, n] of written) this.t.wrote(k, n);
    }
    return { commands: lines.length, waiting };
  }
}
