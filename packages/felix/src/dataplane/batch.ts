import type { DeltaTracker } from '../tracker/delta-tracker.js';

/** How one kind of item is written by a batch tool (`ip -batch`, `bridge -batch`). */
export interface BatchKind<D, P> {
  /** The line that deletes a kernel item. */
  del(p: P): string;
  /**
   * The line that writes a desired item; undefined when it cannot be written now (it stays
   * pending); `{ remove }` when it cannot, and what the kernel holds at its key meanwhile
   * must go (it stays pending too).
   */
  set(d: D): string | { remove: string } | undefined;
  /** What the kernel holds once `set`'s line ran. */
  after(d: D): P;
}

/**
 * Writes everything a tracker has pending in one batch (deletions first) and tells the
 * tracker what the kernel then holds. A failed batch (-force went on past the failing
 * lines: which ones ran is unknown) drops the tracker's view, so the next write reads first.
 * Returns the number of lines written.
 */
export async function writePending<D, P>(
  t: DeltaTracker<string, D, P>,
  kind: BatchKind<D, P>,
  exec: (lines: string[]) => Promise<void>,
): Promise<number> {
  const lines: string[] = [];
  const deleted: string[] = [];
  const written: [string, D][] = [];
  for (const [k, p] of t.pendingDeletes()) {
    lines.push(kind.del(p));
    deleted.push(k);
  }
  for (const [k, d] of t.pendingSets()) {
    const line = kind.set(d);
    if (line === undefined) continue;
    if (typeof line === 'string') {
      lines.push(line);
      written.push([k, d]);
    } else {
      lines.push(line.remove);
      deleted.push(k);
    }
  }
  if (!lines.length) return 0;
  try {
    await exec(lines);
  } catch (e) {
    t.invalidate();
    throw e;
  }
  for (const k of deleted) t.removed(k);
  for (const [k, d] of written) t.wrote(k, kind.after(d));
  return lines.length;
}

/**
 * `exists(dev)` for the drivers' pending items: a stat per device for a few, one read of
 * the device directory for many (a first converge: 10,000 routes and 10,000 neighbors).
 */
export function deviceCheck(
  io: { linkExists(dev: string): boolean; linkNames(): Set<string> },
  pending: number,
): (dev: string) => boolean {
  if (pending <= 64) return (dev) => io.linkExists(dev);
  const names = io.linkNames();
  return (dev) => names.has(dev);
}
