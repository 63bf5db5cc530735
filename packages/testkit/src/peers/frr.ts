import { join } from 'node:path';
import { Daemon } from '../daemon.js';
import type { Netns } from '../netns.js';
import { scratchDir, writeIn } from './scratch.js';

/** Where Debian's frr package puts bgpd (not on PATH). */
export const FRR_BGPD = '/usr/lib/frr/bgpd';

export interface FrrOptions {
  /** The whole bgpd.conf. */
  config: string;
  /** Addresses bgpd listens on (`-l`, repeated). */
  listen: string[];
  /** Where `bgpd.conf`, `bgpd.pid` and the vty socket go; a temp dir of its own when omitted. */
  dir?: string;
}

export interface Frr {
  readonly daemon: Daemon;
  /** The directory holding the vty socket (for `vtysh --vty_socket`). */
  readonly vtyDir: string;
  /** `vtysh --vty_socket <dir> -c <cmd> [-c <cmd> …]` in the namespace; its stdout, also on failure. */
  vtysh(...cmds: string[]): Promise<string>;
  stop(sig?: NodeJS.Signals): Promise<void>;
}

/**
 * Starts FRR's bgpd alone (`-Z` no zebra, `-n` no kernel routes, `-S` no capability or user
 * switch, running as root) inside `ns`, and resolves once its vty socket exists.
 */
export async function startFrr(ns: Netns, opts: FrrOptions): Promise<Frr> {
  const scratch = scratchDir(opts.dir, 'frr');
  const dir = scratch.dir;
  const conf = writeIn(dir, 'bgpd.conf', opts.config);
  const daemon = Daemon.spawn(
    ns,
    FRR_BGPD,
    [
      '-f',
      conf,
      '-i',
      join(dir, 'bgpd.pid'),
      '--vty_socket',
      dir,
      '-Z',
      '-S',
      '-n',
      ...opts.listen.flatMap((a) => ['-l', a]),
      '-u',
      'root',
      '-g',
      'root',
    ],
    'bgpd',
  );
  const stop = async (sig?: NodeJS.Signals) => {
    await daemon.stop(sig);
    scratch.remove();
  };
  try {
    await daemon.waitForFile(join(dir, 'bgpd.vty'), 'vty socket');
  } catch (e) {
    await stop('SIGKILL');
    throw e;
  }
  return {
    daemon,
    vtyDir: dir,
    vtysh: async (...cmds) =>
      (
        await ns.exec('vtysh', ['--vty_socket', dir, ...cmds.flatMap((c) => ['-c', c])], {
          allowFail: true,
        })
      ).stdout,
    stop,
  };
}
