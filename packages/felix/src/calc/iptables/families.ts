import type { IptablesTrackers } from '../../dataplane/kernel-state.js';
import type { CalcGraph, Calculator } from '../graph.js';
import type { Chain, HookJump, Table } from './rules.js';

export type Family = 4 | 6 | 'both';

/**
 * The iptables of both IP families as one sink: a chain computed once goes to the IPv4
 * tables and — while felix programs IPv6 (`ipFamilies`) — the IPv6 tables, as the same
 * object (rendered once). When IPv6 goes off, every IPv6 chain and hook of felix's is
 * wanted no more (the driver deletes them); when it comes back, they are wanted again.
 */
export class IptablesFamilies implements Calculator {
  private v6 = false;
  /** Everything meant for IPv6, kept to replay when IPv6 comes on. */
  private readonly v6Chains = new Map<string, Chain>();
  private readonly v6Hooks = new Map<string, HookJump>();

  constructor(private readonly t: Record<4 | 6, IptablesTrackers>) {}

  register(g: CalcGraph): void {
    g.on('ipFamilies', (_k, f) => this.setV6(Boolean(f?.v6)));
  }

  get v6Active(): boolean {
    return this.v6;
  }

  private setV6(on: boolean): void {
    if (on === this.v6) return;
    this.v6 = on;
    const t6 = this.t[6];
    for (const [k, c] of this.v6Chains) {
      const table = k.slice(0, k.indexOf(' ')) as Table;
      if (on) t6[table].chains.setDesired(c.name, c);
      else t6[table].chains.deleteDesired(c.name);
    }
    for (const [k, j] of this.v6Hooks) {
      if (on) t6[j.table].hooks.setDesired(j.hook, j);
      else t6[j.table].hooks.deleteDesired(k.slice(k.indexOf(' ') + 1));
    }
  }

  setChain(table: Table, c: Chain, family: Family = 'both'): void {
    if (family !== 6) this.t[4][table].chains.setDesired(c.name, c);
    if (family === 4) return;
    this.v6Chains.set(`${table} ${c.name}`, c);
    if (this.v6) this.t[6][table].chains.setDesired(c.name, c);
  }

  deleteChain(table: Table, name: string, family: Family = 'both'): void {
    if (family !== 6) this.t[4][table].chains.deleteDesired(name);
    if (family === 4) return;
    this.v6Chains.delete(`${table} ${name}`);
    this.t[6][table].chains.deleteDesired(name);
  }

  setHook(j: HookJump, family: Family = 'both'): void {
    if (family !== 6) this.t[4][j.table].hooks.setDesired(j.hook, j);
    if (family === 4) return;
    this.v6Hooks.set(`${j.table} ${j.hook}`, j);
    if (this.v6) this.t[6][j.table].hooks.setDesired(j.hook, j);
  }

  deleteHook(table: Table, hook: string, family: Family = 'both'): void {
    if (family !== 6) this.t[4][table].hooks.deleteDesired(hook);
    if (family === 4) return;
    this.v6Hooks.delete(`${table} ${hook}`);
    this.t[6][table].hooks.deleteDesired(hook);
  }
}
