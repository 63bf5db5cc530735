import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A mistake in the command line: exit code 1, message names the flag or argument. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Flags every command accepts, wherever they appear. */
export interface GlobalFlags {
  etcdEndpoints?: string;
  prefix?: string;
  help: boolean;
}

const GLOBAL_WITH_VALUE: Record<string, keyof GlobalFlags> = {
  '--etcd-endpoints': 'etcdEndpoints',
  '--prefix': 'prefix',
};

/** Takes the global flags out of argv (both `--flag value` and `--flag=value`). */
export function splitGlobals(argv: readonly string[]): { globals: GlobalFlags; rest: string[] } {
  const globals: GlobalFlags = { help: false };
  const rest: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--') {
      rest.push(...argv.slice(i));
      break;
    }
    const eq = a.indexOf('=');
    const name = eq > 0 ? a.slice(0, eq) : a;
    const field = GLOBAL_WITH_VALUE[name];
    if (field) {
      const value = eq > 0 ? a.slice(eq + 1) : argv[++i];
      if (value === undefined || value === '') throw new UsageError(`${name}: needs a value`);
      (globals as unknown as Record<string, string>)[field] = value;
    } else if (a === '-h' || a === '--help') {
      globals.help = true;
    } else {
      rest.push(a);
    }
  }
  return { globals, rest };
}

type Options = NonNullable<ParseArgsConfig['options']>;

export type Parsed<O extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: O; allowPositionals: true; strict: true }>
>;

/** node:util parseArgs with errors turned into UsageError naming the command. */
export function parse<O extends Options>(command: string, args: string[], options: O): Parsed<O> {
  try {
    return parseArgs({ args, options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UsageError(`${command}: ${(e as Error).message.replace(/^TypeError \[\w+\]: /, '')}`);
  }
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

export type OutputFormat = 'table' | 'wide' | 'json' | 'yaml';

export function outputFlag<F extends OutputFormat>(v: string | undefined, allowed: readonly F[]): F {
  if (v === undefined) return 'table' as F;
  if (!allowed.includes(v as F)) {
    throw new UsageError(
      `-o: ${JSON.stringify(v)} is not one of ${allowed.filter((f) => f !== 'table').join(', ')}`,
    );
  }
  return v as F;
}
