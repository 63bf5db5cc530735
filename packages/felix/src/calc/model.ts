import type { IPPool, Node } from '@tricolor/datastore';
import type { FelixSettings } from '../config-types.js';
import type { EndpointInput } from './endpoint-index.js';
import type { EndpointPolicyRules } from './iptables/chains.js';
import type { IptablesState, Table } from './iptables/rules.js';
import type { IpsetSpec } from './nat-outgoing.js';

/**
 * The calculation's inputs and outputs: what etcd says, and the kernel state felix wants
 * on this node (routes, neighbors, tunnels, sysctls, ipsets, iptables).
 */

/** felix's route protocol number (DESIGN.md "Who owns which kernel routes"). */
export const FELIX_RT_PROTO = 80;

export interface DesiredRoute {
  family: 4 | 6;
  /** Canonical CIDR. */
  dst: string;
  type: 'unicast' | 'blackhole';
  dev?: string;
  via?: string;
  onlink?: boolean;
  scope?: 'link';
}

export interface DesiredNeighbor {
  ip: string;
  mac: string;
  dev: string;
}

export interface VxlanDevice {
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

export interface VxlanState {
  device: VxlanDevice;
  /** Remote VTEPs: their device MAC and underlay address. */
  fdb: { mac: string; dst: string }[];
  neighbors: DesiredNeighbor[];
}

export interface IpipState {
  device: 'tunl0';
  address?: string;
  mtu?: number;
}

/** An IPAM block affinity as read from `…/ipam/v2/host/<node>/ipv4/block/<cidr>`. */
export interface Affinity {
  node: string;
  block: string;
  state: string;
}

export interface CalcInputs {
  nodeName: string;
  settings: FelixSettings;
  /** Endpoints (this node's are picked out); an `EndpointIndex` lets a cached calculation visit only the changed ones. */
  endpoints: EndpointInput;
  pools: IPPool[];
  affinities: Iterable<Affinity>;
  nodes: Iterable<Node>;
  policy?: EndpointPolicyRules;
}

export interface DesiredState {
  /** Routes felix owns in the main table, keyed by `<family>|<dst>`. */
  routes: Map<string, DesiredRoute>;
  /** Static neighbor entries (workload MACs and remote VTEPs), keyed by `<dev>|<ip>`. */
  neighbors: Map<string, DesiredNeighbor>;
  vxlan?: VxlanState;
  ipip?: IpipState;
  /** `/proc/sys` relative path → value. */
  sysctls: Map<string, string>;
  ipsets: IpsetSpec[];
  iptables: IptablesState;
  /** The IPv6 tables (same chains; IPv6 pool sets), when `ipv6Support` says so (see FelixSettings). */
  ip6tables?: IptablesState;
  /** Local workload interfaces. */
  interfaces: string[];
  localEndpoints: number;
  /** Confirmed blocks of this node. */
  ownedBlocks: string[];
  /** With a `CalcCache`: the number of this result among the cache's results (1, 2, …). */
  generation?: number;
  /**
   * With a `CalcCache`, unless it recomputed everything: the keys of `routes`, `neighbors`
   * and `sysctls`, and the chain names of each iptables table, whose entries may differ
   * from result number `since` (a superset of the changes; a key absent now was deleted).
   * Undefined = diff everything.
   */
  changes?: DesiredChanges;
}

export interface DesiredChanges {
  since: number;
  routes: Set<string>;
  neighbors: Set<string>;
  sysctls: Set<string>;
  iptables: Record<Table, Set<string>>;
  ip6tables?: Record<Table, Set<string>>;
}

export const routeKey = (r: { family: 4 | 6; dst: string }) => `${r.family}|${r.dst}`;
export const neighborKey = (n: { dev: string; ip: string }) => `${n.dev}|${n.ip}`;
