import { rereadIfInterrupted } from '@tricolor/linux';
import type { DeltaTracker } from '../tracker/delta-tracker.js';
import { deviceCheck, writePending } from './batch.js';
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
    let waiting = 0;
    const exists = deviceCheck(this.io, this.t.pendingCount);
    const commands = await writePending(
      this.t,
      {
        del: (n) => `neigh del ${n.ip} dev ${n.dev}`,
        set: (n) => {
          if (exists(n.dev)) return `neigh replace ${n.ip} lladdr ${n.mac} dev ${n.dev} nud permanent`;
          waiting++;
          return undefined;
        },
        after: (n) => n,
      },
      (lines) => this.io.ipBatch(lines),
    );
    return { commands, waiting };
  }
}
