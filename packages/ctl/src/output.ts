import {
  AlreadyExistsError,
  ConfigError,
  ConflictError,
  NotFoundError,
  SelectorError,
  ValidationError,
} from '@tricolor/datastore';
import {
  HandleError,
  IpamConfigError,
  IpamConflictError,
  IpamExhaustedError,
  IpamRequestError,
  PoolError,
} from '@tricolor/ipam';
import { stringify } from 'yaml';
import { type OutputFormat, UsageError } from './args.js';

/** Exit codes: documented in the README, stable for scripts. */
export const EXIT = {
  OK: 0,
  /** Bad flag, bad file, invalid resource (the message names the field). */
  USAGE: 1,
  /** etcd could not be reached. */
  ETCD: 2,
  NOT_FOUND: 3,
  /** A concurrent writer won, or the name is taken. */
  CONFLICT: 4,
  /** IPAM could not satisfy the request (pools exhausted). */
  IPAM: 5,
  /** `ipam check` found problems (or `--repair` left some). */
  CHECK_FAILED: 6,
} as const;

/** etcd could not be reached (exit 2). */
export class EtcdUnreachableError extends Error {
  override readonly name = 'EtcdUnreachableError';
}

/** A failure with an explicit exit code. */
export class CommandError extends Error {
  override readonly name = 'CommandError';
  constructor(
    message: string,
    readonly code: number,
  ) {
    super(message);
  }
}

export function exitCodeOf(e: unknown): number {
  if (e instanceof CommandError) return e.code;
  if (
    e instanceof UsageError ||
    e instanceof ValidationError ||
    e instanceof ConfigError ||
    e instanceof SelectorError ||
    e instanceof IpamRequestError ||
    e instanceof IpamConfigError ||
    e instanceof PoolError ||
    e instanceof HandleError
  )
    return EXIT.USAGE;
  if (e instanceof EtcdUnreachableError) return EXIT.ETCD;
  if (e instanceof NotFoundError) return EXIT.NOT_FOUND;
  if (e instanceof ConflictError || e instanceof AlreadyExistsError || e instanceof IpamConflictError)
    return EXIT.CONFLICT;
  if (e instanceof IpamExhaustedError) return EXIT.IPAM;
  if (isEtcdConnectionError(e)) return EXIT.ETCD;
  return EXIT.USAGE;
}

/** etcd3's gRPC errors for a server that is down or unreachable. */
export function isEtcdConnectionError(e: unknown): boolean {
  const name = (e as Error | undefined)?.constructor?.name ?? '';
  const msg = (e as Error | undefined)?.message ?? '';
  return (
    /GRPC(Unavailable|ConnectFailed|DeadlineExceeded)|Unavailable/.test(name) ||
    /UNAVAILABLE|No connection established|ECONNREFUSED|failed to connect/i.test(msg)
  );
}

/** A plain table: upper-case headers, columns padded to the widest cell. */
export function table(headers: string[], rows: (string | number | boolean | null | undefined)[][]): string {
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  return `${cells
    .map((r) =>
      r
        .map((c, i) => (i === r.length - 1 ? c : (c ?? '').padEnd(widths[i]!)))
        .join('   ')
        .trimEnd(),
    )
    .join('\n')}\n`;
}

export function toJson(v: unknown): string {
  return `${JSON.stringify(v, null, 2)}\n`;
}

export function toYaml(v: unknown): string {
  return stringify(v);
}

/** Writes a value in the chosen machine format (json/yaml); tables are the caller's. */
export function machine(v: unknown, format: 'json' | 'yaml'): string {
  return format === 'json' ? toJson(v) : toYaml(v);
}

/** A read's output: `data` as JSON/YAML, or the caller's text for table/wide. */
export function render(format: OutputFormat, data: unknown, text: (wide: boolean) => string): string {
  return format === 'json' || format === 'yaml' ? machine(data, format) : text(format === 'wide');
}

/**
 * The text of an error for the terminal. A datastore ValidationError (which may come from a
 * write, after ctl's own checks) lists each field on its own line.
 */
export function describeError(e: unknown): string {
  if (e instanceof ValidationError && e.issues.length > 1)
    return [`invalid ${e.kind}:`, ...e.issues.map((i) => `  ${i.field}: ${i.message}`)].join('\n');
  return (e as Error)?.message ?? String(e);
}

/** `3m12s`, `2d4h`: how long ago, for SINCE columns. */
export function age(fromMs: number, nowMs = Date.now()): string {
  let s = Math.max(0, Math.round((nowMs - fromMs) / 1000));
  const d = Math.floor(s / 86400);
  s -= d * 86400;
  const h = Math.floor(s / 3600);
  s -= h * 3600;
  const m = Math.floor(s / 60);
  s -= m * 60;
  if (d > 0) return `${d}d${h}h`;
  if (h > 0) return `${h}h${m}m`;
  if (m > 0) return `${m}m${s}s`;
  return `${s}s`;
}
