import { Fields } from './fields.js';
import { MAC } from './node.js';
import { checkEnvelope, compact, type Resource } from './resource.js';

export interface WorkloadEndpointSpec {
  node: string;
  orchestrator: string;
  /** The pod, "namespace/name" for Kubernetes. */
  workload: string;
  pod?: string;
  containerID?: string;
  /** The interface inside the workload, usually eth0. */
  endpoint: string;
  /** The host side of the veth, e.g. cali0123456789a. */
  interfaceName: string;
  mac?: string;
  /** The workload's addresses as /32 or /128 CIDRs. */
  ipNetworks: string[];
  profiles: string[];
}
export type WorkloadEndpoint = Resource<'WorkloadEndpoint', WorkloadEndpointSpec>;

/** Linux interface names: 1 to 15 characters, no '/', no whitespace. */
export const IFNAME = /^[^\s/:]{1,15}$/;

export function validateWorkloadEndpoint(raw: unknown): WorkloadEndpoint {
  const f = new Fields('WorkloadEndpoint', raw);
  const metadata = checkEnvelope(f, 'WorkloadEndpoint', true);
  const ipNetworks = f.stringList('spec.ipNetworks') ?? [];
  const spec = compact<WorkloadEndpointSpec>({
    node: f.string('spec.node', { required: true }) ?? '',
    orchestrator: f.string('spec.orchestrator') ?? 'k8s',
    workload: f.string('spec.workload', { required: true }) ?? '',
    pod: f.string('spec.pod'),
    containerID: f.string('spec.containerID'),
    endpoint: f.string('spec.endpoint') ?? 'eth0',
    interfaceName:
      f.string('spec.interfaceName', {
        required: true,
        pattern: IFNAME,
        patternText: 'a Linux interface name (1-15 characters)',
      }) ?? '',
    mac: f.string('spec.mac', { pattern: MAC, patternText: 'a MAC address' }),
    ipNetworks: ipNetworks.map((_, i) => f.cidr(`spec.ipNetworks[${i}]`) ?? ''),
    profiles: f.stringList('spec.profiles') ?? [],
  });
  f.done();
  return { kind: 'WorkloadEndpoint', apiVersion: 'tricolor.dev/v1', metadata, spec };
}
