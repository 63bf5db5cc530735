import { DNS_SUBDOMAIN, Fields } from './fields.js';
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
  /** The pod's service account (Kubernetes). */
  serviceAccountName?: string;
  /** The pod's named container ports, for policy rules that name a port. */
  ports?: EndpointPort[];
}

export const ENDPOINT_PORT_PROTOCOLS = ['TCP', 'UDP', 'SCTP'] as const;

/** A named container port: `{name: "http", protocol: "TCP", port: 8080}`. */
export interface EndpointPort {
  name: string;
  protocol: (typeof ENDPOINT_PORT_PROTOCOLS)[number];
  port: number;
}

/** Kubernetes port names (IANA_SVC_NAME): at most 15 lower-case letters, digits and '-', one letter. */
export const PORT_NAME = /^(?=.{1,15}$)(?=[^a-z]*[a-z])[a-z0-9]+(-[a-z0-9]+)*$/;

function endpointPorts(f: Fields, path: string): EndpointPort[] | undefined {
  const list = f.array(path);
  if (!list) return undefined;
  return list.map((_, i) => {
    const at = `${path}[${i}]`;
    return {
      name:
        f.string(`${at}.name`, {
          required: true,
          pattern: PORT_NAME,
          patternText: 'a port name (1-15 lower-case letters, digits and "-", at least one letter)',
        }) ?? '',
      protocol: (f.string(`${at}.protocol`, { oneOf: ENDPOINT_PORT_PROTOCOLS }) ??
        'TCP') as EndpointPort['protocol'],
      port: f.integer(`${at}.port`, { required: true, min: 1, max: 65535 }) ?? 0,
    };
  });
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
    serviceAccountName: f.string('spec.serviceAccountName', {
      max: 253,
      pattern: DNS_SUBDOMAIN,
      patternText: 'a service account name',
    }),
    ports: endpointPorts(f, 'spec.ports'),
  });
  f.done();
  return { kind: 'WorkloadEndpoint', apiVersion: 'tricolor.dev/v1', metadata, spec };
}
