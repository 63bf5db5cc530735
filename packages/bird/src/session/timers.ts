/** Named one-shot timers for a session; restarting a timer replaces it. */
export class Timers<N extends string> {
  private readonly handles = new Map<N, NodeJS.Timeout>();

  constructor(private readonly fire: (name: N) => void) {}

  /** Starts (or restarts) a timer; keepalive and connect-retry get RFC 4271 jitter (75–100 %). */
  start(name: N, seconds: number, jitter = false): void {
    this.stop(name);
    const factor = jitter ? 0.75 + Math.random() * 0.25 : 1;
    const h = setTimeout(
      () => {
        this.handles.delete(name);
        this.fire(name);
      },
      Math.max(1, seconds * 1000 * factor),
    );
    h.unref();
    this.handles.set(name, h);
  }

  stop(name: N): void {
    const h = this.handles.get(name);
    if (h) clearTimeout(h);
    this.handles.delete(name);
  }

  running(name: N): boolean {
    return this.handles.has(name);
  }

  stopAll(): void {
    for (const h of this.handles.values()) clearTimeout(h);
    this.handles.clear();
  }
}
