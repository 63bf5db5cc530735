import { RT_PROTO_FELIX } from '@tricolor/contract';
import type { KernelRoute } from '@tricolor/linux';

/**
 * The kinds of kernel objects felix programs, as values: what the calculators want and
 * what the drivers read back, with their keys and the two questions every tracker asks —
 * is the kernel's item already the wanted one, and is it felix's to remove.
 */

/** A route felix owns in the main table (written with protocol 80). */
export interface Route {
  family: 4 | 6;
  /** Canonical CIDR. */
  dst: string;
  type: 'unicast' | 'blackhole';
  dev?: string;
  via?: string;
  onlink?: boolean;
  scope?: 'link';
}

export const routeKey = (r: { family: 4 | 6; dst: string }) => `${r.family}|${r.dst}`;

/** felix may change or delete: protocol 80, and on workload interfaces anything but the kernel's own. */
export function isOwnedRoute(r: KernelRoute, interfacePrefix: string): boolean {
  if (r.protocol === String(RT_PROTO_FELIX)) return true;
  if (!r.dev?.startsWith(interfacePrefix)) return false;
  return r.protocol !== 'kernel' && !r.dst.startsWith('fe80:');
}

export function sameRoute(a: Route, b: KernelRoute): boolean {
  return (
    a.type === b.type &&
    (a.dev ?? '') === (b.dev ?? '') &&
    (a.via ?? '') === (b.via ?? '') &&
    Boolean(a.onlink) === Boolean(b.onlink) &&
    b.protocol === String(RT_PROTO_FELIX) &&
    (a.type === 'blackhole' || (a.scope ?? '') === (b.scope ?? ''))
  );
}

/** A permanent neighbor entry (a workload's MAC, a remote VTEP's). */
export interface Neighbor {
  ip: string;
  mac: string;
  dev: string;
}

export const neighborKey = (n: { dev: string; ip: string }) => `${n.dev}|${n.ip}`;

/** felix owns permanent entries on workload interfaces and on its tunnel device. */
export function isOwnedNeighbor(
  n: Neighbor,
  interfacePrefix: string,
  tunnelDevs: readonly string[],
): boolean {
  return n.dev.startsWith(interfacePrefix) || tunnelDevs.includes(n.dev);
}

/** A static FDB entry of the VXLAN device: remote VTEP MAC → its underlay address. */
export interface FdbEntry {
  dev: string;
  mac: string;
  dst: string;
}

export const fdbKey = (f: FdbEntry) => `${f.dev}|${f.mac}|${f.dst}`;

/** The VXLAN device of this node. */
export interface VxlanDevice {
  kind: 'vxlan';
  name: string;
  vni: number;
  port: number;
  /** Underlay address of this node (the VTEP source). */
  localIP: string;
  /** The node's tunnel address, put on the device as /32. */
  address?: string;
  mac: string;
  /** Explicit MTU; undefined = underlay MTU - 50, resolved by the driver. */
  mtu?: number;
}

/** tunl0, where an IPIP pool exists (the routes through it are bird's). */
export interface IpipDevice {
  kind: 'ipip';
  name: 'tunl0';
  address?: string;
  mtu?: number;
  /** Underlay address of this node (for the default MTU). */
  localIP?: string;
}

export type TunnelDevice = VxlanDevice | IpipDevice;

/** A link as `ip -d link` / `ip addr` show it. */
export interface LinkState {
  name: string;
  kind?: string;
  mtu: number;
  mac?: string;
  up: boolean;
  vni?: number;
  port?: number;
  local?: string;
  /** IPv4 addresses with prefix length. */
  addresses: string[];
}

/** What a tunnel driver read: the device and the underlay interface its MTU derives from. */
export interface LinkObservation {
  link: LinkState;
  underlay?: { name: string; mtu: number };
}

/** An ipset felix owns (its members are tracked one by one, see `memberKey`). */
export interface IpsetMeta {
  type: 'hash:net' | 'hash:ip' | 'hash:ip,port';
  family: 'inet' | 'inet6';
}

/** One member of one set, as a tracker key. */
export const memberKey = (set: string, member: string) => `${set} ${member}`;

export function splitMemberKey(k: string): [set: string, member: string] {
  const sp = k.indexOf(' ');
  return [k.slice(0, sp), k.slice(sp + 1)];
}

/** How ipset prints a member: a host network without its /32 (/128). */
export function canonicalMember(m: string): string {
  return m.endsWith('/32') && !m.includes(':') ? m.slice(0, -3) : m.endsWith('/128') ? m.slice(0, -4) : m;
}
