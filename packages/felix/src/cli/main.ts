#!/usr/bin/env node
import { FelixConfigError } from '../config.js';
import { FelixDaemon } from '../daemon.js';

async function main(): Promise<void> {
  let felix: FelixDaemon;
  try {
    felix = FelixDaemon.fromEnv(process.env);
  } catch (e) {
    process.stderr.write(`tricolor-felix: ${(e as Error).message}\n`);
    process.exit(e instanceof FelixConfigError ? 2 : 3);
  }
  let stopping = false;
  const shutdown = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    felix.log.info({ sig }, 'stopping (dataplane left as is)');
    await felix.stop();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await felix.start();
}

main().catch((e) => {
  process.stderr.write(`tricolor-felix: fatal: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
