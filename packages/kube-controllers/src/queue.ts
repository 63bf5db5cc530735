/**
 * A keyed work queue (client-go's workqueue in small): a key enqueued while queued is merged,
 * a key is never processed twice at once, a failed key is retried with exponential backoff.
 * Controllers are level-based: the handler reads the current state for the key, so a merged
 * or late run still does the right thing.
 */
export class WorkQueue {
  private readonly queued = new Set<string>();
  private readonly running = new Set<string>();
  private readonly again = new Set<string>();
  private readonly failures = new Map<string, number>();
  private readonly timers = new Set<NodeJS.Timeout>();
  private active = 0;
  private stopped = false;
  private idleWaiters: (() => void)[] = [];

  constructor(
    private readonly handle: (key: string) => Promise<void>,
    private readonly onError: (key: string, err: unknown, retryInMs: number) => void,
    private readonly opts: { concurrency?: number; baseDelayMs?: number; maxDelayMs?: number } = {},
  ) {}

  add(key: string): void {
    if (this.stopped) return;
    if (this.running.has(key)) {
      this.again.add(key);
      return;
    }
    this.queued.add(key);
    this.pump();
  }

  private pump(): void {
    while (!this.stopped && this.active < (this.opts.concurrency ?? 4) && this.queued.size > 0) {
      const key = this.queued.values().next().value as string;
      this.queued.delete(key);
      this.running.add(key);
      this.active++;
      this.handle(key)
        .then(
          () => this.failures.delete(key),
          (err) => {
            const n = (this.failures.get(key) ?? 0) + 1;
            this.failures.set(key, n);
            const delay = Math.min(
              (this.opts.baseDelayMs ?? 500) * 2 ** (n - 1),
              this.opts.maxDelayMs ?? 60_000,
            );
            this.onError(key, err, delay);
            const t = setTimeout(() => {
              this.timers.delete(t);
              this.add(key);
            }, delay);
            this.timers.add(t);
          },
        )
        .finally(() => {
          this.running.delete(key);
          this.active--;
          if (this.again.delete(key)) this.queued.add(key);
          this.pump();
          if (this.active === 0 && this.queued.size === 0) for (const w of this.idleWaiters.splice(0)) w();
        });
    }
  }

  /** Resolves when nothing is queued or running (retries waiting on a timer do not count). */
  idle(): Promise<void> {
    if (this.active === 0 && this.queued.size === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  stop(): void {
    this.stopped = true;
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    this.queued.clear();
  }
}
