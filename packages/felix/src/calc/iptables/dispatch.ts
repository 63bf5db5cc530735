import { type Chain, MAX_CHAIN_NAME, type Rule } from './rules.js';
import { writeOrder } from './write-order.js';

export interface DispatchOptions {
  /** Name of the root chain, e.g. `tri-from-wl-dispatch`. */
  root: string;
  /**
   * Name prefix of the child chains, followed by the interface-name characters after the
   * workload prefix (`tri-fwd-` → `tri-fwd-3a`). Short, so a child name stays within
   * iptables' 28 characters for any interface name (at most 15 characters).
   */
  childPrefix: string;
  /** `-i` for traffic from workloads, `-o` for traffic to them. */
  direction: '-i' | '-o';
  /** The per-endpoint chain an interface is dispatched to. */
  target: (iface: string) => string;
  /** The workload interface prefix (`cali`); every name starts with it. */
  interfacePrefix: string;
  /** What every chain does with a prefixed interface that has no endpoint. */
  unknown: Rule[];
  /** A group larger than this is split again by the next character of the name. */
  maxLeaf?: number;
}

/** Length of the longest common prefix of sorted, distinct names (first vs last suffices). */
function commonPrefix(sorted: string[]): number {
  const a = sorted[0]!;
  const b = sorted.at(-1)!;
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return i;
}

/** Memory of the tree between updates: chain name → what it was built from. */
export interface DispatchMemo {
  subtrees: Map<string, { names: string[]; extra: string[]; children: string[] }>;
}

export const newDispatchMemo = (): DispatchMemo => ({ subtrees: new Map() });

/** Where the tree's chains go (a table's tracker, through `IptablesFamilies`). */
export interface ChainSink {
  set(c: Chain): void;
  delete(name: string): void;
}

function sameNames(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Dispatch chains keyed by interface name, built as a prefix tree (as Calico does) so
 * a packet passes through a handful of short chains instead of one 10,000-rule list,
 * and adding or removing one interface rewrites one small leaf chain, not a long list.
 * A chain splits its group by the first character where the names differ (levels where
 * every name shares the next character are skipped), matching `-i <prefix>+` and going
 * to a child chain per character, recursively, until a group is small enough for one
 * rule per interface. Interfaces with the workload prefix but no endpoint fall through
 * to `unknown` (DROP) at the end of every chain. Child names (`tri-fd-3a…`) sort below
 * the endpoint chains (`tri-fw-…`); see `writeOrder` for why that matters.
 *
 * Updates `out` to the tree for `ifaces`. A chain depends only on the names under it, so
 * with the memo of the previous update only the chains whose names changed are rebuilt
 * and set (one more interface: the path from the root to its leaf), and subtrees that
 * disappeared are deleted from `out`.
 */
export function updateDispatch(
  ifaces: string[],
  o: DispatchOptions,
  memo: DispatchMemo,
  out: ChainSink,
): void {
  const maxLeaf = o.maxLeaf ?? 32;
  let sorted = ifaces;
  for (let i = 1; i < ifaces.length; i++)
    if (!(ifaces[i - 1]! < ifaces[i]!)) {
      sorted = [...new Set(ifaces)].sort();
      break;
    }
  const direct = (n: string): Rule => ({ match: `${o.direction} ${n}`, action: `-g ${o.target(n)}` });
  const drop = (name: string): void => {
    const m = memo.subtrees.get(name);
    memo.subtrees.delete(name);
    out.delete(name);
    for (const c of m?.children ?? []) drop(c);
  };
  const build = (name: string, names: string[], extra: string[]): void => {
    const hit = memo.subtrees.get(name);
    if (hit && sameNames(hit.names, names) && sameNames(hit.extra, extra)) return;
    const rules: Rule[] = extra.map(direct);
    const children: { name: string; names: string[] }[] = [];
    if (names.length <= maxLeaf) rules.push(...names.map(direct));
    else {
      // Names are distinct, so they differ at `depth` (or one of them ends there).
      const depth = commonPrefix(names);
      const groups = new Map<number, string[]>();
      for (const n of names) {
        if (n.length <= depth) {
          rules.push(direct(n));
          continue;
        }
        const ch = n.charCodeAt(depth);
        const g = groups.get(ch);
        if (g) g.push(n);
        else groups.set(ch, [n]);
      }
      for (const g of groups.values()) {
        const p = g[0]!.slice(0, depth + 1);
        const child = `${o.childPrefix}${p.slice(o.interfacePrefix.length)}`;
        if (g.length === 1 || child.length > MAX_CHAIN_NAME) {
          rules.push(...g.map(direct));
          continue;
        }
        rules.push({ match: `${o.direction} ${p}+`, action: `-g ${child}` });
        children.push({ name: child, names: g });
      }
    }
    // `-g` does not come back: every chain of the tree must end in the unknown-interface verdict.
    rules.push(...o.unknown);
    // Subtrees that are gone leave first: a name under one of them may reappear under a
    // new child, which must then be built afresh rather than found in the memo.
    const kept = new Set(children.map((c) => c.name));
    for (const c of hit?.children ?? []) if (!kept.has(c)) drop(c);
    for (const c of children) build(c.name, c.names, []);
    out.set({ name, rules });
    memo.subtrees.set(name, { names, extra, children: children.map((c) => c.name) });
  };
  // Only names with the workload prefix form the tree (others cannot reach it: the hooks
  // jump here for `cali+` only); any others get a rule of their own in the root.
  build(
    o.root,
    sorted.filter((n) => n.startsWith(o.interfacePrefix)),
    sorted.filter((n) => !n.startsWith(o.interfacePrefix)),
  );
}

/** The whole tree for `ifaces`, chains in restore order (for tests and one-off use). */
export function dispatchChains(ifaces: string[], o: DispatchOptions): Chain[] {
  const chains = new Map<string, Chain>();
  updateDispatch(ifaces, o, newDispatchMemo(), {
    set: (c) => chains.set(c.name, c),
    delete: (name) => chains.delete(name),
  });
  return writeOrder(chains).map((n) => chains.get(n)!);
}
