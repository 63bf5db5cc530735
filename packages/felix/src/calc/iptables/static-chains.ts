import type { IPPool } from '@tricolor/datastore';
import type { FelixSettings } from '../../config-types.js';
import type { CalcGraph, Calculator } from '../graph.js';
import { staticTables } from './chains.js';
import type { IptablesFamilies } from './families.js';
import { TABLES, type Table } from './rules.js';

/**
 * The chains that do not depend on endpoints — hooks, failsafes, nat-outgoing (its pool
 * sets are per family), the FORWARD/INPUT/OUTPUT chains — re-derived whenever settings or
 * pools change. There are a dozen; the trackers keep the unchanged ones as they are.
 */
export class StaticChainsCalculator implements Calculator {
  private settings: Readonly<FelixSettings> | undefined;
  private readonly pools = new Map<string, IPPool>();
  private dirty = true;
  /** What was set per family and table, to delete what is no longer wanted. */
  private names: Record<4 | 6, Record<Table, { chains: Set<string>; hooks: Set<string> }>> | undefined;

  constructor(private readonly out: IptablesFamilies) {}

  register(g: CalcGraph): void {
    g.on('settings', (_k, s) => {
      this.settings = s;
      this.dirty = true;
    });
    g.mirror('pool', this.pools, () => {
      this.dirty = true;
    });
  }

  flush(): void {
    const s = this.settings;
    if (!this.dirty || !s) return;
    this.dirty = false;
    const pools = [...this.pools.values()];
    const names = {} as NonNullable<typeof this.names>;
    for (const family of [4, 6] as const) {
      const st = staticTables(s, pools, family);
      names[family] = {} as Record<Table, { chains: Set<string>; hooks: Set<string> }>;
      for (const t of TABLES) {
        const now = { chains: new Set<string>(), hooks: new Set<string>() };
        for (const c of st[t].chains) {
          this.out.setChain(t, c, family);
          now.chains.add(c.name);
        }
        for (const j of st[t].hooks) {
          this.out.setHook(j, family);
          now.hooks.add(j.hook);
        }
        const before = this.names?.[family][t];
        for (const n of before?.chains ?? []) if (!now.chains.has(n)) this.out.deleteChain(t, n, family);
        for (const h of before?.hooks ?? []) if (!now.hooks.has(h)) this.out.deleteHook(t, h, family);
        names[family][t] = now;
      }
    }
    this.names = names;
  }
}
