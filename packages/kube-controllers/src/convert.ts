/**
 * Kubernetes objects → Tricolor resources, as small pure functions (the controllers are thin
 * adapters around them). Pods → endpoint fields come from @tricolor/cni, which the plugin
 * uses at ADD, so both write the same thing.
 */

import type { EndpointFromPod } from '@tricolor/cni';
import {
  type Node,
  namespaceProfileName,
  type Profile,
  serviceAccountProfileName,
  type WorkloadEndpoint,
} from '@tricolor/datastore';

export interface MetaJson {
  metadata?: { name?: string; namespace?: string; labels?: Record<string, string>; uid?: string };
}

/** Profile prefixes the controllers own (Calico's): anything else under profiles is left alone. */
export const NAMESPACE_PROFILE_PREFIX = 'kns.';
export const SERVICE_ACCOUNT_PROFILE_PREFIX = 'ksa.';

/**
 * `kns.<namespace>`: the namespace's labels for namespaceSelectors, and Allow in both
 * directions — as Calico's namespace profiles, so a pod no policy selects keeps Kubernetes'
 * default (everything allowed).
 */
export function namespaceProfile(ns: MetaJson): Profile {
  const name = ns.metadata?.name ?? '';
  return {
    kind: 'Profile',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: namespaceProfileName(name) },
    spec: {
      labelsToApply: { ...(ns.metadata?.labels ?? {}) },
      ingress: [{ action: 'Allow', source: {}, destination: {} }],
      egress: [{ action: 'Allow', source: {}, destination: {} }],
    },
  };
}

/** `ksa.<namespace>.<serviceaccount>`: the service account's labels, no rules (as Calico's). */
export function serviceAccountProfile(sa: MetaJson): Profile {
  return {
    kind: 'Profile',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: serviceAccountProfileName(sa.metadata?.namespace ?? '', sa.metadata?.name ?? '') },
    spec: { labelsToApply: { ...(sa.metadata?.labels ?? {}) }, ingress: [], egress: [] },
  };
}

/** Whether a stored profile already says what the desired one says. */
export function sameProfile(a: Profile, b: Profile): boolean {
  return JSON.stringify(sortKeys(a.spec)) === JSON.stringify(sortKeys(b.spec));
}

/** The namespace (and service account) a kns./ksa. profile name stands for; undefined for other profiles. */
export function profileOwner(
  name: string,
): { kind: 'Namespace' | 'ServiceAccount'; key: string } | undefined {
  if (name.startsWith(NAMESPACE_PROFILE_PREFIX))
    return { kind: 'Namespace', key: name.slice(NAMESPACE_PROFILE_PREFIX.length) };
  if (name.startsWith(SERVICE_ACCOUNT_PROFILE_PREFIX)) {
    // Namespaces have no dots (DNS labels), so the first dot ends the namespace.
    const rest = name.slice(SERVICE_ACCOUNT_PROFILE_PREFIX.length);
    const dot = rest.indexOf('.');
    if (dot <= 0 || dot === rest.length - 1) return undefined;
    return { kind: 'ServiceAccount', key: `${rest.slice(0, dot)}/${rest.slice(dot + 1)}` };
  }
  return undefined;
}

function sortKeys(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(sortKeys);
  if (v === null || typeof v !== 'object') return v;
  return Object.fromEntries(
    Object.keys(v as Record<string, unknown>)
      .sort()
      .map((k) => [k, sortKeys((v as Record<string, unknown>)[k])]),
  );
}

// ---------------------------------------------------------------- endpoints

/**
 * The endpoint with the pod's labels, profiles, service account and ports; undefined when it
 * already carries them. Only those fields change: addresses, interface, node and container
 * stay as the CNI plugin wrote them.
 */
export function endpointUpdate(wep: WorkloadEndpoint, want: EndpointFromPod): WorkloadEndpoint | undefined {
  const next: WorkloadEndpoint = {
    ...wep,
    metadata: { ...wep.metadata, labels: want.labels },
    spec: { ...wep.spec, profiles: want.profiles },
  };
  if (want.serviceAccountName) next.spec.serviceAccountName = want.serviceAccountName;
  else delete next.spec.serviceAccountName;
  if (want.ports.length) next.spec.ports = want.ports;
  else delete next.spec.ports;
  const view = (w: WorkloadEndpoint) =>
    JSON.stringify(
      sortKeys({
        labels: w.metadata.labels ?? {},
        profiles: w.spec.profiles,
        sa: w.spec.serviceAccountName ?? null,
        ports: w.spec.ports ?? [],
      }),
    );
  return view(next) === view(wep) ? undefined : next;
}

// ---------------------------------------------------------------- nodes

/** On a Tricolor Node: the Kubernetes labels last synced (JSON), as Calico's projectcalico.org/kube-labels. */
export const KUBE_LABELS_ANNOTATION = 'tricolor.dev/kube-labels';

/**
 * The Node with its Kubernetes labels synced, or undefined when nothing changes. Labels set
 * on the Tricolor Node by an operator (not from Kubernetes) are kept; a label removed in
 * Kubernetes is removed here only if it came from Kubernetes. The annotation also marks the
 * Node as a Kubernetes node, whose deletion from Kubernetes deletes it.
 */
export function nodeLabelsUpdate(node: Node, kubeLabels: Record<string, string>): Node | undefined {
  let previous: Record<string, string> = {};
  try {
    previous = JSON.parse(node.metadata.annotations?.[KUBE_LABELS_ANNOTATION] ?? '{}') as Record<
      string,
      string
    >;
  } catch {
    previous = {};
  }
  const labels: Record<string, string> = { ...(node.metadata.labels ?? {}) };
  for (const k of Object.keys(previous))
    if (!(k in kubeLabels) && labels[k] === previous[k]) delete labels[k];
  Object.assign(labels, kubeLabels);
  const annotation = JSON.stringify(sortKeys(kubeLabels));
  const sameLabels =
    JSON.stringify(sortKeys(labels)) === JSON.stringify(sortKeys(node.metadata.labels ?? {}));
  if (sameLabels && node.metadata.annotations?.[KUBE_LABELS_ANNOTATION] === annotation) return undefined;
  const metadata = {
    ...node.metadata,
    annotations: { ...(node.metadata.annotations ?? {}), [KUBE_LABELS_ANNOTATION]: annotation },
  };
  if (Object.keys(labels).length) metadata.labels = labels;
  else delete metadata.labels;
  return { ...node, metadata };
}

/** Whether a Tricolor Node has been synced from a Kubernetes node (so its deletion there deletes it). */
export const isKubeNode = (node: Node): boolean =>
  node.metadata.annotations?.[KUBE_LABELS_ANNOTATION] !== undefined;
