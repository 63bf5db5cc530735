import { parseIp } from '../net/ip.js';
import { selectorProblem } from '../selector.js';
import { type BGPPassword, bgpPassword } from './bgp-password.js';
import { AS_RANGE, Fields } from './fields.js';
import { checkEnvelope, compact, type Resource } from './resource.js';

export interface BGPPeerSpec {
  /** Peer address, optionally with port: "192.0.2.1", "192.0.2.1:1790", "[2001:db8::1]:179". Empty with peerSelector. */
  peerIP?: string;
  asNumber?: number;
  /** Only this node of ours peers (empty with nodeSelector: every node matching it; neither: all nodes). */
  node?: string;
  nodeSelector?: string;
  /** Peer with every one of our nodes matching this (e.g. route reflectors), at their BGP address. */
  peerSelector?: string;
  /** TCP MD5 (RFC 2385): `{secretKeyRef: {name, key}}` (Calico's shape) or the password itself. */
  password?: BGPPassword;
  keepOriginalNextHop: boolean;
}
export type BGPPeer = Resource<'BGPPeer', BGPPeerSpec>;

/** Splits "ip", "ip:port" or "[v6]:port"; undefined when malformed. */
export function parsePeerAddress(s: string): { ip: string; port?: number } | undefined {
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(s);
  if (bracket) {
    if (!parseIp(bracket[1]!)) return undefined;
    return bracket[2] ? { ip: bracket[1]!, port: Number(bracket[2]) } : { ip: bracket[1]! };
  }
  if (parseIp(s)) return { ip: s };
  const v4port = /^([\d.]+):(\d+)$/.exec(s);
  if (v4port && parseIp(v4port[1]!)?.family === 4) return { ip: v4port[1]!, port: Number(v4port[2]) };
  return undefined;
}

export function validateBGPPeer(raw: unknown): BGPPeer {
  const f = new Fields('BGPPeer', raw);
  const metadata = checkEnvelope(f, 'BGPPeer', false);
  const peerIP = f.string('spec.peerIP');
  if (peerIP !== undefined) {
    const p = parsePeerAddress(peerIP);
    if (!p) f.fail('spec.peerIP', `${JSON.stringify(peerIP)} is not an IP address (optionally with :port)`);
    else if (p.port !== undefined && (p.port < 1 || p.port > 65535))
      f.fail('spec.peerIP', `port ${p.port} is out of range`);
  }
  const peerSelector = f.string('spec.peerSelector');
  const nodeSelector = f.string('spec.nodeSelector');
  for (const [path, sel] of [
    ['spec.peerSelector', peerSelector],
    ['spec.nodeSelector', nodeSelector],
  ] as const) {
    const problem = sel === undefined ? undefined : selectorProblem(sel);
    if (problem) f.fail(path, `${JSON.stringify(sel)} ${problem}`);
  }
  if (!peerIP && !peerSelector) f.fail('spec.peerIP', 'is required unless spec.peerSelector is set');
  if (peerIP && peerSelector) f.fail('spec.peerSelector', 'cannot be set together with spec.peerIP');
  const node = f.string('spec.node');
  if (node && nodeSelector) f.fail('spec.nodeSelector', 'cannot be set together with spec.node');
  const asNumber = f.integer('spec.asNumber', AS_RANGE);
  if (peerIP && asNumber === undefined) f.fail('spec.asNumber', 'is required with spec.peerIP');
  const spec = compact<BGPPeerSpec>({
    peerIP,
    asNumber,
    node,
    nodeSelector,
    peerSelector,
    password: bgpPassword(f, 'spec.password'),
    keepOriginalNextHop: f.boolean('spec.keepOriginalNextHop') ?? false,
  });
  f.done();
  return { kind: 'BGPPeer', apiVersion: 'tricolor.dev/v1', metadata, spec };
}
