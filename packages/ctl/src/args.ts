import { type ParseArgsOptionsConfig, parseArgs } from 'node:util';

/** A mistake in the command line: exit code 1, message names the flag or argument. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Flags every command accepts, wherever they appear on the line. */
export const GLOBAL_OPTIONS = {
  'etcd-endpoints': { type: 'string' },
  prefix: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const satisfies ParseArgsOptionsConfig;

export interface GlobalFlags {
  etcdEndpoints?: string;
  prefix?: string;
  help: boolean;
}

/** `-o/--output`, which every command that reads something takes. */
export const OUTPUT_OPTION = {
  output: { type: 'string', short: 'o' },
} as const satisfies ParseArgsOptionsConfig;

/**
 * Splits a command line into the command words (`ipam show`, `get`) and the rest, with
 * node:util parseArgs. `options` must hold every option of every command (so a flag's value
 * is never mistaken for a command word); `isGroup` says whether a first word takes a
 * second one (`ipam`, `node`). The rest keeps its order for the command's own strict parse.
 */
export function splitCommandLine(
  argv: readonly string[],
  options: ParseArgsOptionsConfig,
  isGroup: (word: string) => boolean,
): { words: string[]; rest: string[]; globals: GlobalFlags } {
  const { tokens, values } = parseArgs({
    args: [...argv],
    options: { ...options, ...GLOBAL_OPTIONS },
    strict: false,
    allowPositionals: true,
    tokens: true,
  });
  const words: string[] = [];
  const taken = new Set<number>();
  for (const t of tokens) {
    if (t.kind === 'option-terminator') break;
    if (t.kind !== 'positional') continue;
    if (words.length === 0 || (words.length === 1 && isGroup(words[0]!))) {
      words.push(t.value);
      taken.add(t.index);
    } else break;
  }
  const globals: GlobalFlags = { help: values.help === true };
  for (const [flag, field] of [
    ['etcd-endpoints', 'etcdEndpoints'],
    ['prefix', 'prefix'],
  ] as const) {
    const v = values[flag];
    if (v === undefined) continue;
    if (typeof v !== 'string' || v === '') throw new UsageError(`--${flag}: needs a value`);
    globals[field] = v;
  }
  return { words, rest: argv.filter((_, i) => !taken.has(i)), globals };
}

/** parseArgs' messages, shortened to name the flag the way the rest of tricolorctl does. */
function usageMessage(e: Error & { code?: string }): string {
  const quoted = /'([^']+)'/.exec(e.message)?.[1];
  switch (e.code) {
    case 'ERR_PARSE_ARGS_UNKNOWN_OPTION':
      return `unknown flag ${quoted ?? e.message}`;
    case 'ERR_PARSE_ARGS_INVALID_OPTION_VALUE': {
      const flag = quoted?.replace(/ <value>$/, '');
      if (/argument missing/.test(e.message)) return `${flag}: needs a value`;
      if (/does not take an argument/.test(e.message)) return `${flag}: takes no value`;
      return e.message;
    }
    default:
      return e.message;
  }
}

type Parsed<O extends ParseArgsOptionsConfig> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

/** node:util parseArgs (strict) over the command's flags and the global ones. */
export function parse<O extends ParseArgsOptionsConfig>(
  command: string,
  args: string[],
  options: O,
): Parsed<O & typeof GLOBAL_OPTIONS> {
  try {
    return parseArgs({
      args,
      options: { ...options, ...GLOBAL_OPTIONS },
      allowPositionals: true,
      strict: true,
    });
  } catch (e) {
    throw new UsageError(`${command}: ${usageMessage(e as Error)}`);
  }
}

/** No positional arguments beyond the first `max`. */
export function atMostPositionals(command: string, positionals: string[], max: number): void {
  if (positionals.length > max) throw new UsageError(`${command}: unexpected argument ${positionals[max]}`);
}

export function intFlag(name: string, v: string | undefined, min = 0): number | undefined {
  if (v === undefined) return undefined;
  if (!/^\d+$/.test(v) || Number(v) < min)
    throw new UsageError(`--${name}: ${JSON.stringify(v)} is not a whole number >= ${min}`);
  return Number(v);
}

export function boolFlag(name: string, v: string | undefined): boolean | undefined {
  if (v === undefined) return undefined;
  if (v === 'true') return true;
  if (v === 'false') return false;
  throw new UsageError(`--${name}: ${JSON.stringify(v)} is not true or false`);
}

const SIZE_UNITS: Record<string, number> = {
  '': 1,
  k: 1e3,
  ki: 1024,
  m: 1e6,
  mi: 1024 ** 2,
  g: 1e9,
  gi: 1024 ** 3,
};

/** A byte count: `8388608`, `8Mi`, `500k`. */
export function sizeFlag(name: string, v: string | undefined): number | undefined {
  if (v === undefined) return undefined;
  const m = /^(\d+)\s*([kmg]i?)?b?$/i.exec(v.trim());
  if (!m || Number(m[1]) === 0)
    throw new UsageError(`--${name}: ${JSON.stringify(v)} is not a size (e.g. 8388608, 8Mi, 500k)`);
  return Number(m[1]) * SIZE_UNITS[(m[2] ?? '').toLowerCase()]!;
}

export const OUTPUT_FORMATS = ['table', 'wide', 'json', 'yaml'] as const;
export type OutputFormat = (typeof OUTPUT_FORMATS)[number];

/** `-o table|wide|json|yaml`: every read takes all four. */
export function outputFlag(v: string | undefined): OutputFormat {
  if (v === undefined) return 'table';
  if (!(OUTPUT_FORMATS as readonly string[]).includes(v))
    throw new UsageError(`-o: ${JSON.stringify(v)} is not one of ${OUTPUT_FORMATS.join(', ')}`);
  return v as OutputFormat;
}
