import { type ChildProcess, spawn } from 'node:child_process';
import { lineSplitter } from './run.js';

/** A device name no interface can have (longer than IFNAMSIZ): `show dev` of it always fails. */
const SENTINEL = 'tricolor-sentinel';

/**
 * Lines one process is given before the next batch goes to a fresh one: `ip -batch` keeps
 * ~4 KB per line it has run until it exits (200,000 routes: 811 MB), so a full table through
 * one process grew it past 3 GB.
 */
const LINES_PER_PROCESS = 32_768;

/** Lines of a batch that failed: `line N: <what the tool said>`. */
export class BatchError extends Error {
  override readonly name = 'BatchError';
  constructor(
    readonly tool: string,
    readonly failures: string[],
  ) {
    super(`${tool} -batch: ${failures.join('; ').slice(0, 2000)}`);
  }
}

interface Pending {
  first: number;
  sentinel: number;
  errors: string[];
  resolve: () => void;
  reject: (e: Error) => void;
}

/** One process of a session, with the batches it was given. */
class Worker {
  readonly proc: ChildProcess;
  next = 1;
  readonly queue: Pending[] = [];
  private messages: string[] = [];
  /** Settles when the process has exited (after the lines it was given, once `end()`ed). */
  readonly finished: Promise<void>;
  private exited: () => void = () => undefined;

  constructor(
    private readonly tool: string,
    file: string,
    argv: string[],
    private readonly onFailure: (w: Worker) => void,
  ) {
    this.finished = new Promise((r) => {
      this.exited = r;
    });
    this.proc = spawn(file, argv, { stdio: ['pipe', 'ignore', 'pipe'] });
    const split = lineSplitter((l) => this.onStderr(l));
    this.proc.stderr!.setEncoding('utf8');
    this.proc.stderr!.on('data', split.push);
    this.proc.stdin!.on('error', () => undefined); // reported by 'close'
    this.proc.on('error', (e) => this.messages.push(e.message));
    this.proc.on('close', (code) => {
      for (const p of this.queue.splice(0))
        p.reject(new BatchError(this.tool, [`${this.tool} exited (${code}): ${this.messages.join(' ')}`]));
      this.onFailure(this);
      this.exited();
    });
  }

  private onStderr(line: string): void {
    const m = /^Command failed -:(\d+)$/.exec(line);
    if (!m) {
      if (line) this.messages.push(line);
      return;
    }
    const n = Number(m[1]);
    const head = this.queue[0];
    const said = this.messages.join(' ');
    this.messages = [];
    if (!head) return;
    if (n < head.sentinel) {
      head.errors.push(`line ${n - head.first + 1}: ${said}`);
      return;
    }
    this.queue.shift();
    if (!this.queue.length) this.hold(false);
    if (!head.errors.length) {
      head.resolve();
      return;
    }
    head.reject(new BatchError(this.tool, head.errors));
    this.onFailure(this); // after a failure the tool's view of devices may be stale
  }

  /** An idle session keeps no process alive that would otherwise exit. */
  private hold(on: boolean): void {
    const handles = [this.proc, this.proc.stdin, this.proc.stderr] as { ref?(): void; unref?(): void }[];
    for (const h of handles) (on ? h?.ref : h?.unref)?.call(h);
  }

  run(lines: readonly string[], show: string): Promise<void> {
    const first = this.next;
    const sentinel = first + lines.length;
    this.next = sentinel + 1;
    this.hold(true);
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ first, sentinel, errors: [], resolve, reject });
      this.proc.stdin!.write(`${lines.join('\n')}\n${show} show dev ${SENTINEL}\n`);
    });
  }

  /** No more batches: the process finishes those it has and exits. */
  end(): void {
    this.proc.stdin!.end();
  }
}

/**
 * One long-running `ip -force -batch -` (or `bridge …`) fed batches of commands through
 * its stdin: no process is started per write, and `ip neigh` dumps the links it resolves
 * names against once per process instead of once per batch (55–100 ms at 10,000 links).
 * Each batch is followed by a command that always fails (`show dev` of a name longer than
 * any interface's); its "Command failed -:N" on stderr, after every message of the batch
 * on the same stream, says the batch is done and which of its lines failed (-force goes
 * on past them).
 *
 * ip remembers the index of every device name it has seen: a device deleted and created
 * again under its name would be addressed by its old index, so `recycle()` (felix calls it
 * when a device goes) and any failure start a fresh process for the next batch.
 */
export class BatchSession {
  private worker: Worker | undefined;
  /** Settles when the previous process has finished the lines it was given. */
  private handover: Promise<void> | undefined;

  constructor(
    readonly tool: 'ip' | 'bridge' = 'ip',
    private readonly netns?: string,
  ) {}

  /** Runs the lines (after any batch already given); rejects with the lines that failed. */
  run(lines: readonly string[]): Promise<void> {
    if (!lines.length) return Promise.resolve();
    if (this.worker && this.worker.next > LINES_PER_PROCESS) {
      // The next process writes only once this one has finished: lines stay in order.
      const old = this.worker;
      this.recycle();
      this.handover = old.finished;
    }
    if (!this.worker) {
      const args = ['-force', '-batch', '-'];
      const [file, argv] = this.netns
        ? ['nsenter', [`--net=${this.netns}`, this.tool, ...args]]
        : [this.tool, args];
      this.worker = new Worker(this.tool, file, argv, (w) => {
        if (this.worker === w) this.recycle();
      });
    }
    const w = this.worker;
    const show = this.tool === 'ip' ? 'link' : 'fdb';
    const after = this.handover;
    if (!after) return w.run(lines, show);
    const ran = after.then(() => w.run(lines, show));
    this.handover = ran.then(
      () => undefined,
      () => undefined,
    );
    return ran;
  }

  /** The next batch starts a fresh process (the current one finishes what it was given). */
  recycle(): void {
    const w = this.worker;
    this.worker = undefined;
    w?.end();
  }

  close(): void {
    this.recycle();
  }
}
