/**
 * Kernel routes owned by bird (`proto bird`, RT_PROTO_BIRD, the contract's, in the main
 * table) by their route spec: `via <nh> dev <dev> onlink`, several `nexthop` for ECMP, as
 * `ip route` prints them. The spec is how the exporter compares the kernel's route with its
 * own and how `show route` shows it.
 */

export interface NextHop {
  via: string;
  dev: string;
}

/** "via 10.0.0.2 dev eth0 onlink", or "nexthop via … onlink nexthop via … onlink" for ECMP. */
export function routeSpec(nexthops: readonly NextHop[]): string {
  const sorted = [...nexthops].sort((a, b) => (a.via < b.via ? -1 : a.via > b.via ? 1 : 0));
  if (sorted.length === 1) return `via ${sorted[0]!.via} dev ${sorted[0]!.dev} onlink`;
  return sorted.map((n) => `nexthop via ${n.via} dev ${n.dev} onlink`).join(' ');
}

/** One of our routes as the kernel has it: its prefix and next hops as a route spec. */
export interface KernelRoute {
  prefix: string;
  spec: string;
}
