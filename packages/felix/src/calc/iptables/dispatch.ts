import { type Chain, MAX_CHAIN_NAME, type Rule } from './rules.js';

export interface DispatchOptions {
  /** Name of the root chain, e.g. `tri-from-wl-dispatch`. */
  root: string;
  /** `-i` for traffic from workloads, `-o` for traffic to them. */
  direction: '-i' | '-o';
  /** The per-endpoint chain an interface is dispatched to. */
  target: (iface: string) => string;
  /** The workload interface prefix (`cali`); every name starts with it. */
  interfacePrefix: string;
  /** What the root does with a prefixed interface that has no endpoint. */
  unknown: Rule[];
  /** A group larger than this is split again by the next character of the name. */
  maxLeaf?: number;
}

/**
 * Dispatch chains keyed by interface name, built as a prefix tree (as Calico does) so
 * a packet passes through a handful of short chains instead of one 10,000-rule list:
 * the root matches `-i cali0+`, `-i cali1+`, ... and `goto`s a child chain per next
 * character, recursively, until a group is small enough for one rule per interface.
 * Interfaces with the workload prefix but no endpoint fall through to `unknown` (DROP).
 */
export function dispatchChains(ifaces: string[], o: DispatchOptions): Chain[] {
  const maxLeaf = o.maxLeaf ?? 32;
  const sorted = [...new Set(ifaces)].sort();
  const chains: Chain[] = [];
  const build = (name: string, names: string[], depth: number): void => {
    const rules: Rule[] = [];
    chains.push({ name, rules });
    if (names.length <= maxLeaf || depth >= 15) {
      for (const n of names) rules.push({ match: `${o.direction} ${n}`, action: `-g ${o.target(n)}` });
    } else {
      const groups = new Map<string, string[]>();
      const singles: string[] = [];
      for (const n of names) {
        if (n.length <= depth) {
          singles.push(n);
          continue;
        }
        const p = n.slice(0, depth + 1);
        const g = groups.get(p);
        if (g) g.push(n);
        else groups.set(p, [n]);
      }
      for (const n of singles) rules.push({ match: `${o.direction} ${n}`, action: `-g ${o.target(n)}` });
      for (const [p, g] of groups) {
        if (g.length === 1) {
          rules.push({ match: `${o.direction} ${g[0]}`, action: `-g ${o.target(g[0]!)}` });
          continue;
        }
        const child = `${o.root}-${p.slice(o.interfacePrefix.length)}`;
        if (child.length > MAX_CHAIN_NAME) {
          for (const n of g) rules.push({ match: `${o.direction} ${n}`, action: `-g ${o.target(n)}` });
          continue;
        }
        rules.push({ match: `${o.direction} ${p}+`, action: `-g ${child}` });
        build(child, g, depth + 1);
      }
    }
    // `-g` does not come back: every chain of the tree must end in the unknown-interface verdict.
    rules.push(...o.unknown);
  };
  // Names shorter than the prefix cannot be workload interfaces; the tree starts after it.
  build(o.root, sorted, o.interfacePrefix.length);
  return chains;
}
