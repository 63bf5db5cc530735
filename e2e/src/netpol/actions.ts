import {
  ConflictError,
  type Datastore,
  type GlobalNetworkPolicy,
  type KeyValueStore,
  type NetworkPolicy,
  namespaceProfileName,
  validateResource,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import { convertKubernetesNetworkPolicy, kubernetesPolicyName } from '@tricolor/policy';
import type { Action } from './case.js';
import { NAMED_PORTS, NAMESPACE_NAME_LABEL } from './layout.js';
import { substituteTokens } from './tokens.js';

type Store = Datastore<KeyValueStore>;

/** Where the layout's pods are: "x/a" → its WorkloadEndpoint (namespace, name) and address. */
export interface PodDirectory {
  endpointName(pod: string): string;
  ips: ReadonlyMap<string, string>;
}

/** An action could not be carried out (e.g. createPolicy of a policy that exists). */
export class ActionError extends Error {
  override readonly name = 'ActionError';
}

/** Labels the CNI plugin writes and cases never set: they stay when a pod's labels are replaced. */
const SYSTEM_LABEL_PREFIX = 'tricolor.dev/';

/** Reads a pod's endpoint, changes it and writes it back compare-and-swap, again on a conflict. */
async function updateEndpoint(
  ds: Store,
  namespace: string,
  name: string,
  change: (wep: WorkloadEndpoint) => WorkloadEndpoint,
): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    const wep = await ds.get('WorkloadEndpoint', name, namespace);
    if (!wep) throw new ActionError(`no WorkloadEndpoint ${namespace}/${name}`);
    try {
      await ds.update(change(wep));
      return;
    } catch (e) {
      if (!(e instanceof ConflictError) || attempt >= 10) throw e;
    }
  }
}

/** Replaces a pod's labels with a label-only compare-and-swap update of its endpoint. */
export async function setPodLabels(
  ds: Store,
  namespace: string,
  name: string,
  labels: Record<string, string>,
): Promise<void> {
  await updateEndpoint(ds, namespace, name, (wep) => {
    const kept = Object.entries(wep.metadata.labels ?? {}).filter(([k]) => k.startsWith(SYSTEM_LABEL_PREFIX));
    const user = Object.entries(labels).filter(([k]) => !k.startsWith(SYSTEM_LABEL_PREFIX));
    return { ...wep, metadata: { ...wep.metadata, labels: Object.fromEntries([...user, ...kept]) } };
  });
}

/**
 * A namespace's labels into its profile `kns.<ns>`, as the Kubernetes sync writes it: the
 * labels (kubernetes.io/metadata.name forced to the name, as the API server does) to apply to
 * its endpoints, and allow-all rules (the namespace's default when no policy decides).
 */
export async function setNamespaceLabels(
  ds: Store,
  namespace: string,
  labels: Record<string, string>,
): Promise<void> {
  await ds.apply({
    kind: 'Profile',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: namespaceProfileName(namespace) },
    spec: {
      labelsToApply: { ...labels, [NAMESPACE_NAME_LABEL]: namespace },
      ingress: [{ action: 'Allow' }],
      egress: [{ action: 'Allow' }],
    },
  });
}

/** The service account profile of a namespace's `default` account, as the sync writes it. */
export async function writeServiceAccountProfile(ds: Store, namespace: string): Promise<void> {
  await ds.apply({
    kind: 'Profile',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: `ksa.${namespace}.default` },
    spec: { labelsToApply: {} },
  });
}

/**
 * What the Kubernetes sync adds to a pod's endpoint after the CNI plugin wrote it: the pod's
 * labels, its named container ports, its service account and its profiles.
 */
export async function syncPodEndpoint(
  ds: Store,
  namespace: string,
  name: string,
  labels: Record<string, string>,
): Promise<void> {
  await updateEndpoint(ds, namespace, name, (wep) => ({
    ...wep,
    metadata: { ...wep.metadata, labels: { ...labels, ...wep.metadata.labels } },
    spec: {
      ...wep.spec,
      ports: NAMED_PORTS.map((p) => ({ ...p })),
      serviceAccountName: 'default',
      profiles: [namespaceProfileName(namespace), `ksa.${namespace}.default`],
    },
  }));
}

