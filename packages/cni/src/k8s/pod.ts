/**
 * A Kubernetes pod (and its namespace) → what its WorkloadEndpoint carries, and the IPAM
 * choices its annotations make. Pure functions over the API's JSON: the CNI plugin (at ADD)
 * and tricolor-kube-controllers (on every pod change) share them, so both write the same
 * labels, profiles and ports.
 */
import {
  type EndpointPort,
  namespaceProfileName,
  PORT_NAME,
  serviceAccountProfileName,
} from '@tricolor/datastore';

/** The parts of a v1 Pod the conversion reads (the API's JSON field names). */
export interface PodJson {
  metadata?: {
    name?: string;
    namespace?: string;
    uid?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
  };
  spec?: {
    nodeName?: string;
    serviceAccountName?: string;
    hostNetwork?: boolean;
    containers?: { name?: string; ports?: { name?: string; containerPort?: number; protocol?: string }[] }[];
    initContainers?: {
      name?: string;
      ports?: { name?: string; containerPort?: number; protocol?: string }[];
    }[];
  };
}

export interface NamespaceJson {
  metadata?: { name?: string; labels?: Record<string, string>; annotations?: Record<string, string> };
}

export const ORCHESTRATOR = 'k8s';
/** Labels Tricolor sets on every Kubernetes endpoint (Calico's projectcalico.org/* equivalents). */
export const LABEL_NAMESPACE = 'tricolor.dev/namespace';
export const LABEL_ORCHESTRATOR = 'tricolor.dev/orchestrator';
export const LABEL_SERVICE_ACCOUNT = 'tricolor.dev/serviceaccount';
const RESERVED_PREFIX = 'tricolor.dev/';

/** The endpoint's labels: the pod's, plus namespace, orchestrator and service account (which pods cannot override). */
export function endpointLabels(namespace: string, pod: PodJson): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of Object.entries(pod.metadata?.labels ?? {}))
    if (!k.startsWith(RESERVED_PREFIX)) out[k] = v;
  out[LABEL_NAMESPACE] = namespace;
  out[LABEL_ORCHESTRATOR] = ORCHESTRATOR;
  const sa = pod.spec?.serviceAccountName;
  if (sa) out[LABEL_SERVICE_ACCOUNT] = sa;
  return out;
}

/** The profiles an endpoint belongs to: its namespace's, then its service account's. */
export function endpointProfiles(namespace: string, serviceAccount: string | undefined): string[] {
  return serviceAccount
    ? [namespaceProfileName(namespace), serviceAccountProfileName(namespace, serviceAccount)]
    : [namespaceProfileName(namespace)];
}

/** Named container ports (unnamed ones are not addressable by name and are left out); first name wins. */
export function endpointPorts(pod: PodJson): EndpointPort[] {
  const out: EndpointPort[] = [];
  const seen = new Set<string>();
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const p of c.ports ?? []) {
      if (!p.name || !PORT_NAME.test(p.name) || seen.has(p.name)) continue;
      if (!Number.isInteger(p.containerPort) || p.containerPort! < 1 || p.containerPort! > 65535) continue;
      const protocol = (p.protocol ?? 'TCP').toUpperCase();
      if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP') continue;
      seen.add(p.name);
      out.push({ name: p.name, protocol, port: p.containerPort! });
    }
  }
  return out;
}

/** Everything the endpoint takes from its pod, in one object. */
export interface EndpointFromPod {
  labels: Record<string, string>;
  profiles: string[];
  serviceAccountName?: string;
  ports: EndpointPort[];
}

export function endpointFromPod(namespace: string, pod: PodJson): EndpointFromPod {
  const sa = pod.spec?.serviceAccountName || undefined;
  const out: EndpointFromPod = {
    labels: endpointLabels(namespace, pod),
    profiles: endpointProfiles(namespace, sa),
    ports: endpointPorts(pod),
  };
  if (sa) out.serviceAccountName = sa;
  return out;
}

// ---------------------------------------------------------------- IPAM annotations

/** Tricolor's annotations and Calico's, accepted for clusters migrating from Calico (Tricolor's win). */
export const ANNOTATIONS = {
  ipAddrs: ['tricolor.dev/ipAddrs', 'cni.projectcalico.org/ipAddrs'],
  ipv4pools: ['tricolor.dev/ipv4pools', 'cni.projectcalico.org/ipv4pools'],
  ipv6pools: ['tricolor.dev/ipv6pools', 'cni.projectcalico.org/ipv6pools'],
} as const;

export class AnnotationError extends Error {}

function jsonList(where: string, key: string, value: string): string[] {
  let v: unknown;
  try {
    v = JSON.parse(value);
  } catch {
    throw new AnnotationError(
      `${where} annotation ${key}: ${JSON.stringify(value)} is not a JSON list (like ["10.0.0.1"])`,
    );
  }
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string' || x === ''))
    throw new AnnotationError(
      `${where} annotation ${key}: ${JSON.stringify(value)} is not a JSON list of strings`,
    );
  return v as string[];
}

function first(
  where: string,
  annotations: Record<string, string> | undefined,
  keys: readonly string[],
): string[] | undefined {
  for (const k of keys) {
    const v = annotations?.[k];
    if (v !== undefined) return jsonList(where, k, v);
  }
  return undefined;
}

export interface IpamChoice {
  /** Fixed addresses (pod annotation ipAddrs); IPAM's autoAssign is not used then. */
  ipAddrs?: string[];
  /** Pools to assign from, overriding the network config's (pod annotation, else namespace's). */
  ipv4Pools?: string[];
  ipv6Pools?: string[];
}

/**
 * The IPAM choice the pod's and its namespace's annotations make: pools from the pod, else
 * from the namespace (as Calico); fixed addresses only from the pod. Throws AnnotationError
 * naming the annotation when one is malformed.
 */
export function ipamChoice(pod: PodJson, namespace: NamespaceJson | undefined): IpamChoice {
  const pa = pod.metadata?.annotations;
  const na = namespace?.metadata?.annotations;
  const podName = `pod ${pod.metadata?.namespace ?? ''}/${pod.metadata?.name ?? ''}`;
  const nsName = `namespace ${namespace?.metadata?.name ?? ''}`;
  const out: IpamChoice = {};
  const ipAddrs = first(podName, pa, ANNOTATIONS.ipAddrs);
  if (ipAddrs) {
    if (ipAddrs.length === 0) throw new AnnotationError(`${podName} annotation ipAddrs: the list is empty`);
    out.ipAddrs = ipAddrs;
  }
  const v4 = first(podName, pa, ANNOTATIONS.ipv4pools) ?? first(nsName, na, ANNOTATIONS.ipv4pools);
  const v6 = first(podName, pa, ANNOTATIONS.ipv6pools) ?? first(nsName, na, ANNOTATIONS.ipv6pools);
  if (v4) out.ipv4Pools = v4;
  if (v6) out.ipv6Pools = v6;
  return out;
}
