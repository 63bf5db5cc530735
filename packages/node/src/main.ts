#!/usr/bin/env node
/**
 * tricolor-node: felix and bird (etcd mode) of one node in one process. Configured by the
 * variables the two daemons read (NODENAME, IP, ETCD_*, FELIX_*, BIRD_*); no flags.
 * Exit codes: 2 bad configuration (every problem listed, each naming its variable), 1 a
 * daemon could not start or failed, 0 stopped by SIGTERM/SIGINT.
 */
import { BirdConfigError } from '@tricolor/bird';
import { FelixConfigError } from '@tricolor/felix';
import { pino } from 'pino';
import { NodeConfigError } from './config.js';
import { DaemonStartError, NodeDaemon } from './node-daemon.js';

const USAGE = `usage: tricolor-node
  Runs felix and bird (etcd mode) of this node in one process, configured by the environment
  variables each reads: NODENAME, IP, ETCD_*, TRICOLOR_*, FELIX_*, BIRD_* (see their READMEs).`;

function fail(code: number, message: string): never {
  process.stderr.write(`tricolor-node: ${message}\n`);
  process.exit(code);
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  if (args.includes('-h') || args.includes('--help')) {
    process.stdout.write(`${USAGE}\n`);
    return;
  }
  if (args.length) fail(2, `unexpected argument(s) ${args.join(' ')}\n${USAGE}`);
  let node: NodeDaemon;
  try {
    node = NodeDaemon.fromEnv(process.env);
  } catch (e) {
    if (e instanceof NodeConfigError) fail(2, e.message);
    throw e;
  }
  const log = pino({ base: { name: 'tricolor-node', node: node.config.felix.static.nodeName } });
  let stopping = false;
  for (const sig of ['SIGTERM', 'SIGINT'] as const)
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      log.info({ signal: sig }, 'stopping bird and felix (dataplane left as is)');
      void node.stop().finally(() => process.exit(0));
    });
  try {
    await node.start();
  } catch (e) {
    if (stopping) return;
    const cause = e instanceof DaemonStartError ? e.cause : e;
    const bad = cause instanceof FelixConfigError || cause instanceof BirdConfigError;
    log.fatal({ err: (e as Error).message }, 'cannot start');
    fail(bad ? 2 : 1, (e as Error).message);
  }
  log.info('felix and bird running');
}

main().catch((e) => fail(1, `fatal: ${(e as Error).stack ?? e}`));
