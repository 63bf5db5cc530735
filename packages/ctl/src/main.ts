import { splitGlobals, UsageError } from './args.js';
import { COMMANDS } from './commands/index.js';
import { makeCtx } from './context.js';
import { EXIT, exitCodeOf } from './output.js';

export function helpText(): string {
  const lines = Object.values(COMMANDS).flatMap((c) => c.usage);
  return [
    'tricolorctl: manage Tricolor resources and IPAM in etcd',
    '',
    'Usage: tricolorctl <command> [flags]',
    ...lines.map((l) => `  tricolorctl ${l}`),
    '',
    'Global flags:',
    '  --etcd-endpoints URL[,URL]   etcd to use (default: $ETCD_ENDPOINTS or http://127.0.0.1:2379)',
    '  --prefix /tricolor/          key prefix (default: $TRICOLOR_DATASTORE_PREFIX or /tricolor/)',
    'TLS: $ETCD_CA_CERT_FILE, $ETCD_CERT_FILE, $ETCD_KEY_FILE',
    'Exit codes: 0 ok, 1 usage/validation, 2 etcd unreachable, 3 not found, 4 conflict, 5 IPAM exhausted, 6 check found problems',
    '',
  ].join('\n');
}

export interface Io {
  env: NodeJS.ProcessEnv;
  out(text: string): void;
  err(text: string): void;
  readStdin(): Promise<string>;
}

/** Runs one command line and returns the exit code; errors go to `io.err`, never thrown. */
export async function run(argv: string[], io: Io): Promise<number> {
  let ctx: ReturnType<typeof makeCtx> | undefined;
  try {
    const { globals, rest } = splitGlobals(argv);
    const [name, ...args] = rest;
    if (!name || (globals.help && !COMMANDS[name])) {
      (name || globals.help ? io.out : io.err)(helpText());
      return name || globals.help ? EXIT.OK : EXIT.USAGE;
    }
    const cmd = COMMANDS[name];
    if (!cmd) throw new UsageError(`unknown command ${JSON.stringify(name)} (try --help)`);
    if (globals.help) {
      io.out(`${cmd.usage.map((u) => `tricolorctl ${u}`).join('\n')}\n`);
      return EXIT.OK;
    }
    ctx = makeCtx(args, globals, io);
    return await cmd.run(ctx);
  } catch (e) {
    io.err(`error: ${(e as Error).message}\n`);
    return exitCodeOf(e);
  } finally {
    ctx?.close();
  }
}
