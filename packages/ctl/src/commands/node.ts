import { atMostPositionals, OUTPUT_OPTION, outputFlag, parse } from '../args.js';
import type { Ctx } from '../context.js';
import { type BirdProtocol, type BirdStatus, renderNodeStatus } from '../node-status.js';
import { CommandError, EXIT, render } from '../output.js';

/** Where bird listens when nothing else is said (its own default, DESIGN.md). */
export const DEFAULT_BIRD_CONTROL = '/var/run/tricolor/bird.ctl';

const OPTIONS = { ...OUTPUT_OPTION, control: { type: 'string', short: 's' } } as const;

/** Asks this node's bird over its control socket (bird's own client: one protocol, one copy). */
async function ask(path: string, cmd: string): Promise<unknown> {
  const { query } = await import('@tricolor/bird');
  try {
    return await query(path, cmd, [], 5_000);
  } catch (e) {
    const msg = (e as Error).message;
    const hint = /ENOENT|ECONNREFUSED/.test(msg)
      ? ' — is bird running on this node? --control PATH or BIRD_CONTROL names its socket'
      : /EACCES|EPERM/.test(msg)
        ? ' — the socket is mode 0600: run as the user bird runs as (root)'
        : '';
    throw new CommandError(`node status: ${msg}${hint}`, EXIT.USAGE);
  }
}

/**
 * `node status`, as `calicoctl node status`: this node's BGP sessions, read from the local
 * bird's control socket (the same `show status` / `show protocols` tricolor-birdc asks).
 * Needs no etcd.
 */
async function nodeStatus(ctx: Ctx): Promise<number> {
  const { values, positionals } = parse('node status', ctx.args, OPTIONS);
  atMostPositionals('node status', positionals, 0);
  const format = outputFlag(values.output);
  const source = values.control ?? ctx.env.BIRD_CONTROL ?? DEFAULT_BIRD_CONTROL;
  const status = (await ask(source, 'show status')) as BirdStatus;
  const protocols = (await ask(source, 'show protocols')) as BirdProtocol[];
  ctx.out(
    render(format, { source, status, peers: protocols }, (wide) =>
      renderNodeStatus(source, status, protocols, wide),
    ),
  );
  return EXIT.OK;
}

export const nodeStatusCommand = {
  usage: [
    `node status [--control PATH (default $BIRD_CONTROL or ${DEFAULT_BIRD_CONTROL})] [-o table|wide|json|yaml]`,
  ],
  options: OPTIONS,
  run: nodeStatus,
};
