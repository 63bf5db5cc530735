import { Daemon } from '../daemon.js';
import type { RunResult } from '../exec.js';
import type { Netns } from '../netns.js';
import { freePort } from '../ports.js';
import { waitFor } from '../wait.js';
import { scratchDir, writeIn } from './scratch.js';

export interface GobgpOptions {
  /** The whole gobgpd.toml. */
  toml: string;
  /** Where `gobgpd.toml` goes; a temp dir of its own when omitted. */
  dir?: string;
  /** The gRPC API port on the namespace's 127.0.0.1; a free port when omitted. */
  apiPort?: number;
  /** gobgpd `--log-level` (default `warn`); logs are plain text, kept in `daemon.logs()`. */
  logLevel?: string;
}

export interface Gobgp {
  readonly daemon: Daemon;
  readonly apiPort: number;
  /** `gobgp -u 127.0.0.1 -p <apiPort> <args>` in the namespace; rejects on failure unless allowFail. */
  gobgp(args: string[], opts?: { allowFail?: boolean; timeoutMs?: number }): Promise<RunResult>;
  stop(sig?: NodeJS.Signals): Promise<void>;
}

/** Starts gobgpd inside `ns` and resolves once its API answers `gobgp global`. */
export async function startGobgp(ns: Netns, opts: GobgpOptions): Promise<Gobgp> {
  const scratch = scratchDir(opts.dir, 'gobgp');
  const conf = writeIn(scratch.dir, 'gobgpd.toml', opts.toml);
  const apiPort = opts.apiPort ?? (await freePort());
  const daemon = Daemon.spawn(
    ns,
    'gobgpd',
    [
      '-f',
      conf,
      '-t',
      'toml',
      '--api-hosts',
      `127.0.0.1:${apiPort}`,
      '--log-plain',
      '--log-level',
      opts.logLevel ?? 'warn',
    ],
    'gobgpd',
  );
  const gobgp: Gobgp['gobgp'] = (args, o = {}) =>
    ns.exec('gobgp', ['-u', '127.0.0.1', '-p', String(apiPort), ...args], o);
  const stop = async (sig?: NodeJS.Signals) => {
    await daemon.stop(sig);
    scratch.remove();
  };
  try {
    await waitFor(
      'gobgpd API',
      async () => {
        if (!daemon.alive) throw new Error(`gobgpd exited: ${daemon.logs()}`);
        const r = await gobgp(['global'], { allowFail: true });
        if (r.code !== 0) throw new Error(r.stderr.trim());
        return true;
      },
      30_000,
      100,
    );
  } catch (e) {
    await stop('SIGKILL');
    throw e;
  }
  return { daemon, apiPort, gobgp, stop };
}
