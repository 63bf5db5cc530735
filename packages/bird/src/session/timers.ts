/**
 * Named one-shot timers for a session; restarting a timer replaces it. The handler learns
 * how late a timer fired (a busy or starved event loop runs timers late).
 */
export class Timers<N extends string> {
  private readonly handles = new Map<N, NodeJS.Timeout>();

  constructor(private readonly fire: (name: N, lateMs: number) => void) {}

  /**
   * Starts (or restarts) a timer. `spread` takes that share off at random: 0.25 is RFC 4271's
   * jitter for keepalive and connect-retry (75–100 %).
   */
  start(name: N, seconds: number, spread = 0): void {
    this.stop(name);
    const factor = 1 - Math.random() * spread;
    const ms = Math.max(1, seconds * 1000 * factor);
    const due = performance.now() + ms;
    const h = setTimeout(() => {
      this.handles.delete(name);
      this.fire(name, performance.now() - due);
    }, ms);
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
