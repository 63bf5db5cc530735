/**
 * Wires the enabled controllers to shared informers, runs the periodic full resync and the
 * IPAM GC, and says whether it is ready (every informer synced).
 */
import {
  CoreV1Api,
  type KubeConfig,
  type KubernetesObject,
  NetworkingV1Api,
  type V1Namespace,
  type V1NetworkPolicy,
  type V1Node,
  type V1Pod,
  type V1ServiceAccount,
} from '@kubernetes/client-node';
import type { Datastore } from '@tricolor/datastore';
import { Ipam } from '@tricolor/ipam';
import type { Logger } from 'pino';
import type { KubeControllersConfig } from './config.js';
import type { Controller, ControllerDeps } from './controllers/base.js';
import { EndpointController } from './controllers/endpoints.js';
import { IpamGarbageCollector } from './controllers/ipam-gc.js';
import { NodeController } from './controllers/nodes.js';
import { PolicyController } from './controllers/policies.js';
import { namespaceProfiles, serviceAccountProfiles } from './controllers/profiles.js';
import { type InformerOptions, type ListPage, WatchedInformer } from './informer.js';
import type { Metrics } from './metrics.js';

export interface ManagerOptions {
  kc: KubeConfig;
  ds: Datastore;
  config: Pick<KubeControllersConfig, 'enabled' | 'resyncPeriodMs' | 'gcIntervalMs' | 'gcGraceMs'>;
  metrics: Metrics;
  log: Logger;
  informer?: InformerOptions;
}

export class KubeControllers {
  readonly informers: WatchedInformer<KubernetesObject>[] = [];
  readonly controllers: Controller[] = [];
  gc: IpamGarbageCollector | undefined;
  nodes: NodeController | undefined;
  private resyncTimer: NodeJS.Timeout | undefined;

  constructor(private readonly o: ManagerOptions) {
    const { kc, ds, metrics, log, config } = o;
    const core = kc.makeApiClient(CoreV1Api);
    const deps: ControllerDeps = { ds, metrics, log };
    const ipam = new Ipam(ds);
    const on = (c: string) => config.enabled.includes(c as never);
    const informer = <T extends KubernetesObject>(resource: string, path: string, page: ListPage<T>) => {
      const inf = new WatchedInformer<T>(kc, resource, path, page, metrics, log, o.informer);
      this.informers.push(inf as unknown as WatchedInformer<KubernetesObject>);
      return inf;
    };
    let pods: WatchedInformer<V1Pod> | undefined;
    const podInformer = () => {
      pods ??= informer<V1Pod>('pods', '/api/v1/pods', (p) => core.listPodForAllNamespaces(p));
      return pods;
    };
    if (on('namespace')) {
      const inf = informer<V1Namespace>('namespaces', '/api/v1/namespaces', (p) => core.listNamespace(p));
      this.controllers.push(namespaceProfiles(deps, inf));
    }
    if (on('serviceaccount')) {
      const inf = informer<V1ServiceAccount>('serviceaccounts', '/api/v1/serviceaccounts', (p) =>
        core.listServiceAccountForAllNamespaces(p),
      );
      this.controllers.push(serviceAccountProfiles(deps, inf));
    }
    if (on('workloadendpoint'))
      this.controllers.push(new EndpointController(deps, podInformer(), config.gcGraceMs));
    if (on('node')) {
      const inf = informer<V1Node>('nodes', '/api/v1/nodes', (p) => core.listNode(p));
      this.nodes = new NodeController(deps, inf, ipam);
      this.controllers.push(this.nodes);
    }
    if (on('policy')) {
      const net = kc.makeApiClient(NetworkingV1Api);
      const inf = informer<V1NetworkPolicy>(
        'networkpolicies',
        '/apis/networking.k8s.io/v1/networkpolicies',
        (p) => net.listNetworkPolicyForAllNamespaces(p),
      );
      this.controllers.push(new PolicyController(deps, inf));
    }
    if (on('ipamgc'))
      this.gc = new IpamGarbageCollector(deps, podInformer(), ipam, {
        graceMs: config.gcGraceMs,
        intervalMs: config.gcIntervalMs,
      });
  }

  /** Starts the informers (resolving once each has listed), the controllers, the GC and the resync timer. */
  async start(): Promise<void> {
    await Promise.all(this.informers.map((i) => i.start()));
    for (const c of this.controllers) await c.start();
    this.gc?.start();
    const tick = () => {
      this.resyncTimer = setTimeout(async () => {
        await this.resync().catch((e) => this.o.log.warn({ err: String(e) }, 'full resync failed'));
        if (this.resyncTimer) tick();
      }, this.o.config.resyncPeriodMs);
    };
    tick();
  }

  /** Reconciles every object and removes orphans. */
  async resync(): Promise<void> {
    this.o.metrics.fullResyncs.inc();
    for (const c of this.controllers) await c.resync();
  }

  /** Resolves when no reconciliation is queued or running. */
  async idle(): Promise<void> {
    await Promise.all(this.controllers.map((c) => c.idle()));
  }

  notReady(): string | undefined {
    const waiting = this.informers.filter((i) => !i.synced).map((i) => i.resource);
    return waiting.length ? `informers not synced: ${waiting.join(', ')}` : undefined;
  }

  async stop(): Promise<void> {
    clearTimeout(this.resyncTimer);
    this.resyncTimer = undefined;
    await this.gc?.stop();
    for (const c of this.controllers) await c.stop();
    await Promise.all(this.informers.map((i) => i.stop()));
  }
}
