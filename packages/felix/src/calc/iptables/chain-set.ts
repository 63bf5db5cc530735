import { type Chain, sameRules } from './rules.js';

/**
 * The chains felix wants in one table, kept across calculations (as Calico's Table keeps
 * its desired chains): builders `set` and `delete` chains, an unchanged chain is a no-op,
 * and the names that really changed accumulate until `takeChanged`. This is what lets a
 * one-endpoint change cost a handful of chains instead of a walk over 20,000.
 */
export class ChainSet {
  private readonly byName = new Map<string, Chain>();
  private changed = new Set<string>();
  private rules = 0;

  get chains(): ReadonlyMap<string, Chain> {
    return this.byName;
  }

  get ruleCount(): number {
    return this.rules;
  }

  /** Stores `c` unless an equal chain of that name is there already (then the old object stays). */
  set(c: Chain): void {
    const cur = this.byName.get(c.name);
    if (cur === c || (cur && sameRules(cur.rules, c.rules))) return;
    this.rules += c.rules.length - (cur?.rules.length ?? 0);
    this.byName.set(c.name, c);
    this.changed.add(c.name);
  }

  delete(name: string): void {
    const cur = this.byName.get(name);
    if (!cur) return;
    this.rules -= cur.rules.length;
    this.byName.delete(name);
    this.changed.add(name);
  }

  /** The names set to a different chain or deleted since the last call. */
  takeChanged(): Set<string> {
    const out = this.changed;
    this.changed = new Set();
    return out;
  }
}
