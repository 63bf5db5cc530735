import { createHash } from 'node:crypto';

/**
 * The host end of a pod's veth: prefix + 11 hex characters of a hash of the workload id,
 * so the same pod always gets the same name (felix and the CNI plugin agree without talking).
 */
export function hostInterfaceName(namespace: string, pod: string, prefix = 'cali'): string {
  const hash = createHash('sha1').update(`${namespace}.${pod}`).digest('hex');
  return `${prefix}${hash.slice(0, 15 - prefix.length)}`;
}

/** The IPAM handle of one pod attachment: released by it on DEL, even after a crash. */
export function handleId(network: string, containerId: string): string {
  return `${network}.${containerId}`;
}

/** Calico-style WorkloadEndpoint name: "<node>-k8s-<pod>-<endpoint>", dashes doubled inside parts. */
export function endpointName(node: string, pod: string, endpoint: string): string {
  const esc = (s: string) => s.replace(/-/g, '--');
  return `${esc(node)}-k8s-${esc(pod)}-${esc(endpoint)}`.toLowerCase();
}

/** Workload identity from CNI_ARGS (Kubernetes) or the container id (other runtimes). */
export function workloadOf(
  args: Record<string, string>,
  containerId: string,
): { namespace: string; pod: string } {
  return {
    namespace: args.K8S_POD_NAMESPACE || 'default',
    pod: args.K8S_POD_NAME || containerId.slice(0, 63).toLowerCase(),
  };
}
