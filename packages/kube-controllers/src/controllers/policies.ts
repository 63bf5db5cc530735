/**
 * Kubernetes NetworkPolicies → Tricolor NetworkPolicies `knp.default.<name>` in the same
 * namespace, through @tricolor/policy's converter (the one tricolorctl and the conformance
 * runner use too).
 */
import type { V1NetworkPolicy } from '@kubernetes/client-node';
import { ConflictError, NotFoundError, ValidationError } from '@tricolor/datastore';
import { convertKubernetesNetworkPolicy, kubernetesPolicyName } from '@tricolor/policy';
import type { WatchedInformer } from '../informer.js';
import { Controller, type ControllerDeps } from './base.js';

export const KNP_PREFIX = kubernetesPolicyName('');

export class PolicyController extends Controller {
  readonly name = 'policy';

  constructor(
    deps: ControllerDeps,
    private readonly policies: WatchedInformer<V1NetworkPolicy>,
  ) {
    super(deps);
  }

  async start(): Promise<void> {
    for (const verb of ['add', 'update', 'delete'] as const)
      this.policies.on(verb, (p) => this.enqueue(`${p.metadata?.namespace}/${p.metadata?.name}`));
    await this.resync();
  }

  async resync(): Promise<void> {
    for (const p of this.policies.list()) this.enqueue(`${p.metadata?.namespace}/${p.metadata?.name}`);
    for (const p of (await this.deps.ds.list('NetworkPolicy')).items) {
      if (!p.metadata.name.startsWith(KNP_PREFIX)) continue;
      const name = p.metadata.name.slice(KNP_PREFIX.length);
      if (!this.policies.get(name, p.metadata.namespace)) this.enqueue(`${p.metadata.namespace}/${name}`);
    }
  }

  protected async reconcile(key: string): Promise<void> {
    const { ds } = this.deps;
    const [namespace, name] = key.split('/') as [string, string];
    const np = this.policies.get(name, namespace);
    const cur = await ds.get('NetworkPolicy', `${KNP_PREFIX}${name}`, namespace);
    if (!np) {
      if (!cur) return;
      await ds
        .delete('NetworkPolicy', cur.metadata.name, namespace, {
          resourceVersion: cur.metadata.resourceVersion,
        })
        .catch((e) => {
          if (!(e instanceof NotFoundError)) throw e;
        });
      this.wrote('delete');
      return;
    }
    let want: ReturnType<typeof convertKubernetesNetworkPolicy>;
    try {
      want = convertKubernetesNetworkPolicy(np);
    } catch (e) {
      if (!(e instanceof ValidationError)) throw e;
      // The same object would fail again: report it once per change instead of retrying. The
      // policy converted from its last good version (if any) stays in force.
      this.deps.metrics.reconcileErrors.inc({ controller: this.name });
      this.deps.log.error(
        { controller: this.name, key, err: e.message },
        'NetworkPolicy cannot be converted',
      );
      return;
    }
    if (cur && JSON.stringify(cur.spec) === JSON.stringify(want.spec)) return;
    try {
      if (cur)
        await ds.update({
          ...want,
          metadata: { ...want.metadata, resourceVersion: cur.metadata.resourceVersion },
        });
      else await ds.create(want);
    } catch (e) {
      if (e instanceof ConflictError) throw new Error(`policy ${key} changed meanwhile; retrying`);
      throw e;
    }
    this.wrote(cur ? 'update' : 'create');
  }
}
