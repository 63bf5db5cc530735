import { Datastore, validateWorkloadEndpoint } from '@tricolor/datastore';
import { explain, makePacket, PolicyModel } from '@tricolor/policy';
import { setNamespaceLabels, syncPodEndpoint, writeServiceAccountProfile } from './actions.js';
import type { Matrix, Probe } from './case.js';
import { NAMESPACES, namespaceLabels, PODS, podLabels } from './layout.js';
import { MemoryKV } from './memory-kv.js';
import type { CaseContext } from './run-case.js';

/**
 * The standard layout with no kernel: the same resources the runner writes on a cluster (the
 * endpoints the CNI plugin would write, then the Kubernetes sync's labels, ports and profiles)
 * in an in-memory datastore, each matrix computed by @tricolor/policy's evaluator. The
 * examples' expectations checked here are the first proof of the semantics before felix.
 */
export async function modelContext(ips: ReadonlyMap<string, string>, nodes = 3): Promise<CaseContext> {
  const ds = new Datastore(new MemoryKV());
  const names = new Map<string, string>();
  for (const [i, pod] of PODS.entries()) {
    const [namespace, name] = pod.split('/') as [string, string];
    const node = `node-${(i % nodes) + 1}`;
    const wepName = `${node}-k8s-${name}-eth0`;
    names.set(pod, wepName);
    await ds.create(
      validateWorkloadEndpoint({
        kind: 'WorkloadEndpoint',
        metadata: {
          name: wepName,
          namespace,
          labels: { 'tricolor.dev/namespace': namespace, 'tricolor.dev/orchestrator': 'k8s' },
        },
        spec: {
          node,
          workload: pod,
          pod: name,
          interfaceName: `cali${String(i).padStart(11, '0')}`,
          ipNetworks: [`${ips.get(pod)}/32`],
          profiles: [`kns.${namespace}`],
        },
      }),
    );
    await syncPodEndpoint(ds, namespace, wepName, podLabels(pod));
  }
  for (const ns of NAMESPACES) {
    await setNamespaceLabels(ds, ns, namespaceLabels(ns));
    await writeServiceAccountProfile(ds, ns);
  }
  return {
    ds,
    pods: { all: PODS, ips, endpointName: (pod) => names.get(pod)! },
    observe: (probe) => modelMatrix(ds, ips, probe),
    settle: async () => undefined,
  };
}

/** A probe's matrix as the evaluator decides it: A reaches B if A's egress and B's ingress allow. */
export async function modelMatrix(
  ds: Datastore<MemoryKV>,
  ips: ReadonlyMap<string, string>,
  probe: Probe,
): Promise<Matrix> {
  const [endpoints, profiles, nps, gnps] = await Promise.all([
    ds.list('WorkloadEndpoint'),
    ds.list('Profile'),
    ds.list('NetworkPolicy'),
    ds.list('GlobalNetworkPolicy'),
  ]);
  const model = new PolicyModel({
    endpoints: endpoints.items,
    profiles: profiles.items,
    policies: [...nps.items, ...gnps.items],
  });
  const m: Matrix = {};
  for (const from of PODS) {
    m[from] = {};
    for (const to of PODS) {
      const packet = makePacket({
        source: ips.get(from)!,
        destination: ips.get(to)!,
        protocol: probe.protocol,
        port: probe.port,
      });
      m[from][to] = explain(model, packet).verdict === 'Allow';
    }
  }
  return m;
}
