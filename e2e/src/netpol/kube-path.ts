import { type Datastore, type KeyValueStore, namespaceProfileName } from '@tricolor/datastore';
import { convertKubernetesNetworkPolicy, kubernetesPolicyName } from '@tricolor/policy';
import type { FakeApiServer, KubeObject } from '@tricolor/testkit';
import { ActionError, type ActionPath, applyAction, type PodDirectory } from './actions.js';
import { NAMED_PORTS, NAMESPACES, namespaceLabels, PODS, podLabels } from './layout.js';
import { substituteTokens } from './tokens.js';

type Store = Datastore<KeyValueStore>;

/** Labels the CNI plugin and the controllers add to an endpoint beside the pod's own. */
const SYSTEM_LABEL_PREFIX = 'tricolor.dev/';

/** The datastore names of converted Kubernetes NetworkPolicies (`knp.default.<name>`). */
const KNP_PREFIX = kubernetesPolicyName('');

const podName = (pod: string) => pod.split('/') as [string, string];

/** The layout's objects in the API server: namespaces x, y, z, their default service accounts, and the pods (not yet added). */
export function createLayoutObjects(api: FakeApiServer, nodeOf: (pod: string) => string): void {
  for (const ns of NAMESPACES) {
    api.create({ kind: 'Namespace', metadata: { name: ns, labels: namespaceLabels(ns) } });
    api.create({ kind: 'ServiceAccount', metadata: { name: 'default', namespace: ns } });
  }
  for (const pod of PODS) {
    const [namespace, name] = podName(pod);
    api.create({
      kind: 'Pod',
      metadata: { name, namespace, labels: podLabels(pod) },
      spec: {
        nodeName: nodeOf(pod),
        containers: [
          {
            name: 'serve',
            ports: NAMED_PORTS.map((p) => ({ name: p.name, containerPort: p.port, protocol: p.protocol })),
          },
        ],
      },
    });
  }
}

function withoutSystemLabels(labels: Record<string, string> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(labels ?? {}).filter(([k]) => !k.startsWith(SYSTEM_LABEL_PREFIX)));
}

const sameLabels = (a: Record<string, string>, b: Record<string, string>) =>
  JSON.stringify(Object.entries(a).sort()) === JSON.stringify(Object.entries(b).sort());

/**
 * Case actions through the Kubernetes API, as a user of a cluster makes them: NetworkPolicies,
 * pod and namespace labels are written to the API server, and tricolor-kube-controllers carries
 * them into the datastore. Tricolor's own resources (applyResource, deleteResource) have no
 * Kubernetes kind here and are written directly, as `tricolorctl apply` does.
 */
export class KubernetesPath implements ActionPath {
  constructor(
    private readonly api: FakeApiServer,
    private readonly ds: Store,
    private readonly log: () => string = () => '',
  ) {}

  async apply(action: Parameters<ActionPath['apply']>[0], pods: PodDirectory, where: string): Promise<void> {
    const { api } = this;
    switch (action.op) {
      case 'createPolicy':
      case 'updatePolicy': {
        const np = substituteTokens(action.policy, pods.ips, `${where}.policy`) as unknown as KubeObject;
        // The API server refuses an invalid NetworkPolicy (422): the same checks, the same error
        // as the direct path.
        convertKubernetesNetworkPolicy(np);
        const namespace = np.metadata.namespace ?? 'default';
        const cur = api.get('NetworkPolicy', namespace, np.metadata.name);
        const shown = `NetworkPolicy ${namespace}/${np.metadata.name}`;
        if (action.op === 'createPolicy') {
          if (cur) throw new ActionError(`${where}: ${shown} exists already`);
          api.create({ ...np, kind: 'NetworkPolicy' });
        } else {
          if (!cur) throw new ActionError(`${where}: ${shown} does not exist`);
          api.update({
            ...np,
            kind: 'NetworkPolicy',
            metadata: { ...np.metadata, resourceVersion: cur.metadata.resourceVersion },
          });
        }
        return;
      }
      case 'deletePolicy':
        if (!api.get('NetworkPolicy', action.namespace, action.name))
          throw new ActionError(`${where}: NetworkPolicy ${action.namespace}/${action.name} does not exist`);
        api.delete('NetworkPolicy', action.namespace, action.name);
        return;
      case 'setPodLabels': {
        const [namespace, name] = podName(action.pod);
        this.setLabels('Pod', namespace, name, action.labels);
        return;
      }
      case 'setNamespaceLabels':
        this.setLabels('Namespace', undefined, action.namespace, action.labels);
        return;
      case 'applyResource':
      case 'deleteResource':
        await applyAction(this.ds, action, pods, where);
        return;
    }
  }

