import { type Runner, run } from './run.js';

export interface IpOptions {
  /**
   * Run inside the network namespace bound at this path (`/var/run/netns/x`,
   * `/proc/<pid>/ns/net`), through `nsenter --net=<path>`.
   */
  netns?: string;
  /** Runs the command (default `run`; a daemon passes its `Spawner`'s). */
  runner?: Runner;
}

export function ipCommand(args: readonly string[], o: IpOptions): [string, string[]] {
  return o.netns ? ['nsenter', [`--net=${o.netns}`, 'ip', ...args]] : ['ip', [...args]];
}

/** Runs `ip <args>` and returns its stdout; throws a CommandError with ip's message on failure. */
export async function ip(args: readonly string[], o: IpOptions & { input?: string } = {}): Promise<string> {
  const [file, argv] = ipCommand(args, o);
  const r = await (o.runner ?? run)(file, argv, o.input === undefined ? {} : { input: o.input });
  return r.stdout;
}

/** `ip -json <args>`, parsed (an empty output is an empty list). */
export async function ipJson<T>(args: readonly string[], o: IpOptions = {}): Promise<T[]> {
  const [file, argv] = ipCommand(['-json', ...args], o);
  const r = await (o.runner ?? run)(file, argv);
  if (r.stderr.includes(DUMP_INTERRUPTED)) throw new DumpInterruptedError(`ip ${args.join(' ')}`);
  const text = r.stdout.trim();
  return text ? (JSON.parse(text) as T[]) : [];
}

/**
 * `ip -json <args>` with each element handed to `each` as soon as it has arrived: the
 * output of a large table (10,000 routes: ~2 MB on one line) is parsed while `ip` still
 * writes it, in small pieces, instead of in one long JSON.parse at the end.
 */
export async function ipJsonEach<T>(
  args: readonly string[],
  each: (item: T) => void,
  o: IpOptions = {},
): Promise<void> {
  const [file, argv] = ipCommand(['-json', ...args], o);
  const split = jsonArraySplitter((text) => each(JSON.parse(text) as T));
  const r = await (o.runner ?? run)(file, argv, { onStdout: split.push });
  split.end();
  if (r.stderr.includes(DUMP_INTERRUPTED)) throw new DumpInterruptedError(`ip ${args.join(' ')}`);
}

const DUMP_INTERRUPTED = 'Dump was interrupted';

/**
 * The kernel changed the table while `ip` dumped it (NLM_F_DUMP_INTR): what was read may
 * miss or repeat entries. Read again.
 */
export class DumpInterruptedError extends Error {
  override readonly name = 'DumpInterruptedError';
  constructor(what: string) {
    super(`${what}: dump interrupted by a concurrent change`);
  }
}

/**
 * Cuts a streamed JSON array (`[{…},{…}]`) into the text of its elements. Only strings
 * and nesting are tracked, which is all it takes to find where a top-level element ends.
 */
export function jsonArraySplitter(onElement: (text: string) => void): {
  push(chunk: string): void;
  end(): void;
} {
  let depth = 0;
  let inString = false;
  let escaped = false;
  /** The element being collected: pieces of earlier chunks, and where it starts in this one. */
  let pieces: string[] = [];
  let collecting = false;
  return {
    push(chunk: string) {
      let start = collecting ? 0 : -1;
      for (let i = 0; i < chunk.length; i++) {
        const c = chunk.charCodeAt(i);
        if (inString) {
          if (escaped) escaped = false;
          else if (c === 92 /* \ */) escaped = true;
          else if (c === 34 /* " */) inString = false;
          continue;
        }
        if (c === 34) inString = true;
        else if (c === 91 /* [ */ || c === 123 /* { */) {
          depth++;
          if (depth === 2) {
            collecting = true;
            start = i;
          }
        } else if (c === 93 /* ] */ || c === 125 /* } */) {
          depth--;
          if (depth === 1 && collecting) {
            pieces.push(chunk.slice(start, i + 1));
            onElement(pieces.length === 1 ? pieces[0]! : pieces.join(''));
            pieces = [];
            collecting = false;
            start = -1;
          }
        } else if (depth === 1 && collecting === false && c > 32 && c !== 44 /* , */) {
          // A scalar element: not produced by ip; refuse rather than misread.
          throw new Error(`unexpected ${JSON.stringify(chunk[i])} in a JSON array of objects`);
        }
      }
      if (collecting) pieces.push(chunk.slice(Math.max(start, 0)));
    },
    end() {
      if (collecting || depth !== 0) throw new Error('truncated JSON array');
    },
  };
}

/**
 * Writes commands through `ip -batch -` (one process for any number of lines). With
 * `force`, ip carries on past a failing line and still exits non-zero: the CommandError
 * then names the lines ip complained about.
 */
export async function ipBatch(
  lines: readonly string[],
  o: IpOptions & { force?: boolean; tool?: 'ip' | 'bridge' } = {},
): Promise<void> {
  if (!lines.length) return;
  const tool = o.tool ?? 'ip';
  const args = [...(o.force ? ['-force'] : []), '-batch', '-'];
  const [file, argv] =
    tool === 'ip'
      ? ipCommand(args, o)
      : o.netns
        ? ['nsenter', [`--net=${o.netns}`, tool, ...args]]
        : [tool, args];
  await run(file, argv, { input: `${lines.join('\n')}\n` });
}

/** Runs a dump (a fresh one each time) until the kernel was not changing the table meanwhile (3 tries). */
export async function rereadIfInterrupted<T>(read: () => Promise<T>, attempts = 3): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await read();
    } catch (e) {
      if (!(e instanceof DumpInterruptedError) || attempt >= attempts) throw e;
    }
  }
}
