import { spawn } from 'node:child_process';
import { setPriority } from 'node:os';

export interface RunOptions {
  /** Written to the command's stdin (then closed). */
  input?: string;
  /** Resolve with the exit code instead of throwing when the command fails (or cannot start: code 127). */
  allowFail?: boolean;
  /**
   * Receives stdout as it arrives (UTF-8 text, chunk boundaries anywhere): a large output is
   * parsed while the command still runs instead of after it. `stdout` is then empty.
   */
  onStdout?: (chunk: string) => void;
  /** Bytes of stdout kept before the command is killed (default 512 MiB). */
  maxBuffer?: number;
  /**
   * Scheduling niceness of the command (1–19), set as soon as it has started: a background
   * read (an iptables-save of 50,000 rules is seconds of a core) leaves the CPU to the writes
   * a change waits for. Where it may not be set, the command runs at the caller's priority.
   */
  nice?: number;
}

export interface RunResult {
  stdout: string;
  stderr: string;
  /** Exit status; 127 when the command could not be started, 128+n when killed by signal n. */
  code: number;
  /** The command's process id (absent when it could not be started). */
  pid?: number;
}

/** Something that runs commands as `run` does (`run` itself, or a `Spawner`'s). */
export type Runner = (file: string, args: readonly string[], opts?: RunOptions) => Promise<RunResult>;

/** A command that exited non-zero (or could not start); carries what it printed on stderr. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    readonly file: string,
    readonly args: readonly string[],
    readonly code: number,
    readonly stderr: string,
  ) {
    super(`${file} ${args.join(' ')} exited ${code}: ${stderr.trim().slice(0, 2000)}`);
  }
}

/** Bytes of stderr kept (errors are short; a runaway one must not fill memory). */
const STDERR_LIMIT = 64 * 1024;

/**
 * Runs a command without a shell and returns its output. node:child_process only: this is
 * on the CNI plugin's per-pod path, where every module loaded is paid on each ADD.
 */
export function run(file: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
  const maxBuffer = opts.maxBuffer ?? 512 * 1024 * 1024;
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    const out: string[] = [];
    let outBytes = 0;
    let stderr = '';
    let failure: Error | undefined;
    child.stdout!.setEncoding('utf8');
    child.stderr!.setEncoding('utf8');
    child.stdout!.on('data', (chunk: string) => {
      if (opts.onStdout) {
        try {
          opts.onStdout(chunk);
        } catch (e) {
          failure ??= e as Error;
          child.kill('SIGKILL');
        }
        return;
      }
      outBytes += chunk.length;
      if (outBytes > maxBuffer) {
        failure ??= new Error(`${file}: output larger than ${maxBuffer} bytes`);
        child.kill('SIGKILL');
        return;
      }
      out.push(chunk);
    });
    child.stderr!.on('data', (chunk: string) => {
      if (stderr.length < STDERR_LIMIT) stderr += chunk;
    });
    // A command that fails at once may close its stdin before we write: its exit status
    // is what to report, not our EPIPE.
    if (opts.nice && child.pid !== undefined)
      try {
        setPriority(child.pid, opts.nice);
      } catch {
        // not allowed, or already gone: it runs at the caller's priority
      }
    child.stdin?.on('error', () => undefined);
    if (opts.input !== undefined) child.stdin!.end(opts.input);
    let started = true;
    child.on('error', (e) => {
      started = false;
      stderr ||= e.message;
    });
    child.on('close', (code, signal) => {
      if (failure) return reject(failure);
      const status = !started ? 127 : (code ?? 128 + signalNumber(signal));
      const res: RunResult = { stdout: out.join(''), stderr, code: status };
      if (started && child.pid !== undefined) res.pid = child.pid;
      if (status !== 0 && !opts.allowFail) reject(new CommandError(file, args, status, stderr));
      else resolve(res);
    });
  });
}

function signalNumber(signal: NodeJS.Signals | null): number {
  const n: Partial<Record<NodeJS.Signals, number>> = { SIGKILL: 9, SIGTERM: 15, SIGINT: 2, SIGPIPE: 13 };
  return (signal && n[signal]) ?? 1;
}

/** Splits streamed text into complete lines (the last, unterminated one waits for more). */
export function lineSplitter(onLine: (line: string) => void): { push(chunk: string): void; end(): void } {
  let carry = '';
  return {
    push(chunk) {
      const text = carry + chunk;
      let start = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', start)) {
        onLine(text.slice(start, nl));
        start = nl + 1;
      }
      carry = text.slice(start);
    },
    end() {
      if (carry) onLine(carry);
      carry = '';
    },
  };
}