  /** Replaces an object's labels (an update, as `kubectl label --overwrite` of every key). */
  private setLabels(
    kind: string,
    namespace: string | undefined,
    name: string,
    labels: Record<string, string>,
  ) {
    const cur = this.api.get(kind, namespace, name);
    if (!cur) throw new ActionError(`${kind} ${namespace ? `${namespace}/` : ''}${name} does not exist`);
    this.api.update({ ...cur, metadata: { ...cur.metadata, labels: { ...labels } } });
  }

  async restore(pods: PodDirectory & { all: readonly string[] }): Promise<void> {
    for (const np of this.api.list('NetworkPolicy'))
      this.api.delete('NetworkPolicy', np.metadata.namespace, np.metadata.name);
    // Tricolor's own policies (written directly by applyResource).
    for (const kind of ['NetworkPolicy', 'GlobalNetworkPolicy'] as const)
      for (const p of (await this.ds.list(kind)).items)
        if (!p.metadata.name.startsWith(KNP_PREFIX))
          await this.ds.delete(kind, p.metadata.name, p.metadata.namespace);
    for (const ns of NAMESPACES) this.setLabels('Namespace', undefined, ns, namespaceLabels(ns));
    for (const pod of pods.all) {
      const [namespace, name] = podName(pod);
      this.setLabels('Pod', namespace, name, podLabels(pod));
    }
  }

  /**
   * What the controllers have not yet carried into the datastore: every NetworkPolicy as the
   * converter makes it (and no other), every namespace's labels on its profile, every pod's
   * labels on its endpoint.
   */
  async unsynced(): Promise<string[]> {
    const out: string[] = [];
    const want = new Map<string, string>();
    for (const np of this.api.list('NetworkPolicy')) {
      const p = convertKubernetesNetworkPolicy(np);
      want.set(`${p.metadata.namespace}/${p.metadata.name}`, JSON.stringify(p.spec));
    }
    for (const p of (await this.ds.list('NetworkPolicy')).items) {
      if (!p.metadata.name.startsWith(KNP_PREFIX)) continue;
      const key = `${p.metadata.namespace}/${p.metadata.name}`;
      const spec = want.get(key);
      if (spec === undefined) out.push(`${key}: still in the datastore`);
      else if (spec !== JSON.stringify(p.spec)) out.push(`${key}: not updated yet`);
      want.delete(key);
    }
    for (const key of want.keys()) out.push(`${key}: not in the datastore yet`);
    for (const ns of NAMESPACES) {
      const labels = this.api.get('Namespace', undefined, ns)?.metadata.labels ?? {};
      const profile = await this.ds.get('Profile', namespaceProfileName(ns));
      if (!profile || !sameLabels(profile.spec.labelsToApply ?? {}, labels))
        out.push(`profile ${namespaceProfileName(ns)}: labels not synced`);
    }
    const endpoints = await this.ds.list('WorkloadEndpoint');
    for (const pod of PODS) {
      const [namespace, name] = podName(pod);
      const labels = this.api.get('Pod', namespace, name)?.metadata.labels ?? {};
      const wep = endpoints.items.find((w) => w.metadata.namespace === namespace && w.spec.pod === name);
      if (!wep || !sameLabels(withoutSystemLabels(wep.metadata.labels), labels))
        out.push(`endpoint of ${pod}: labels not synced`);
    }
    return out;
  }

  async synced(timeoutMs = 30_000): Promise<void> {
    const deadline = performance.now() + timeoutMs;
    for (;;) {
      const left = await this.unsynced();
      if (left.length === 0) return;
      if (performance.now() > deadline)
        throw new Error(
          `tricolor-kube-controllers did not carry the API server's state into the datastore within ${timeoutMs / 1000} s: ${left.join('; ')}\n${this.log()}`,
        );
      await new Promise((r) => setTimeout(r, 50));
    }
  }
}
