import { type Chain, MAX_CHAIN_NAME, type Rule } from './rules.js';

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
  /**
   * The per-endpoint chain itself, when it should be listed with the tree: it is placed
   * right before the dispatch chain that jumps to it (see `dispatchChains` on order).
   */
  endpointChain?: (iface: string) => Chain;
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

/**
 * Dispatch chains keyed by interface name, built as a prefix tree (as Calico does) so
 * a packet passes through a handful of short chains instead of one 10,000-rule list,
 * and adding or removing one interface rewrites one small leaf chain, not a long list.
 * A chain splits its group by the first character where the names differ (levels where
 * every name shares the next character are skipped), matching `-i <prefix>+` and going
 * to a child chain per character, recursively, until a group is small enough for one
 * rule per interface. Interfaces with the workload prefix but no endpoint fall through
 * to `unknown` (DROP) at the end of every chain.
 *
 * Order of the returned chains (it is the order of the iptables-restore script): every
 * chain comes after the chains it jumps to (children first, endpoint chains right before
 * their leaf), subtrees in descending name order. iptables-nft (1.8.9) keeps the chain
 * names a restore mentions in a sorted linked list, walking past every smaller name on
 * each insert; with this order and child names that sort below the endpoint chains'
 * (`tri-fd-…` < `tri-fw-…`) each walk is short, so a cold restore of 10,000 endpoints is
 * linear instead of quadratic (seconds of CPU).
 */
/** Memory of built subtrees between calls (see `dispatchChains`), one per tree. */
export interface DispatchMemo {
  /** Chain name → the interface names it was built for and what it emitted. */
  subtrees: Map<string, { names: string[]; items: DispatchItem[] }>;
}

/** A chain of the tree, or (a string) the interface whose endpoint chain goes there. */
type DispatchItem = Chain | string;

export const newDispatchMemo = (): DispatchMemo => ({ subtrees: new Map() });

function sameNames(a: string[], b: string[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

export function dispatchChains(ifaces: string[], o: DispatchOptions, memo?: DispatchMemo): Chain[] {
  const maxLeaf = o.maxLeaf ?? 32;
  let sorted = ifaces;
  for (let i = 1; i < ifaces.length; i++)
    if (!(ifaces[i - 1]! < ifaces[i]!)) {
      sorted = [...new Set(ifaces)].sort();
      break;
    }
  const direct = (n: string): Rule => ({ match: `${o.direction} ${n}`, action: `-g ${o.target(n)}` });
  /** Builds the subtree for `names` (all sharing the chain's prefix); returns it in list order. */
  const build = (name: string, names: string[], extra: string[] = []): DispatchItem[] => {
    // The subtree of a chain depends only on its names: reuse it when they are the same
    // (adding one interface rebuilds just the path from the root to its leaf).
    const hit = memo && !extra.length ? memo.subtrees.get(name) : undefined;
    if (hit && sameNames(hit.names, names)) return hit.items;
    const rules: Rule[] = extra.map(direct);
    const chain: Chain = { name, rules };
    // Children (dispatch subtrees and endpoint chains), listed before this chain, highest first.
    const children: (DispatchItem | (() => DispatchItem[]))[] = [...extra];
    if (names.length <= maxLeaf) {
      for (const n of names) {
        rules.push(direct(n));
        children.push(n);
      }
    } else {
      // Names are distinct, so they differ at `depth` (or one of them ends there).
      const depth = commonPrefix(names);
      const groups = new Map<number, string[]>();
      for (const n of names) {
        if (n.length <= depth) {
          rules.push(direct(n));
          children.push(n);
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
          for (const n of g) {
            rules.push(direct(n));
            children.push(n);
          }
          continue;
        }
        rules.push({ match: `${o.direction} ${p}+`, action: `-g ${child}` });
        children.push(() => build(child, g));
      }
    }
    // `-g` does not come back: every chain of the tree must end in the unknown-interface verdict.
    rules.push(...o.unknown);
    const items: DispatchItem[] = [];
    for (let i = children.length - 1; i >= 0; i--) {
      const c = children[i]!;
      if (typeof c === 'function') for (const x of c()) items.push(x);
      else items.push(c);
    }
    items.push(chain);
    if (memo && !extra.length) memo.subtrees.set(name, { names, items });
    return items;
  };
  // Only names with the workload prefix form the tree (others cannot reach it: the hooks
  // jump here for `cali+` only); any others get a rule of their own in the root.
  const prefixed = sorted.filter((n) => n.startsWith(o.interfacePrefix));
  const items = build(
    o.root,
    prefixed,
    sorted.filter((n) => !n.startsWith(o.interfacePrefix)),
  );
  const chains: Chain[] = [];
  for (const x of items) {
    if (typeof x !== 'string') chains.push(x);
    else if (o.endpointChain) chains.push(o.endpointChain(x));
  }
  // Forget subtrees that are gone once they clearly outnumber the live ones.
  if (memo && memo.subtrees.size > 2 * chains.length + 64) {
    const live = new Set(chains.map((c) => c.name));
    for (const k of memo.subtrees.keys()) if (!live.has(k)) memo.subtrees.delete(k);
  }
  return chains;
}
