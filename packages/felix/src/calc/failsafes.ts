import type { HostPort } from '@tricolor/datastore';
import type { Chain } from './iptables/rules.js';

/**
 * Failsafe chains: the host's own management ports (ssh, BGP, etcd, API server) are
 * accepted before anything felix adds, so no policy mistake can lock an operator out.
 */
export function failsafeChains(prefix: string, inbound: HostPort[], outbound: HostPort[]): Chain[] {
  const rules = (ports: HostPort[]) =>
    ports.map((p) => ({
      match: `-p ${p.protocol} -m ${p.protocol} --dport ${p.port}`,
      action: '-j ACCEPT',
    }));
  return [
    { name: `${prefix}failsafe-in`, rules: rules(inbound) },
    { name: `${prefix}failsafe-out`, rules: rules(outbound) },
  ];
}
