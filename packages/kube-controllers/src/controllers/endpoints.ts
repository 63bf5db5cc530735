/**
 * Pods → their WorkloadEndpoints' labels, profiles, service account and named ports. The CNI
 * plugin creates endpoints (with the labels it read at ADD); this controller only keeps those
 * fields current, with a compare-and-swap update of the endpoint as read — a concurrent write
 * by the plugin (a retried ADD, a DEL) makes the update fail and the key is re-read, never
 * overwritten. It also watches the endpoints in etcd, so an endpoint written after the pod
 * changed (the plugin read the pod just before) is corrected at once.
 */
import type { V1Pod } from '@kubernetes/client-node';
import { endpointFromPod } from '@tricolor/cni';
import { ConflictError, NotFoundError, type Reflector, type WorkloadEndpoint } from '@tricolor/datastore';
import { endpointUpdate } from '../convert.js';
import type { WatchedInformer } from '../informer.js';
import { Controller, type ControllerDeps } from './base.js';

const podKeyOf = (w: WorkloadEndpoint) => `${w.metadata.namespace ?? ''}/${w.spec.pod ?? ''}`;

export class EndpointController extends Controller {
  readonly name = 'workloadendpoint';
  private reflector: Reflector<WorkloadEndpoint> | undefined;
  /** pod key → etcd keys of its endpoints */
  private readonly byPod = new Map<string, Set<string>>();

  constructor(
    deps: ControllerDeps,
    private readonly pods: WatchedInformer<V1Pod>,
    /** Endpoints whose pod is gone are removed by the resync only when older than this. */
    private readonly orphanGraceMs: number,
  ) {
    super(deps);
  }

  private index(key: string, w: WorkloadEndpoint | undefined, previous: WorkloadEndpoint | undefined): void {
    if (previous) this.byPod.get(podKeyOf(previous))?.delete(key);
    if (w && w.spec.orchestrator === 'k8s' && w.spec.pod) {
      const pk = podKeyOf(w);
      const set = this.byPod.get(pk) ?? new Set<string>();
      set.add(key);
      this.byPod.set(pk, set);
    }
  }

  async start(): Promise<void> {
    for (const verb of ['add', 'update'] as const)
      this.pods.on(verb, (p) => this.enqueue(`${p.metadata?.namespace}/${p.metadata?.name}`));
    this.reflector = this.deps.ds.reflector('WorkloadEndpoint');
    this.reflector.on('event', (e) => {
      this.index(e.key, e.type === 'put' ? e.value : undefined, e.previous);
      if (e.type === 'put' && e.value.spec.orchestrator === 'k8s') this.enqueue(podKeyOf(e.value));
    });
    this.reflector.on('error', (err) =>
      this.deps.log.warn({ err: err.message }, 'endpoint watch failed; re-listing'),
    );
    await this.reflector.start();
    await this.resync();
  }

  async resync(): Promise<void> {
    for (const p of this.pods.list()) this.enqueue(`${p.metadata?.namespace}/${p.metadata?.name}`);
    // Endpoints of pods that no longer exist (a DEL that never came): removed once old enough
    // that the pod informer cannot simply be behind the plugin.
    const now = Date.now();
    for (const [key, v] of this.reflector?.cache ?? []) {
      const w = v.value;
      if (w.spec.orchestrator !== 'k8s' || !w.spec.pod) continue;
      if (this.pods.get(w.spec.pod, w.metadata.namespace)) continue;
      const created = Date.parse(w.metadata.creationTimestamp ?? '');
      if (Number.isFinite(created) && now - created < this.orphanGraceMs) continue;
      try {
        await this.deps.ds.delete('WorkloadEndpoint', w.metadata.name, w.metadata.namespace, {
          resourceVersion: v.modRevision,
        });
        this.wrote('delete');
        this.deps.metrics.orphansRemoved.inc({ kind: 'WorkloadEndpoint' });
        this.deps.log.info({ endpoint: key }, 'removed the endpoint of a pod that no longer exists');
      } catch (e) {
        if (!(e instanceof ConflictError)) throw e; // rewritten meanwhile: judged again next time
      }
    }
  }

  protected async reconcile(podKey: string): Promise<void> {
    const [namespace, name] = podKey.split('/') as [string, string];
    const pod = this.pods.get(name, namespace);
    const keys = this.byPod.get(podKey);
    if (!pod || !keys?.size) return;
    const want = endpointFromPod(namespace, pod);
    for (const key of keys) {
      const cached = this.reflector?.cache.get(key)?.value;
      if (!cached) continue;
      for (let attempt = 0; ; attempt++) {
        // Read the current endpoint: its resourceVersion guards the write.
        const cur = await this.deps.ds.get('WorkloadEndpoint', cached.metadata.name, namespace);
        if (!cur) break;
        const next = endpointUpdate(cur, want);
        if (!next) break;
        try {
          await this.deps.ds.update(next);
          this.wrote('update');
          break;
        } catch (e) {
          if (e instanceof NotFoundError) break; // deleted by a DEL meanwhile
          if (!(e instanceof ConflictError) || attempt >= 5) throw e;
        }
      }
    }
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.reflector?.stop();
  }
}
