import type { Labels, PolicyType } from '@tricolor/datastore';
import type { NormalizedPolicy } from './normalize.js';
import type { SelectorCache } from './selector-cache.js';

const KIND_RANK = { GlobalNetworkPolicy: 0, NetworkPolicy: 1 } as const;

/**
 * Calico's policy order: by `order`, lowest first, a policy without order after every policy
 * with one; then by name; then (for a total order) kind and namespace.
 */
export function comparePolicies(a: NormalizedPolicy, b: NormalizedPolicy): number {
  const ao = a.order ?? Number.POSITIVE_INFINITY;
  const bo = b.order ?? Number.POSITIVE_INFINITY;
  if (ao !== bo) return ao < bo ? -1 : 1;
  if (a.ref.name !== b.ref.name) return a.ref.name < b.ref.name ? -1 : 1;
  if (a.ref.kind !== b.ref.kind) return KIND_RANK[a.ref.kind] - KIND_RANK[b.ref.kind];
  const an = a.ref.namespace ?? '';
  const bn = b.ref.namespace ?? '';
  return an === bn ? 0 : an < bn ? -1 : 1;
}

/** The policies that apply to an endpoint (by its effective labels) for one direction, in order. */
export function activePolicies(
  labels: Labels,
  policies: Iterable<NormalizedPolicy>,
  direction: PolicyType,
  selectors: SelectorCache,
): NormalizedPolicy[] {
  const out: NormalizedPolicy[] = [];
  for (const p of policies)
    if (p.types.includes(direction) && selectors.matches(p.selector, labels)) out.push(p);
  return out.sort(comparePolicies);
}
