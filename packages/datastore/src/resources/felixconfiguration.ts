import { Fields } from './fields.js';
import { checkEnvelope, compact, type Resource } from './resource.js';

export interface HostPort {
  protocol: 'tcp' | 'udp';
  port: number;
}

export interface FelixConfigurationSpec {
  /** Prefix of workload interfaces on the host (veth host ends). */
  interfacePrefix?: string;
  /** Prefix of felix's iptables chains. */
  chainPrefix?: string;
  /** MTU of workload interfaces; the VXLAN device gets the host MTU minus 50. */
  mtu?: number;
  vxlanMTU?: number;
  vxlanVNI?: number;
  vxlanPort?: number;
  /** Seconds between full re-reads of the kernel to repair drift. */
  routeRefreshInterval?: number;
  iptablesRefreshInterval?: number;
  /**
   * Least seconds between felix's status reports (`felixStatusKey`); 0: none. Readiness is
   * on the Node either way. Calico's `reportingInterval`.
   */
  reportingInterval?: number;
  failsafeInboundHostPorts?: HostPort[];
  failsafeOutboundHostPorts?: HostPort[];
  iptablesBackend?: 'auto' | 'nft' | 'legacy';
  /** Program ip6tables and IPv6 ipsets: always (true), never (false); unset = while an IPv6 pool exists. */
  ipv6Support?: boolean;
  logSeverityScreen?: 'debug' | 'info' | 'warn' | 'error';
}
export type FelixConfiguration = Resource<'FelixConfiguration', FelixConfigurationSpec>;

function hostPorts(f: Fields, path: string): HostPort[] | undefined {
  const list = f.array(path);
  if (!list) return undefined;
  return list.map((_, i) => ({
    protocol: (f.string(`${path}[${i}].protocol`, { oneOf: ['tcp', 'udp'] }) ??
      'tcp') as HostPort['protocol'],
    port: f.integer(`${path}[${i}].port`, { required: true, min: 1, max: 65535 }) ?? 0,
  }));
}

export function validateFelixConfiguration(raw: unknown): FelixConfiguration {
  const f = new Fields('FelixConfiguration', raw);
  const metadata = checkEnvelope(f, 'FelixConfiguration', false);
  const name = /^[a-z0-9-]{1,6}$/;
  const spec = compact<FelixConfigurationSpec>({
    interfacePrefix: f.string('spec.interfacePrefix', {
      pattern: /^[a-z0-9]{1,6}$/,
      patternText: '1-6 lower-case letters or digits',
    }),
    chainPrefix: f.string('spec.chainPrefix', {
      pattern: name,
      patternText: '1-6 lower-case letters, digits or "-"',
    }),
    mtu: f.integer('spec.mtu', { min: 576, max: 9216 }),
    vxlanMTU: f.integer('spec.vxlanMTU', { min: 576, max: 9216 }),
    vxlanVNI: f.integer('spec.vxlanVNI', { min: 1, max: 16777215 }),
    vxlanPort: f.integer('spec.vxlanPort', { min: 1, max: 65535 }),
    routeRefreshInterval: f.integer('spec.routeRefreshInterval', { min: 1, max: 86400 }),
    iptablesRefreshInterval: f.integer('spec.iptablesRefreshInterval', { min: 1, max: 86400 }),
    reportingInterval: f.integer('spec.reportingInterval', { min: 0, max: 86400 }),
    failsafeInboundHostPorts: hostPorts(f, 'spec.failsafeInboundHostPorts'),
    failsafeOutboundHostPorts: hostPorts(f, 'spec.failsafeOutboundHostPorts'),
    iptablesBackend: f.string('spec.iptablesBackend', {
      oneOf: ['auto', 'nft', 'legacy'],
    }) as FelixConfigurationSpec['iptablesBackend'],
    ipv6Support: f.boolean('spec.ipv6Support'),
    logSeverityScreen: f.string('spec.logSeverityScreen', {
      oneOf: ['debug', 'info', 'warn', 'error'],
    }) as FelixConfigurationSpec['logSeverityScreen'],
  });
  f.done();
  return { kind: 'FelixConfiguration', apiVersion: 'tricolor.dev/v1', metadata, spec };
}
