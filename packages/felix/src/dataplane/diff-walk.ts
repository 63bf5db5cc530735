/**
 * The walk every keyed driver diff shares: either everything (each kernel entry, then each
 * desired one) or, given the keys the calculation says changed, only those — deletions
 * first in both cases, so a replaced entry never collides with its old self.
 */
export function walkDiff<K, D>(
  kernel: ReadonlyMap<string, K>,
  desired: ReadonlyMap<string, D>,
  keys: Iterable<string> | undefined,
  del: (key: string, k: K) => void,
  put: (key: string, d: D) => void,
): void {
  if (keys) {
    const puts: string[] = [];
    for (const key of keys) {
      const k = kernel.get(key);
      if (k) del(key, k);
      if (desired.has(key)) puts.push(key);
    }
    for (const key of puts) put(key, desired.get(key)!);
    return;
  }
  for (const [key, k] of kernel) del(key, k);
  for (const [key, d] of desired) put(key, d);
}
