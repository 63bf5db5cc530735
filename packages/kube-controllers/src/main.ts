#!/usr/bin/env node
/**
 * tricolor-kube-controllers: keeps Tricolor's datastore in step with the Kubernetes API
 * (namespaces, service accounts, pods, nodes) and garbage-collects IPAM. One active instance
 * (a Lease when TRICOLOR_KUBECONTROLLERS_LEASE is set, as the chart does).
 */
import { parseArgs } from 'node:util';
import { CoordinationV1Api, KubeConfig } from '@kubernetes/client-node';
import { Datastore, configFromEnv as etcdConfigFromEnv } from '@tricolor/datastore';
import { pino } from 'pino';
import { configFromEnv } from './config.js';
import { LeaseElector } from './leader.js';
import { KubeControllers } from './manager.js';
import { createMetrics } from './metrics.js';
import { startHttp } from './server.js';

async function main(): Promise<void> {
  const usage =
    'usage: tricolor-kube-controllers (configured by KUBECONFIG or the in-cluster service account,\n' +
    '       ETCD_* as every Tricolor component, ENABLED_CONTROLLERS and TRICOLOR_KUBECONTROLLERS_*; see README)\n';
  // The repository's one argument parser; no flags but -h, so a mistyped one is named, not ignored.
  let help = false;
  try {
    help =
      parseArgs({ options: { help: { type: 'boolean', short: 'h' } }, strict: true }).values.help === true;
  } catch (e) {
    process.stderr.write(`tricolor-kube-controllers: ${(e as Error).message}\n${usage}`);
    process.exit(2);
  }
  if (help) {
    process.stdout.write(usage);
    return;
  }
  const cfg = configFromEnv(process.env);
  const log = pino({ level: cfg.logLevel, base: { component: 'kube-controllers' } });
  const kc = new KubeConfig();
  if (cfg.kubeconfig) kc.loadFromFile(cfg.kubeconfig);
  else kc.loadFromCluster();
  const ds = Datastore.connect(etcdConfigFromEnv(process.env));
  const metrics = createMetrics();
  const manager = new KubeControllers({ kc, ds, config: cfg, metrics, log });
  let elector: LeaseElector | undefined;
  let started = false;
  const sameListener = cfg.healthHost === cfg.metricsHost && cfg.healthPort === cfg.metricsPort;
  const servers = await startHttp(
    sameListener
      ? [{ host: cfg.healthHost, port: cfg.healthPort, health: true, metrics: true }]
      : [
          { host: cfg.healthHost, port: cfg.healthPort, health: true, metrics: false },
          { host: cfg.metricsHost, port: cfg.metricsPort, health: false, metrics: true },
        ],
    {
      live: () => true,
      // A standby (waiting for the Lease) is ready: it is doing its job, which is to wait.
      notReady: () => (elector && !elector.leading ? undefined : started ? manager.notReady() : 'starting'),
    },
    metrics.registry,
  );
  let stopping = false;
  const shutdown = async (code: number) => {
    if (stopping) return;
    stopping = true;
    log.info('stopping');
    await manager.stop().catch(() => undefined);
    await elector?.stop();
    for (const s of servers) await s.close();
    ds.close();
    process.exit(code);
  };
  process.on('SIGTERM', () => void shutdown(0));
  process.on('SIGINT', () => void shutdown(0));
  if (cfg.lease) {
    elector = new LeaseElector(
      kc.makeApiClient(CoordinationV1Api),
      { ...cfg.lease, identity: cfg.identity },
      log,
    );
    await elector.run(() => {
      metrics.isLeader.set(0);
      // Whatever was in flight is abandoned: a new process starts clean as a candidate.
      void shutdown(1);
    });
  }
  metrics.isLeader.set(1);
  log.info({ controllers: cfg.enabled }, 'starting controllers');
  await manager.start();
  started = true;
  log.info('controllers running');
}

main().catch((e) => {
  process.stderr.write(`tricolor-kube-controllers: ${(e as Error).message}\n`);
  process.exit(1);
});