const kindOf = (r: NetworkPolicy | GlobalNetworkPolicy) => r.kind;

/** Carries out one case action through the product's normal path (FORMAT.md 2.1). */
export async function applyAction(
  ds: Store,
  action: Action,
  pods: PodDirectory,
  where: string,
): Promise<void> {
  switch (action.op) {
    case 'createPolicy':
    case 'updatePolicy': {
      const policy = convertKubernetesNetworkPolicy(
        substituteTokens(action.policy, pods.ips, `${where}.policy`),
      );
      const shown = `NetworkPolicy ${policy.metadata.namespace}/${(action.policy.metadata as { name: string }).name}`;
      const existing = await ds.get('NetworkPolicy', policy.metadata.name, policy.metadata.namespace);
      if (action.op === 'createPolicy') {
        if (existing) throw new ActionError(`${where}: ${shown} exists already`);
        await ds.create(policy);
      } else {
        if (!existing) throw new ActionError(`${where}: ${shown} does not exist`);
        await ds.update({
          ...policy,
          metadata: { ...policy.metadata, resourceVersion: existing.metadata.resourceVersion },
        });
      }
      return;
    }
    case 'deletePolicy': {
      if (!(await ds.delete('NetworkPolicy', kubernetesPolicyName(action.name), action.namespace)))
        throw new ActionError(`${where}: NetworkPolicy ${action.namespace}/${action.name} does not exist`);
      return;
    }
    case 'setPodLabels': {
      const [namespace] = action.pod.split('/') as [string, string];
      await setPodLabels(ds, namespace, pods.endpointName(action.pod), action.labels);
      return;
    }
    case 'setNamespaceLabels':
      await setNamespaceLabels(ds, action.namespace, action.labels);
      return;
    case 'applyResource': {
      const resource = validateResource(substituteTokens(action.resource, pods.ips, `${where}.resource`));
      await ds.apply(resource as NetworkPolicy | GlobalNetworkPolicy);
      return;
    }
    case 'deleteResource': {
      if (!(await ds.delete(action.kind, action.name, action.namespace)))
        throw new ActionError(
          `${where}: ${action.kind} ${action.namespace ? `${action.namespace}/` : ''}${action.name} does not exist`,
        );
      return;
    }
  }
}

/** Back to the layout between cases: no policy of any kind, every pod's and namespace's labels as in section 1. */
export async function restoreLayout(
  ds: Store,
  pods: PodDirectory & { all: readonly string[] },
  namespaceLabels: (ns: string) => Record<string, string>,
  podLabels: (pod: string) => Record<string, string>,
): Promise<void> {
  for (const kind of ['NetworkPolicy', 'GlobalNetworkPolicy'] as const) {
    const { items } = await ds.list(kind);
    for (const p of items) await ds.delete(kindOf(p), p.metadata.name, p.metadata.namespace);
  }
  const namespaces = [...new Set(pods.all.map((p) => p.split('/')[0]!))];
  for (const ns of namespaces) await setNamespaceLabels(ds, ns, namespaceLabels(ns));
  for (const pod of pods.all)
    await setPodLabels(ds, pod.split('/')[0]!, pods.endpointName(pod), podLabels(pod));
}

/**
 * How a case's actions reach the datastore: directly, as `tricolorctl` writes (the default),
 * or through the Kubernetes API and tricolor-kube-controllers (`--via-kubernetes`).
 */
export interface ActionPath {
  apply(action: Action, pods: PodDirectory, where: string): Promise<void>;
  /** Back to the layout of section 1 between cases. */
  restore(pods: PodDirectory & { all: readonly string[] }): Promise<void>;
  /** Resolves once everything applied so far is in the datastore. */
  synced(): Promise<void>;
}

export function directPath(
  ds: Store,
  namespaceLabels: (ns: string) => Record<string, string>,
  podLabels: (pod: string) => Record<string, string>,
): ActionPath {
  return {
    apply: (action, pods, where) => applyAction(ds, action, pods, where),
    restore: (pods) => restoreLayout(ds, pods, namespaceLabels, podLabels),
    synced: async () => undefined,
  };
}
