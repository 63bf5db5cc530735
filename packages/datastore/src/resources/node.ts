import { parseCidr } from '../net/ip.js';
import { AS_RANGE, Fields } from './fields.js';
import { checkEnvelope, compact, type Resource } from './resource.js';

export interface NodeBGPSpec {
  /** The node's IPv4 address with prefix length, e.g. "192.168.26.105/24"; also the router id. */
  ipv4Address?: string;
  ipv6Address?: string;
  /** Overrides BGPConfiguration.asNumber for this node. */
  asNumber?: number;
  /** Set on route reflectors; nodes with it leave the full mesh. */
  routeReflectorClusterID?: string;
}

export interface NodeSpec {
  bgp?: NodeBGPSpec;
  /** The VXLAN tunnel endpoint of the node, written by felix when VXLAN is on. */
  vxlanTunnelAddress?: string;
  vxlanTunnelMACAddr?: string;
  ipv4IPIPTunnelAddr?: string;
}

export interface NodeStatus {
  /** felix writes `ready` when it changes; `lastConvergedAt` is read for Nodes older felixes reported on. */
  felix?: { ready: boolean; lastConvergedAt?: string; version?: string };
  bird?: { ready: boolean; establishedPeers?: number; configuredPeers?: number };
}

export type Node = Resource<'Node', NodeSpec, NodeStatus>;

function ifaceAddress(f: Fields, path: string, family: 4 | 6): string | undefined {
  const s = f.string(path);
  if (s === undefined) return undefined;
  const c = parseCidr(s);
  if (!c || c.family !== family || !s.includes('/')) {
    return f.fail(
      path,
      `${JSON.stringify(s)} is not an IPv${family} address with prefix length (like ${family === 4 ? '192.168.1.5/24' : 'fd00::5/64'})`,
    );
  }
  return s;
}

export function validateNode(raw: unknown): Node {
  const f = new Fields('Node', raw);
  const metadata = checkEnvelope(f, 'Node', false);
  const bgpObj = f.object('spec.bgp');
  let bgp: NodeBGPSpec | undefined;
  if (bgpObj) {
    bgp = compact<NodeBGPSpec>({
      ipv4Address: ifaceAddress(f, 'spec.bgp.ipv4Address', 4),
      ipv6Address: ifaceAddress(f, 'spec.bgp.ipv6Address', 6),
      asNumber: f.integer('spec.bgp.asNumber', AS_RANGE),
      routeReflectorClusterID: f.string('spec.bgp.routeReflectorClusterID', {
        pattern: /^(\d{1,3}\.){3}\d{1,3}$/,
        patternText: 'an IPv4-style cluster id (like 244.0.0.1)',
      }),
    });
  }
  const spec = compact<NodeSpec>({
    bgp,
    vxlanTunnelAddress: f.ip('spec.vxlanTunnelAddress'),
    vxlanTunnelMACAddr: f.string('spec.vxlanTunnelMACAddr', { pattern: MAC, patternText: 'a MAC address' }),
    ipv4IPIPTunnelAddr: f.ip('spec.ipv4IPIPTunnelAddr'),
  });
  const status = f.object('status') as NodeStatus | undefined;
  f.opaque('status');
  f.done();
  const node: Node = { kind: 'Node', apiVersion: 'tricolor.dev/v1', metadata, spec };
  if (status) node.status = status;
  return node;
}

export const MAC = /^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/;

/**
 * What of a Node other components act on: everything but `status`, which is each node's own
 * daemons reporting on themselves. A watcher that skips updates whose input is unchanged
 * keeps one felix's status write from waking every daemon of the cluster (with felix
 * reporting after each apply, every write caused an apply and a write on every node: a
 * cluster-wide loop, O(nodes²) events while idle).
 */
export function nodeInput(n: Node): string {
  // resourceVersion is the write's revision: new on every write, status-only or not.
  const { resourceVersion: _revision, ...metadata } = n.metadata;
  return JSON.stringify({ metadata, spec: n.spec });
}

/** Tells a watcher of Nodes which events change some node's input (`nodeInput`). */
export class NodeInputChanges {
  private readonly inputs = new Map<string, string>();

  /** Whether this put (a Node) or delete (undefined) changes the input last seen at `key`. */
  changed(key: string, node: Node | undefined): boolean {
    const input = node ? nodeInput(node) : undefined;
    if (input === this.inputs.get(key)) return false;
    if (input === undefined) this.inputs.delete(key);
    else this.inputs.set(key, input);
    return true;
  }
}
