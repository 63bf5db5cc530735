#!/usr/bin/env node
/**
 * tricolor-bird: the BGP speaker of a node.
 * Standalone: tricolor-bird --router-id A --as N --listen ADDR[:PORT] --peer IP[:AS][,passive] ...
 *   --export CIDR ... [--kernel|--no-kernel] [--control PATH]   (or --config FILE.json|.yaml)
 * etcd mode (no --router-id/--peer/--config): NODENAME, IP, ETCD_ENDPOINTS… as in DESIGN.md.
 */
import pino from 'pino';
import { parseArgs, USAGE, wantsHelp } from '../config/cli.js';
import { BirdConfigError } from '../config/types.js';
import { Speaker } from '../speaker.js';

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  if (wantsHelp(argv)) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs(argv, process.env);
  } catch (e) {
    if (e instanceof BirdConfigError) {
      process.stderr.write(`tricolor-bird: bad configuration: ${e.message}\n`);
      process.exit(2);
    }
    throw e;
  }
  const log = pino({ level: parsed.config.logLevel, base: { name: 'tricolor-bird' } });
  let stop: () => Promise<void>;
  try {
    if (parsed.standalone) {
      const opts: { logger: typeof log; restarting?: boolean } = { logger: log };
      if (parsed.restarting !== undefined) opts.restarting = parsed.restarting;
      const sp = new Speaker(parsed.config, opts);
      await sp.start();
      stop = () => sp.stop();
    } else {
      // The datastore client (etcd, gRPC) is loaded only by nodes that use it.
      const { runEtcdMode } = await import('../etcd-mode.js');
      stop = await runEtcdMode(parsed.config, process.env, log);
    }
  } catch (e) {
    log.fatal({ err: (e as Error).message }, 'cannot start');
    process.stderr.write(`tricolor-bird: ${(e as Error).message}\n`);
    process.exit(1);
  }
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal: sig }, 'stopping');
      void stop().finally(() => process.exit(0));
    });
}

void main();
