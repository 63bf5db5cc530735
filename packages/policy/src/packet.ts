import { type IpAddress, type Protocol, parseIp, parseProtocol, protocolNumber } from '@tricolor/datastore';

/** One packet as the evaluator sees it: addresses, IANA protocol number, ports or ICMP type/code. */
export interface Packet {
  source: IpAddress;
  destination: IpAddress;
  protocol: number;
  /** Unknown (an ephemeral port) unless given; a rule matching on source ports then does not match. */
  sourcePort?: number;
  destinationPort?: number;
  icmp?: { type: number; code: number };
}

export const ICMP = 1;
export const ICMPV6 = 58;
const PORTED = new Set([6, 17, 132, 136]);

export const hasPorts = (protocol: number): boolean => PORTED.has(protocol);
export const isIcmp = (protocol: number): boolean => protocol === ICMP || protocol === ICMPV6;

export interface PacketSpec {
  source: string;
  destination: string;
  /** TCP (default), UDP, SCTP, UDPLite, ICMP, ICMPv6 or a number. */
  protocol?: Protocol | string;
  port?: number;
  sourcePort?: number;
  /** ICMP type and code; an echo request (8/0, ICMPv6 128/0) when not given. */
  icmpType?: number;
  icmpCode?: number;
}

/** Builds a packet, checking what a user typed ("TCP to 10.0.0.1 port 80"); throws with a clear message. */
export function makePacket(spec: PacketSpec): Packet {
  const source = parseIp(spec.source);
  if (!source) throw new Error(`source ${JSON.stringify(spec.source)} is not an IP address`);
  const destination = parseIp(spec.destination);
  if (!destination) throw new Error(`destination ${JSON.stringify(spec.destination)} is not an IP address`);
  if (source.family !== destination.family)
    throw new Error(`source ${spec.source} and destination ${spec.destination} are of different IP families`);
  const proto = parseProtocol(spec.protocol ?? 'TCP');
  if (proto === undefined) throw new Error(`protocol ${JSON.stringify(spec.protocol)} is not known`);
  const protocol = protocolNumber(proto);
  const p: Packet = { source, destination, protocol };
  for (const [key, v] of [
    ['port', spec.port],
    ['sourcePort', spec.sourcePort],
  ] as const) {
    if (v === undefined) continue;
    if (!hasPorts(protocol)) throw new Error(`${key}: protocol ${spec.protocol} has no ports`);
    if (!Number.isInteger(v) || v < 0 || v > 65535) throw new Error(`${key}: ${v} is not a port (0-65535)`);
  }
  if (hasPorts(protocol)) {
    if (spec.port === undefined)
      throw new Error(`a ${spec.protocol ?? 'TCP'} packet needs a destination port`);
    p.destinationPort = spec.port;
    if (spec.sourcePort !== undefined) p.sourcePort = spec.sourcePort;
  }
  if (isIcmp(protocol)) {
    if (protocol === ICMP && source.family !== 4)
      throw new Error('ICMP is IPv4; use ICMPv6 for IPv6 addresses');
    if (protocol === ICMPV6 && source.family !== 6)
      throw new Error('ICMPv6 is IPv6; use ICMP for IPv4 addresses');
    p.icmp = { type: spec.icmpType ?? (protocol === ICMP ? 8 : 128), code: spec.icmpCode ?? 0 };
  }
  return p;
}

const NAMES: Record<number, string> = {
  6: 'TCP',
  17: 'UDP',
  1: 'ICMP',
  58: 'ICMPv6',
  132: 'SCTP',
  136: 'UDPLite',
};
export const protocolName = (n: number): string => NAMES[n] ?? String(n);
