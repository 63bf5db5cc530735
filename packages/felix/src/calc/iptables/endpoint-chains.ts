import type { CalcGraph, Calculator, EndpointRules, LocalEndpoint } from '../graph.js';
import { chainNames, dispatchOptions, endpointChains, NOT_COMPUTED } from './chains.js';
import { type DispatchMemo, newDispatchMemo, updateDispatch } from './dispatch.js';
import type { IptablesFamilies } from './families.js';

/** The first index of the sorted array `a` whose element is not below `x`. */
function lowerBound(a: string[], x: string): number {
  let lo = 0;
  let hi = a.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (a[mid]! < x) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The per-endpoint chains (`tri-tw-<iface>`, `tri-fw-<iface>`: the policy calculator's rules)
 * and the dispatch trees that lead to them, for both IP families at once. Per batch only
 * the changed interfaces' chains are rebuilt, and the trees along the changed paths (a
 * memo of each subtree's names): one more endpoint is its two chains and two leaves.
 */
export class EndpointChainsCalculator implements Calculator {
  private readonly endpoints = new Map<string, LocalEndpoint>();
  private readonly rules = new Map<string, EndpointRules>();
  private readonly dirty = new Set<string>();
  /** Local workload interfaces, sorted. */
  readonly ifaces: string[] = [];
  private readonly memo: Record<'to' | 'from', DispatchMemo> = {
    to: newDispatchMemo(),
    from: newDispatchMemo(),
  };
  private first = true;

  constructor(
    private readonly chainPrefix: string,
    private readonly interfacePrefix: string,
    private readonly out: IptablesFamilies,
  ) {}

  register(g: CalcGraph): void {
    const changed = (iface: string) => this.dirty.add(iface);
    g.mirror('localEndpoint', this.endpoints, changed);
    g.mirror('endpointRules', this.rules, changed);
  }

  flush(): void {
    if (!this.dirty.size && !this.first) return;
    this.first = false;
    const n = chainNames(this.chainPrefix);
    for (const iface of this.dirty) {
      const i = lowerBound(this.ifaces, iface);
      if (!this.endpoints.has(iface)) {
        this.out.deleteChain('filter', n.toEndpoint(iface));
        this.out.deleteChain('filter', n.fromEndpoint(iface));
        if (this.ifaces[i] === iface) this.ifaces.splice(i, 1);
        continue;
      }
      const r = this.rules.get(iface);
      for (const c of endpointChains(this.chainPrefix, iface, r?.from ?? NOT_COMPUTED, r?.to ?? NOT_COMPUTED))
        this.out.setChain('filter', c);
      if (this.ifaces[i] !== iface) this.ifaces.splice(i, 0, iface);
    }
    this.dirty.clear();
    const sink = {
      set: (c: Parameters<IptablesFamilies['setChain']>[1]) => this.out.setChain('filter', c),
      delete: (name: string) => this.out.deleteChain('filter', name),
    };
    const opts = dispatchOptions(this.chainPrefix, this.interfacePrefix);
    updateDispatch(this.ifaces, opts.to, this.memo.to, sink);
    updateDispatch(this.ifaces, opts.from, this.memo.from, sink);
  }
}
