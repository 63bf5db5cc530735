import { type Chain, ruleTarget } from './rules.js';

/**
 * The order in which an iptables-restore script writes chains: every chain after the
 * chains it jumps to (so a rule never names a chain the script has yet to fill), and
 * among the chains that are ready, the highest name first.
 *
 * Why highest first: iptables-nft (1.8.9) keeps the chain names a restore mentions in a
 * sorted list and walks past every smaller name on each insert. Writing names in
 * descending order keeps each walk short, so a cold restore of 10,000 endpoints (20,000
 * chains) stays linear instead of quadratic. Dispatch chain names are chosen to sort below
 * the endpoint chains they lead to (`tri-td-…` < `tri-tw-…`) for the same reason.
 *
 * `only`: order just these names (a delta); jumps to chains outside it are already in
 * the kernel and impose no order. Names missing from `chains` are skipped.
 */
export function writeOrder(chains: ReadonlyMap<string, Chain>, only?: Iterable<string>): string[] {
  const names = only ? [...new Set(only)].filter((n) => chains.has(n)) : [...chains.keys()];
  const inSet = only ? new Set(names) : undefined;
  const member = (n: string) => (inSet ? inSet.has(n) : chains.has(n));
  // Kahn's algorithm on "A jumps to B ⇒ B first", with a max-heap of ready names.
  const waiting = new Map<string, number>();
  const jumpers = new Map<string, string[]>();
  const heap = new NameHeap();
  for (const name of names) {
    const targets = new Set<string>();
    for (const r of chains.get(name)!.rules) {
      const t = ruleTarget(r);
      if (t !== undefined && t !== name && member(t)) targets.add(t);
    }
    waiting.set(name, targets.size);
    for (const t of targets) {
      const list = jumpers.get(t);
      if (list) list.push(name);
      else jumpers.set(t, [name]);
    }
    if (!targets.size) heap.push(name);
  }
  const out: string[] = [];
  for (let name = heap.pop(); name !== undefined; name = heap.pop()) {
    out.push(name);
    for (const j of jumpers.get(name) ?? []) {
      const left = waiting.get(j)! - 1;
      waiting.set(j, left);
      if (left === 0) heap.push(j);
    }
  }
  // A jump cycle (never built by felix; the kernel would refuse it anyway): append the
  // rest so the restore reports the loop instead of the chain silently going missing.
  if (out.length < names.length) for (const n of names) if (waiting.get(n)! > 0) out.push(n);
  return out;
}

/** A binary max-heap of strings. */
class NameHeap {
  private a: string[] = [];
  push(s: string): void {
    const a = this.a;
    let i = a.push(s) - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (a[p]! >= s) break;
      a[i] = a[p]!;
      i = p;
    }
    a[i] = s;
  }
  pop(): string | undefined {
    const a = this.a;
    if (!a.length) return undefined;
    const top = a[0]!;
    const last = a.pop()!;
    if (a.length) {
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= a.length) break;
        const r = l + 1;
        const c = r < a.length && a[r]! > a[l]! ? r : l;
        if (a[c]! <= last) break;
        a[i] = a[c]!;
        i = c;
      }
      a[i] = last;
    }
    return top;
  }
}

/**
 * iptables-nft's sorted list of the chain names one restore mentions (each rule's chain and
 * its `-j`/`-g` target), and how many list nodes the inserts walked past: the user time a
 * restore spends there (~50 ns a node on this project's machine). Writing in `writeOrder`
 * keeps it small while chains jump to few others; policy chains, each jumped to from many
 * endpoint chains, make it quadratic again (10,000 endpoints with 1,000 policies: 716 million
 * nodes, 36 s), so the restore is cut where this count passes a budget (see `planRestore`).
 */
export class ChainNameWalk {
  private readonly names: string[] = [];
  /** List nodes walked so far. */
  walked = 0;

  /** A name the restore mentions: walks past every smaller name, inserts it if new. */
  mention(name: string): void {
    const a = this.names;
    let lo = 0;
    let hi = a.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (a[mid]! < name) lo = mid + 1;
      else hi = mid;
    }
    this.walked += lo + 1;
    if (a[lo] !== name) a.splice(lo, 0, name);
  }

  /** The mentions of a chain written whole: its declaration, then each rule and its target. */
  mentionChain(c: Chain): void {
    this.mention(c.name);
    for (const r of c.rules) {
      this.mention(c.name);
      const t = ruleTarget(r);
      if (t !== undefined) this.mention(t);
    }
  }
}
