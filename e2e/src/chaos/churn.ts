import { failureText, type PodManager } from './pods.js';
import type { Rng } from './random.js';

/** One churn operation and how it went. */
export interface ChurnOp {
  at: number;
  op: 'add' | 'del';
  pod: string;
  node: string;
  ok: boolean;
  code?: number;
  msg?: string;
  ms: number;
}

/**
 * Pod churn through the CNI plugin beside the faults: every 2–4 s a pod is added on a random
 * node, or (above `min` extra pods, always at `max`) a random extra one deleted. Paused while
 * the datastore is meant to be unavailable (quorum lost), where ADDs are checked on purpose.
 */
export class Churn {
  readonly ops: ChurnOp[] = [];
  private running = false;
  private paused = false;
  private loop: Promise<void> | undefined;
  private wake: (() => void) | undefined;

  constructor(
    private readonly pods: PodManager,
    private readonly rng: Rng,
    private readonly opts: { min: number; max: number },
    private readonly log: (l: string) => void,
  ) {}

  start(): void {
    this.running = true;
    this.loop = this.run();
  }

  /** Pauses after the operation in progress (resolves once it is done). */
  async pause(): Promise<void> {
    this.paused = true;
    await this.idle;
  }

  resume(): void {
    this.paused = false;
  }

  async stop(): Promise<void> {
    this.running = false;
    this.wake?.();
    await this.loop;
  }

  private idle: Promise<void> = Promise.resolve();

  private async run(): Promise<void> {
    while (this.running) {
      await new Promise<void>((r) => {
        this.wake = r;
        setTimeout(r, this.rng.int(2_000, 4_000));
      });
      if (!this.running || this.paused) continue;
      let done!: () => void;
      this.idle = new Promise((r) => (done = r));
      try {
        await this.step();
      } finally {
        done();
      }
    }
  }

  private async step(): Promise<void> {
    const extra = this.pods.churnable();
    const del = extra.length >= this.opts.max || (extra.length > this.opts.min && this.rng.next() < 0.5);
    const at = Date.now();
    if (del) {
      const name = this.rng.pick(extra);
      const node = this.pods.cluster.pods.get(name)!.node;
      const r = await this.pods.delete(name);
      this.ops.push({
        at,
        op: 'del',
        pod: name,
        node,
        ok: r.ok,
        code: r.code,
        msg: r.msg,
        ms: Math.round(r.ms),
      });
      if (!r.ok) this.log(`churn: DEL of ${name} failed: ${failureText(r)}`);
    } else {
      const node = this.rng.pick([...this.pods.cluster.nodes.keys()]);
      const r = await this.pods.create(node);
      this.ops.push({
        at,
        op: 'add',
        pod: r.sandbox.name,
        node,
        ok: r.ok,
        code: r.code,
        msg: r.msg,
        ms: Math.round(r.ms),
      });
      if (!r.ok) this.log(`churn: ADD of ${r.sandbox.name} on ${node} failed: ${failureText(r)}`);
    }
  }
}
