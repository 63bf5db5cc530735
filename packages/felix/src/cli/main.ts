#!/usr/bin/env node
import { existsSync, mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { Datastore, configFromEnv as etcdConfigFromEnv } from '@tricolor/datastore';
import { Agent } from '../agent.js';
import { configFromEnv, FelixConfigError } from '../config.js';
import { startHttp } from '../health.js';
import { felixLogger } from '../log.js';
import { FelixMetrics } from '../metrics.js';

async function main(): Promise<void> {
  let env: ReturnType<typeof configFromEnv>;
  let etcd: ReturnType<typeof etcdConfigFromEnv>;
  try {
    env = configFromEnv(process.env);
    etcd = etcdConfigFromEnv(process.env);
  } catch (e) {
    process.stderr.write(`tricolor-felix: ${(e as Error).message}\n`);
    process.exit(e instanceof FelixConfigError ? 2 : 3);
  }
  const metrics = new FelixMetrics();
  const log = felixLogger({ level: env.overrides.logLevel ?? 'info', node: env.static.nodeName }, metrics);
  const ds = Datastore.connect(etcd);
  const agent = new Agent({ ds, config: env.static, overrides: env.overrides, log, metrics });
  const st = env.static;
  const servers: Awaited<ReturnType<typeof startHttp>>[] = [];
  const same =
    st.healthEnabled &&
    st.metricsEnabled &&
    st.healthHost === st.metricsHost &&
    st.healthPort === st.metricsPort;
  if (st.healthEnabled) {
    const h = { live: () => true, ready: () => agent.ready, status: () => agent.status() };
    servers.push(
      await startHttp({
        host: st.healthHost,
        port: st.healthPort,
        health: h,
        ...(same ? { registry: metrics.registry } : {}),
      }),
    );
    log.info({ host: st.healthHost, port: st.healthPort }, 'health endpoints listening');
  }
  if (st.metricsEnabled && !same) {
    servers.push(await startHttp({ host: st.metricsHost, port: st.metricsPort, registry: metrics.registry }));
    log.info({ host: st.metricsHost, port: st.metricsPort }, 'metrics endpoint listening');
  }
  let stopping = false;
  const shutdown = async (sig: string) => {
    if (stopping) return;
    stopping = true;
    log.info({ sig }, 'stopping (dataplane left as is)');
    await agent.stop().catch(() => undefined);
    for (const s of servers) await s.server.close().catch(() => undefined);
    ds.close();
    process.exit(0);
  };
  process.on('SIGTERM', () => void shutdown('SIGTERM'));
  process.on('SIGINT', () => void shutdown('SIGINT'));
  await agent.start();
  // The CNI plugin's node identity when its config has no nodename (Calico's
  // /var/lib/calico/nodename): written once this node is registered and converged, atomically.
  // The default path only where its directory exists (the chart mounts it from the host), so a
  // felix started by hand or by a test leaves the machine's /var/lib alone.
  const configured = process.env.TRICOLOR_NODENAME_FILE;
  const nodenameFile = configured ?? '/var/lib/tricolor/nodename';
  if (nodenameFile && (configured !== undefined || existsSync(dirname(nodenameFile)))) {
    try {
      mkdirSync(dirname(nodenameFile), { recursive: true });
      writeFileSync(`${nodenameFile}.tmp`, `${st.nodeName}\n`);
      renameSync(`${nodenameFile}.tmp`, nodenameFile);
      log.info({ file: nodenameFile }, 'node name written for the CNI plugin');
    } catch (e) {
      log.error({ file: nodenameFile, err: (e as Error).message }, 'cannot write the node name file');
    }
  }
}

main().catch((e) => {
  process.stderr.write(`tricolor-felix: fatal: ${(e as Error).stack ?? e}\n`);
  process.exit(1);
});
