import { TABLES } from '../calc/iptables/rules.js';
import {
  BUILTIN_CHAINS,
  commitRestore,
  type ParsedChain,
  planRestore,
  type Renderer,
} from './iptables-render.js';
import type { KernelIO } from './kernel-io.js';
import type { IptablesTrackers } from './kernel-state.js';
import { type DataplaneObserver, NO_OBSERVER } from './observer.js';

export interface IptablesReport {
  changedChains: number;
  deletedChains: number;
  hookChanges: number;
  /** Names of the chains written, per table (for logs and tests). */
  written: Record<string, string[]>;
}

/**
 * The iptables of one IP family: reads iptables-save (parsed while it prints) into the
 * trackers of its four tables, writes everything pending in one `iptables-restore
 * --noflush`. A failed restore drops the view: the next apply reads again.
 */
export class IptablesDriver {
  constructor(
    readonly family: 4 | 6,
    private readonly t: IptablesTrackers,
    private readonly io: KernelIO,
    private readonly renderer: Renderer,
    private readonly observer: DataplaneObserver = NO_OBSERVER,
  ) {}

  private get trackers() {
    return TABLES.flatMap((tb) => [this.t[tb].chains, this.t[tb].hooks]);
  }

  get synced(): boolean {
    return this.trackers.every((x) => x.synced);
  }

  /**
   * Reads the tables. Beside applies (the refresh timer's read of a 10,000-endpoint node
   * takes seconds): what they write meanwhile is kept over the read (see DeltaTracker).
   */
  async read(): Promise<void> {
    const read = this.io.readIptables(this.family);
    read.then(
      () => this.observer.iptablesSave(this.family, true),
      () => this.observer.iptablesSave(this.family, false), // and thrown by the trackers' reads below
    );
    const part = async (tb: (typeof TABLES)[number], builtin: boolean) => {
      const out: [string, ParsedChain][] = [];
      for (const [name, c] of (await read).get(tb)?.chains ?? [])
        if (BUILTIN_CHAINS.has(name) === builtin) out.push([name, c]);
      return out;
    };
    await Promise.all(
      TABLES.flatMap((tb) => [
        this.t[tb].chains.resync(() => part(tb, false)),
        this.t[tb].hooks.resync(() => part(tb, true)),
      ]),
    );
  }

  invalidate(): void {
    for (const x of this.trackers) x.invalidate();
  }

  async apply(): Promise<IptablesReport> {
    if (!this.synced) await this.read();
    const plan = planRestore(this.t, this.renderer);
    const written: Record<string, string[]> = {};
    for (const [tb, tt] of plan.tables) written[tb] = tt.written.map((c) => c.name);
    const rep = {
      changedChains: plan.changedChains,
      deletedChains: plan.deletedChains,
      hookChanges: plan.hookChanges,
      written,
    };
    if (!plan.scripts.length) return rep;
    const lines = new Map([...plan.tables].map(([tb, tt]) => [tb, tt.lines]));
    try {
      // In order: a restore fails whole, and what an earlier one wrote is only chains that
      // nothing reachable jumps to yet, or rewrites of chains felix owns; a failure drops the
      // view, so the next apply reads what is there and writes the rest.
      for (const script of plan.scripts) await this.io.iptablesRestore(this.family, script);
    } catch (e) {
      this.observer.iptablesRestore(this.family, lines, false);
      this.invalidate();
      throw e;
    }
    this.observer.iptablesRestore(this.family, lines, true);
    commitRestore(this.t, this.renderer, plan);
    return rep;
  }
}
