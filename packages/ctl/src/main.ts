import { splitCommandLine, UsageError } from './args.js';
import { ALL_OPTIONS, COMMANDS, GROUPS } from './commands/index.js';
import { type Ctx, type Io, makeCtx } from './context.js';
import { describeError, EXIT, exitCodeOf } from './output.js';

export type { Io };

export function helpText(): string {
  const lines = Object.values(COMMANDS).flatMap((c) => c.usage);
  return [
    'tricolorctl: manage Tricolor resources, IPAM and nodes (as calicoctl)',
    '',
    'Usage: tricolorctl <command> [flags]',
    ...lines.map((l) => `  tricolorctl ${l}`),
    '',
    'Kinds (short names): ippool (ipp, pool), node (no), bgppeer (bp), bgpconfig, felixconfig,',
    '  workloadendpoint (wep), networkpolicy (np, policy), globalnetworkpolicy (gnp), profile (pro)',
    'Global flags:',
    '  --etcd-endpoints URL[,URL]   etcd to use (default: $ETCD_ENDPOINTS or http://127.0.0.1:2379)',
    '  --prefix /tricolor/          key prefix (default: $TRICOLOR_DATASTORE_PREFIX or /tricolor/)',
    'TLS: $ETCD_CA_CERT_FILE, $ETCD_CERT_FILE, $ETCD_KEY_FILE',
    'Exit codes: 0 ok, 1 usage/validation, 2 etcd unreachable, 3 not found, 4 conflict, 5 IPAM exhausted, 6 check found problems',
    '',
  ].join('\n');
}

/** Runs one command line and returns the exit code; errors go to `io.err`, never thrown. */
export async function run(argv: string[], io: Io): Promise<number> {
  let ctx: Ctx | undefined;
  try {
    const { words, rest, globals } = splitCommandLine(argv, ALL_OPTIONS, (w) => GROUPS.has(w));
    if (words.length === 0) {
      (globals.help ? io.out : io.err)(helpText());
      return globals.help ? EXIT.OK : EXIT.USAGE;
    }
    const name = words.join(' ');
    const cmd = COMMANDS[name];
    if (!cmd) {
      if (GROUPS.has(words[0]!)) {
        const subs = Object.keys(COMMANDS).filter((k) => k.startsWith(`${words[0]} `));
        if (globals.help && words.length === 1) {
          io.out(
            `${subs
              .flatMap((s) => COMMANDS[s]!.usage)
              .map((u) => `tricolorctl ${u}`)
              .join('\n')}\n`,
          );
          return EXIT.OK;
        }
        throw new UsageError(
          `${words[0]}: ${words[1] ? `unknown subcommand ${JSON.stringify(words[1])}` : 'missing subcommand'}; one of:\n  ${subs.flatMap((s) => COMMANDS[s]!.usage).join('\n  ')}`,
        );
      }
      throw new UsageError(`unknown command ${JSON.stringify(name)} (try --help)`);
    }
    if (globals.help) {
      io.out(`${cmd.usage.map((u) => `tricolorctl ${u}`).join('\n')}\n`);
      return EXIT.OK;
    }
    ctx = makeCtx(name, rest, globals, io);
    return await cmd.run(ctx);
  } catch (e) {
    io.err(`error: ${describeError(e)}\n`);
    return exitCodeOf(e);
  } finally {
    ctx?.close();
  }
}
