import { join } from 'node:path';
import { Daemon } from '../daemon.js';
import type { Netns } from '../netns.js';
import { scratchDir, writeIn } from './scratch.js';

export interface BirdOptions {
  /** The whole bird.conf. */
  config: string;
  /** Where `<name>.conf` and the control socket `<name>.ctl` go; a temp dir of its own when omitted. */
  dir?: string;
  /** File stem and log name (default `bird`); distinct names let several BIRDs share a dir. */
  name?: string;
  /** How long to wait for the control socket (default 15 s; a config with a million routes takes longer). */
  readyTimeoutMs?: number;
}

export interface Bird {
  readonly daemon: Daemon;
  /** The control socket, for `birdc -s`. */
  readonly socket: string;
  /** `birdc -s <socket> <args>` in the namespace; its stdout, also when birdc fails (for polling). */
  birdc(args: string | string[], opts?: { timeoutMs?: number }): Promise<string>;
  stop(sig?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts BIRD 2 in the foreground (`bird -f -c <conf> -s <socket>`) inside `ns` and resolves
 * once its control socket exists (the config was parsed).
 */
export async function startBird(ns: Netns, opts: BirdOptions): Promise<Bird> {
  const name = opts.name ?? 'bird';
  const scratch = scratchDir(opts.dir, name);
  const conf = writeIn(scratch.dir, `${name}.conf`, opts.config);
  const socket = join(scratch.dir, `${name}.ctl`);
  const daemon = Daemon.spawn(ns, 'bird', ['-f', '-c', conf, '-s', socket], name);
  const stop = async (sig?: NodeJS.Signals) => {
    await daemon.stop(sig);
    scratch.remove();
  };
  try {
    await daemon.waitForFile(socket, 'control socket', opts.readyTimeoutMs);
  } catch (e) {
    await stop('SIGKILL');
    throw e;
  }
  return {
    daemon,
    socket,
    birdc: async (args, o = {}) =>
      (
        await ns.exec('birdc', ['-s', socket, ...(typeof args === 'string' ? args.split(' ') : args)], {
          allowFail: true,
          ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
        })
      ).stdout,
    stop,
  };
}
