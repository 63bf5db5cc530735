/**
 * What ADD learns from Kubernetes when the network config names a kubeconfig: the pod's
 * endpoint fields, its UID (recorded with its addresses, so the IPAM GC judges by UID) and the
 * IPAM choice of its annotations. Read before anything is allocated: an unreachable API server
 * fails the ADD with nothing to undo.
 */
import { CniCode, CniError } from '../errors.js';
import type { NetConf } from '../spec.js';
import { KubeApiError, KubeconfigError, loadKubeconfig, readPodAndNamespace } from './api.js';
import {
  AnnotationError,
  type EndpointFromPod,
  endpointFromPod,
  type IpamChoice,
  ipamChoice,
} from './pod.js';

export interface KubePodInfo {
  endpoint: EndpointFromPod;
  uid?: string;
  ipam: IpamChoice;
}

export async function kubePodInfo(
  conf: NetConf,
  namespace: string,
  pod: string,
): Promise<KubePodInfo | undefined> {
  if (!conf.kubernetes) return undefined;
  try {
    const access = loadKubeconfig(conf.kubernetes.kubeconfig);
    const got = await readPodAndNamespace(access, namespace, pod);
    return {
      endpoint: endpointFromPod(namespace, got.pod),
      uid: got.pod.metadata?.uid,
      ipam: ipamChoice(got.pod, got.namespace),
    };
  } catch (e) {
    if (e instanceof KubeconfigError)
      throw new CniError(CniCode.InvalidNetworkConfig, `network config: kubernetes.${e.message}`);
    if (e instanceof KubeApiError)
      throw new CniError(CniCode.KubernetesUnavailable, `${e.message} (nothing was allocated)`);
    if (e instanceof AnnotationError) throw new CniError(CniCode.InvalidAnnotation, e.message);
    throw e;
  }
}
