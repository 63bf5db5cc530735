/**
 * A re-read of the kernel that ran beside the applies (the refresh timers'): for the keys
 * the applies wrote while it ran, felix's model is newer than the read, so those entries
 * are taken from the model (or dropped where the model no longer has them).
 */
export function keepWritten<V>(
  fresh: Map<string, V>,
  model: ReadonlyMap<string, V> | undefined,
  written: Iterable<string>,
): void {
  for (const k of written) {
    const v = model?.get(k);
    if (v !== undefined) fresh.set(k, v);
    else fresh.delete(k);
  }
}
