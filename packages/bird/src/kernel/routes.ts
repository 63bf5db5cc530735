/**
 * Kernel routes owned by bird, as text: `proto bird` (RT_PROTO_BIRD, the contract's) in the
 * main table, `via <nh> dev <dev> onlink` (several `nexthop` for ECMP). Pure: the route
 * spec of a set of next hops and the `ip -batch` lines that write or remove one.
 */
import { RT_PROTO_BIRD_NAME } from '@tricolor/contract';

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

/** The `ip -batch` line that installs (spec) or removes (no spec) our route for a prefix. */
export function routeLine(prefix: string, spec: string | undefined): string {
  return spec === undefined
    ? `route del ${prefix} proto ${RT_PROTO_BIRD_NAME}`
    : `route replace ${prefix} proto ${RT_PROTO_BIRD_NAME} ${spec}`;
}

/** One of our routes as the kernel has it: its prefix and next hops as a route spec. */
export interface KernelRoute {
  prefix: string;
  spec: string;
}
