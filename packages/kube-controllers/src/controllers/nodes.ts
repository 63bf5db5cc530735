/**
 * Kubernetes nodes → Tricolor Nodes: labels synced (BGPPeer and IPPool node selectors read
 * them); a node deleted from Kubernetes loses its endpoints, its addresses (released through
 * IPAM by handle), its block affinities and finally its Tricolor Node — which takes it out of
 * every BGP mesh, since bird derives the mesh from Node resources. The Node goes last, so a
 * crash half-way leaves it for the next resync to finish.
 */
import type { V1Node } from '@kubernetes/client-node';
import { ConflictError, felixStatusKey, type Node, NotFoundError, type Reflector } from '@tricolor/datastore';
import { type Ipam, nodeOfHandle } from '@tricolor/ipam';
import { isKubeNode, nodeLabelsUpdate } from '../convert.js';
import type { WatchedInformer } from '../informer.js';
import { listAllocations } from '../ipam-gc.js';
import { Controller, type ControllerDeps } from './base.js';

export class NodeController extends Controller {
  readonly name = 'node';
  private reflector: Reflector<Node> | undefined;

  constructor(
    deps: ControllerDeps,
    private readonly nodes: WatchedInformer<V1Node>,
    private readonly ipam: Ipam,
  ) {
    super(deps);
  }

  async start(): Promise<void> {
    for (const verb of ['add', 'update', 'delete'] as const)
      this.nodes.on(verb, (n) => this.enqueue(n.metadata?.name ?? ''));
    // felix creates its Node at start: sync its labels as soon as it appears.
    this.reflector = this.deps.ds.reflector('Node');
    this.reflector.on('event', (e) => {
      if (e.type === 'put') this.enqueue(e.value.metadata.name);
    });
    this.reflector.on('error', (err) =>
      this.deps.log.warn({ err: err.message }, 'node watch failed; re-listing'),
    );
    await this.reflector.start();
    await this.resync();
  }

  async resync(): Promise<void> {
    for (const n of this.nodes.list()) this.enqueue(n.metadata?.name ?? '');
    for (const v of this.reflector?.cache.values() ?? []) {
      const n = v.value;
      if (isKubeNode(n) && !this.nodes.get(n.metadata.name)) this.enqueue(n.metadata.name);
    }
  }

  protected async reconcile(name: string): Promise<void> {
    const { ds } = this.deps;
    const kube = this.nodes.get(name);
    const node = await ds.get('Node', name);
    if (!node) return;
    if (kube) {
      const next = nodeLabelsUpdate(node, kube.metadata?.labels ?? {});
      if (!next) return;
      try {
        await ds.update(next);
      } catch (e) {
        if (e instanceof NotFoundError) return;
        if (e instanceof ConflictError) throw new Error(`node ${name} changed meanwhile; retrying`);
        throw e;
      }
      this.wrote('update');
      return;
    }
    if (isKubeNode(node)) await this.cleanUp(name);
  }

  /** Releases everything of a node deleted from Kubernetes, then its Node. */
  async cleanUp(name: string): Promise<void> {
    const { ds, log } = this.deps;
    log.info({ node: name }, 'node deleted from Kubernetes: releasing its endpoints, addresses and blocks');
    for (const w of (await ds.list('WorkloadEndpoint')).items) {
      if (w.spec.node !== name) continue;
      try {
        await ds.delete('WorkloadEndpoint', w.metadata.name, w.metadata.namespace, {
          resourceVersion: w.metadata.resourceVersion,
        });
        this.wrote('delete');
      } catch (e) {
        if (!(e instanceof NotFoundError)) throw e;
      }
    }
    const handles = new Set<string>();
    for (const a of await listAllocations(ds))
      if (a.node === name || nodeOfHandle(a.handle) === name) handles.add(a.handle);
    let released = 0;
    for (const h of handles) released += (await this.ipam.releaseByHandle(h)).length;
    const affinities = await this.ipam.releaseAffinities(name, { force: true });
    await this.ipam.deleteEmptyBlocks();
    await ds.delete('Node', name);
    this.wrote('delete');
    if (await ds.kv.deleteAny(felixStatusKey(ds.prefix, name))) this.wrote('delete');
    this.deps.metrics.nodesCleanedUp.inc();
    log.info({ node: name, addresses: released, blocks: affinities.released.length }, 'node cleaned up');
  }

  override async stop(): Promise<void> {
    await super.stop();
    await this.reflector?.stop();
  }
}
