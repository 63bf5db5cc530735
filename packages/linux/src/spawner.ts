import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CommandError, type RunOptions, type RunResult, run } from './run.js';

/** A request to the helper process, and what it sends back. */
export type SpawnRequest = {
  id: number;
  file: string;
  args: string[];
  input?: string;
  stream: boolean;
  nice?: number;
};
export type SpawnReply =
  | { ready: true }
  | { id: number; chunk: string }
  | {
      id: number;
      done: true;
      stdout: string;
      stderr: string;
      code: number;
      pid?: number;
      tooLarge?: boolean;
    };

interface Waiting {
  file: string;
  args: string[];
  opts: RunOptions;
  resolve: (r: RunResult) => void;
  reject: (e: Error) => void;
}

const HELPER = fileURLToPath(new URL('./spawner-child.js', import.meta.url));

/**
 * `run()` through a small helper process. Node.js forks a child from the calling thread and
 * waits there until the child has exec'd: the larger the process (a felix with 10,000
 * endpoints is ~400 MB), the longer every spawn holds up its event loop (measured under
 * load: 45 ms per spawn at 420 MB, 23 ms at 53 MB). A long-running daemon that starts tools
 * often hands that to a helper of a few tens of MB, whose stall is nobody's: the daemon's
 * event loop only sees messages. Same contract as `run()` (streamed stdout and niceness
 * included).
 *
 * The helper is itself a Node.js process (~50 MiB RSS): below `helperAboveRss` a spawn from
 * the daemon costs about what it costs from the helper, so commands run in-process until the
 * daemon first grows past it; from then on (for good) through the helper.
 */
export class Spawner {
  private helper: ChildProcess | undefined;
  private readonly helperAboveRss: number;

  /** @param opts.helperAboveRss bytes of RSS from which the helper is used (default 0: always). */
  constructor(opts: { helperAboveRss?: number } = {}) {
    this.helperAboveRss = opts.helperAboveRss ?? 0;
  }

  private booted: Promise<void> | undefined;
  private isBooted = false;

  private nextId = 1;
  private readonly waiting = new Map<number, Waiting>();

  /** Starts the helper now (it takes a Node.js start-up), not at the first command. */
  start(): ChildProcess {
    if (this.helper) return this.helper;
    let up: () => void = () => undefined;
    this.booted = new Promise((r) => {
      up = r;
    });
    const booted = () => {
      if (this.helper === h) this.isBooted = true;
      up();
    };
    const h = fork(HELPER, [], {
      serialization: 'advanced',
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    this.helper = h;
    h.on('message', (m: SpawnReply) => ('ready' in m ? booted() : this.onReply(m)));
    h.on('exit', (code) => {
      up();
      if (this.helper === h) {
        this.helper = undefined;
        this.isBooted = false;
      }
      for (const [id, w] of this.waiting) {
        this.waiting.delete(id);
        w.reject(new Error(`spawn helper exited (${code}) while running ${w.file}`));
      }
    });
    h.on('error', () => undefined);
    this.hold(false);
    return h;
  }

  private onReply(m: Exclude<SpawnReply, { ready: true }>): void {
    const w = this.waiting.get(m.id);
    if (!w) return;
    if ('chunk' in m) {
      try {
        w.opts.onStdout?.(m.chunk);
      } catch (e) {
        this.waiting.delete(m.id);
        w.reject(e as Error);
      }
      return;
    }
    this.waiting.delete(m.id);
    if (!this.waiting.size) this.hold(false);
    if (m.tooLarge) {
      w.reject(new Error(`${w.file}: ${m.stderr}`));
      return;
    }
    const res: RunResult = { stdout: m.stdout, stderr: m.stderr, code: m.code };
    if (m.pid !== undefined) res.pid = m.pid;
    if (m.code !== 0 && !w.opts.allowFail) w.reject(new CommandError(w.file, w.args, m.code, m.stderr));
    else w.resolve(res);
  }

  /** An idle helper keeps no process alive that would otherwise exit. */
  private hold(on: boolean): void {
    const h = this.helper;
    if (!h) return;
    const handles = [h, (h as unknown as { channel?: { ref(): void; unref(): void } }).channel];
    for (const x of handles) (on ? x?.ref : x?.unref)?.call(x);
  }

  /** Resolves once commands can be run: at once in-process, else when the helper has started. */
  async ready(): Promise<void> {
    if (!this.helper && process.memoryUsage.rss() < this.helperAboveRss) return;
    this.start();
    this.hold(true);
    try {
      await this.booted;
    } finally {
      if (!this.waiting.size) this.hold(false);
    }
  }

  run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    if (!this.helper && process.memoryUsage.rss() < this.helperAboveRss) return run(file, args, opts);
    const h = this.helper ?? this.start();
    // While a helper started on the way boots, in-process (its start-up is a Node.js start).
    if (!this.isBooted && this.helperAboveRss > 0) return run(file, args, opts);
    const id = this.nextId++;
    this.hold(true);
    return new Promise<RunResult>((resolve, reject) => {
      this.waiting.set(id, { file, args: [...args], opts, resolve, reject });
      const req: SpawnRequest = { id, file, args: [...args], stream: Boolean(opts.onStdout) };
      if (opts.input !== undefined) req.input = opts.input;
      if (opts.nice) req.nice = opts.nice;
      h.send(req);
    });
  }

  close(): void {
    const h = this.helper;
    this.helper = undefined;
    this.isBooted = false;
    h?.disconnect();
  }
}
