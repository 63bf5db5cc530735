/**
 * The data path every component builds its part of (DESIGN.md "The data path" and "Who owns
 * which kernel routes"): one copy, imported by felix, bird, the CNI plugin and IPAM.
 */

/** Protocol number of every route felix owns: workload /32s, block blackholes, VXLAN routes. */
export const RT_PROTO_FELIX = 80;
/** Protocol number of the routes bird installs from BGP (named `bird` in iproute2's rt_protos). */
export const RT_PROTO_BIRD = 12;
/** How `ip` prints and accepts RT_PROTO_BIRD. */
export const RT_PROTO_BIRD_NAME = 'bird';

/** The pod's IPv4 gateway: nothing owns it; the host end of the veth answers for it by proxy ARP. */
export const POD_GATEWAY_V4 = '169.254.1.1';
/** The MAC of every workload veth's host end, the same on every node. */
export const HOST_SIDE_MAC = 'ee:ee:ee:ee:ee:ee';
/** The pod's IPv6 gateway: the host end's link-local address, derived (EUI-64) from HOST_SIDE_MAC. */
export const POD_GATEWAY_V6 = 'fe80::ecee:eeff:feee:eeee';

/** Workload interfaces are `cali` + 11 hex characters unless FelixConfiguration says otherwise. */
export const DEFAULT_INTERFACE_PREFIX = 'cali';

/**
 * The sysctls (keys below /proc/sys) of a workload interface's host end: proxy ARP answers
 * for the gateway at once, forwarding on; IPv6 endpoints answer neighbor solicitations by
 * proxy and ignore router advertisements. The CNI plugin sets them at ADD, felix keeps them.
 */
export function workloadSysctls(iface: string, v6: boolean): [key: string, value: string][] {
  const s: [string, string][] = [
    [`net/ipv4/conf/${iface}/proxy_arp`, '1'],
    [`net/ipv4/neigh/${iface}/proxy_delay`, '0'],
    [`net/ipv4/conf/${iface}/forwarding`, '1'],
    [`net/ipv4/conf/${iface}/route_localnet`, '1'],
  ];
  if (v6)
    s.push(
      [`net/ipv6/conf/${iface}/proxy_ndp`, '1'],
      [`net/ipv6/conf/${iface}/forwarding`, '1'],
      [`net/ipv6/conf/${iface}/accept_ra`, '0'],
    );
  return s;
}

/** Host-wide sysctls of a node: IPv4 forwarding always; IPv6 forwarding once an IPv6 workload exists. */
export const HOST_SYSCTLS = {
  ipv4Forwarding: ['net/ipv4/ip_forward', '1'],
  ipv6Forwarding: ['net/ipv6/conf/all/forwarding', '1'],
} as const satisfies Record<string, readonly [string, string]>;
