/**
 * Peers from the datastore, pure: Nodes + BGPConfiguration + BGPPeers + this node → peers.
 * - Full mesh (nodeToNodeMeshEnabled) between nodes without routeReflectorClusterID.
 *   Both sides of every pair connect (as BIRD and GoBGP do by default): a node that starts
 *   or joins reaches every peer itself as soon as it listens, whatever the peers' retry
 *   timers; the two connections of a pair that start together are resolved on their OPENs
 *   (RFC 4271 §6.8, session/collision.ts). Calico's templates make the mesh one-way (the
 *   lower address passive) to dodge BIRD treating the second connection as a restart; that
 *   left a joining node waiting for the higher peers' connect-retry timers.
 * - A route reflector waits for its clients (passive towards them): a client that starts
 *   or joins connects at once, a restarted reflector is reached by every client within its
 *   connect-retry, and no reflector connection can cross a client's — BIRD takes a second
 *   connection accepted while Established for a restart and drops the session.
 * - BGPPeer with peerIP: applies to `node`, or nodes matching `nodeSelector`, or all nodes.
 * - BGPPeer with peerSelector: every matching node (at its BGP address), e.g. route
 *   reflectors; a reflector peering with non-reflector nodes marks them rr-client.
 * - Passwords (TCP MD5): nodeMeshPassword signs every mesh session, a BGPPeer's password
 *   the sessions it makes. One that cannot be read leaves those sessions out, with an
 *   error naming the resource — never started unsigned.
 */
import {
  type BGPConfigurationSpec,
  type BGPPassword,
  type BGPPeer,
  compileSelector,
  type Node,
  parsePeerAddress,
} from '@tricolor/datastore';
import { DEFAULT_SECRETS_DIR, resolvePassword } from './password.js';
import type { PeerSpec } from './types.js';

const ip = (cidr: string | undefined) => cidr?.split('/')[0];

export interface NodeBgp {
  name: string;
  address: string;
  as: number;
  clusterId: string | undefined;
  labels: Record<string, string>;
}

export function nodeBgp(n: Node, defaultAs: number): NodeBgp | undefined {
  const address = ip(n.spec.bgp?.ipv4Address);
  if (!address) return undefined;
  return {
    name: n.metadata.name,
    address,
    as: n.spec.bgp?.asNumber ?? defaultAs,
    clusterId: n.spec.bgp?.routeReflectorClusterID,
    labels: (n.metadata as { labels?: Record<string, string> }).labels ?? {},
  };
}

export function peersFromResources(
  me: string,
  nodes: readonly Node[],
  cfg: BGPConfigurationSpec,
  bgpPeers: readonly BGPPeer[],
  warn: (message: string) => void = () => undefined,
  /** A password field's text (throws why it cannot be had); etcd mode reads Secrets from files. */
  password: (field: string, p: BGPPassword) => string = (field, p) =>
    resolvePassword(field, p, DEFAULT_SECRETS_DIR),
): PeerSpec[] {
  const all = nodes.map((n) => nodeBgp(n, cfg.asNumber)).filter((n): n is NodeBgp => n !== undefined);
  const self = all.find((n) => n.name === me);
  if (!self) return [];
  const out = new Map<string, PeerSpec>();
  const add = (p: PeerSpec) => {
    if (p.address !== self.address && !out.has(p.address)) out.set(p.address, p);
  };
  const base = { holdTime: cfg.holdTime, keepaliveTime: cfg.keepaliveTime };
  // A password that cannot be had leaves its sessions out: unsigned would drop the
  // authentication the operator asked for.
  const signing = (owner: string, field: string, p: BGPPassword | undefined) => {
    if (p === undefined) return {};
    try {
      return { password: password(field, p) };
    } catch (e) {
      warn(`${owner}: ${(e as Error).message}; its sessions are not started`);
      return undefined;
    }
  };
  const mesh = signing('BGPConfiguration default', 'spec.nodeMeshPassword', cfg.nodeMeshPassword);
  if (cfg.nodeToNodeMeshEnabled && !self.clusterId && mesh) {
    for (const n of all) {
      if (n.name === me || n.clusterId) continue;
      add({
        ...base,
        ...mesh,
        address: n.address,
        as: n.as,
        name: `Mesh_${n.address.replace(/\./g, '_')}`,
      });
    }
  }
  const signed = new Map<BGPPeer, { password?: string }>();
  bgpPeers = bgpPeers.filter((bp) => {
    if (bp.spec.keepOriginalNextHop)
      warn(`BGPPeer ${bp.metadata.name}: keepOriginalNextHop is not supported; next hops are set as usual`);
    const sig = signing(`BGPPeer ${bp.metadata.name}`, 'spec.password', bp.spec.password);
    if (sig) signed.set(bp, sig);
    return sig !== undefined;
  });
  for (const bp of bgpPeers) {
    const s = bp.spec;
    const sig = signed.get(bp)!;
    if (s.node && s.node !== me) continue;
    if (s.nodeSelector && !compileSelector(s.nodeSelector)(self.labels)) continue;
    if (s.peerIP) {
      const pa = parsePeerAddress(s.peerIP);
      if (pa)
        add({
          ...base,
          ...sig,
          address: pa.ip,
          port: pa.port,
          as: s.asNumber,
          name: `Node_${pa.ip.replace(/[.:]/g, '_')}`,
        });
      continue;
    }
    if (!s.peerSelector) continue;
    const sel = compileSelector(s.peerSelector);
    for (const n of all) {
      if (n.name === me || !sel(n.labels)) continue;
      // Between a reflector and a non-reflector, the non-reflector is the client.
      const rrClient = !!self.clusterId && !n.clusterId;
      add({
        ...base,
        ...sig,
        address: n.address,
        as: n.as,
        name: `Node_${n.address.replace(/\./g, '_')}`,
        rrClient,
        ...(rrClient ? { passive: true } : {}),
      });
    }
  }
  // A reflector also serves the nodes that peer with it through a selector matching it.
  if (self.clusterId) {
    for (const bp of bgpPeers) {
      const s = bp.spec;
      if (!s.peerSelector || !compileSelector(s.peerSelector)(self.labels)) continue;
      for (const n of all) {
        if (n.name === me || n.clusterId) continue;
        if (s.node && s.node !== n.name) continue;
        if (s.nodeSelector && !compileSelector(s.nodeSelector)(n.labels)) continue;
        add({
          ...base,
          ...signed.get(bp)!,
          address: n.address,
          as: n.as,
          name: `Node_${n.address.replace(/\./g, '_')}`,
          rrClient: true,
          passive: true,
        });
      }
    }
  }
  return [...out.values()].sort((a, b) => (a.address < b.address ? -1 : 1));
}
