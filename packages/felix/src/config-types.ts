import type { HostPort } from '@tricolor/datastore';

/** The knobs the calculation and the drivers read, after env and FelixConfiguration are merged. */
export interface FelixSettings {
  interfacePrefix: string;
  /** Prefix of iptables chains and ipsets, with its trailing dash: `tri-`. */
  chainPrefix: string;
  /** MTU of the VXLAN device; default: MTU of the underlay interface minus 50. */
  vxlanMTU?: number;
  /** MTU of tunl0; default: MTU of the underlay interface minus 20. */
  ipipMTU?: number;
  vxlanVNI: number;
  vxlanPort: number;
  vxlanDevice: string;
  routeRefreshIntervalMs: number;
  iptablesRefreshIntervalMs: number;
  /**
   * Least time between two status reports at felix's own key (`felixStatusKey`; 0: none,
   * readiness is on the Node either way). Each report is still an etcd write: at 100 nodes,
   * 10 s apart was 10 writes a second, more than a loaded etcd could sync.
   */
  reportingIntervalMs: number;
  failsafeInboundHostPorts: HostPort[];
  failsafeOutboundHostPorts: HostPort[];
  iptablesBackend: 'auto' | 'nft' | 'legacy';
  /**
   * Program ip6tables and IPv6 ipsets too: always, never, or ('auto') while an IPv6 IPPool
   * exists. Whether felix may use ip6tables at all is fixed at start.
   */
  ipv6Support: boolean | 'auto';
  logLevel: 'debug' | 'info' | 'warn' | 'error';
}

export const DEFAULT_FAILSAFE_PORTS: HostPort[] = [22, 179, 2379, 2380, 6443].map((port) => ({
  protocol: 'tcp' as const,
  port,
}));

export const DEFAULT_SETTINGS: FelixSettings = {
  interfacePrefix: 'cali',
  chainPrefix: 'tri-',
  vxlanVNI: 4096,
  vxlanPort: 4789,
  vxlanDevice: 'vxlan.tricolor',
  routeRefreshIntervalMs: 90_000,
  iptablesRefreshIntervalMs: 60_000,
  reportingIntervalMs: 30_000,
  failsafeInboundHostPorts: DEFAULT_FAILSAFE_PORTS,
  failsafeOutboundHostPorts: DEFAULT_FAILSAFE_PORTS,
  iptablesBackend: 'auto',
  ipv6Support: 'auto',
  logLevel: 'info',
};
