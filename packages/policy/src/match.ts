import { type IcmpMatch, type Port, parsePort, protocolNumber } from '@tricolor/datastore';
import { inNets, type ModelEndpoint } from './model.js';
import type { NormalizedRule, NormalizedSide } from './normalize.js';
import { hasPorts, isIcmp, type Packet } from './packet.js';
import type { SelectorCache } from './selector-cache.js';

/** One end of a packet: its address and the endpoint that has it, if any. */
export interface PacketEnd {
  address: Packet['source'];
  endpoint?: ModelEndpoint;
  port?: number;
}

/**
 * A port list against a packet's port; a named port is resolved on the endpoint at that end
 * (Calico resolves it on the endpoints its side selects): it matches when that endpoint has a
 * container port of that name, of the packet's protocol, equal to the packet's port.
 */
function portInList(ports: readonly Port[], end: PacketEnd, protocol: number): boolean {
  if (end.port === undefined) return false;
  const port = end.port;
  return ports.some((p) => {
    const parsed = parsePort(p);
    if (!parsed) return false;
    if ('min' in parsed) return port >= parsed.min && port <= parsed.max;
    return (end.endpoint?.resource.spec.ports ?? []).some(
      (np) => np.name === parsed.name && protocolNumber(np.protocol) === protocol && np.port === port,
    );
  });
}

function sideMatches(
  side: NormalizedSide,
  end: PacketEnd,
  protocol: number,
  selectors: SelectorCache,
): boolean {
  if (side.nets && !inNets(end.address, side.nets)) return false;
  if (side.notNets && inNets(end.address, side.notNets)) return false;
  if (side.selector !== undefined && !(end.endpoint && selectors.matches(side.selector, end.endpoint.labels)))
    return false;
  if (
    side.notSelector !== undefined &&
    end.endpoint &&
    selectors.matches(side.notSelector, end.endpoint.labels)
  )
    return false;
  if (side.ports && !(hasPorts(protocol) && portInList(side.ports, end, protocol))) return false;
  if (
    side.notPorts &&
    !(hasPorts(protocol) && end.port !== undefined && !portInList(side.notPorts, end, protocol))
  )
    return false;
  return true;
}

function icmpMatches(m: IcmpMatch, packet: Packet): boolean {
  if (!packet.icmp) return false;
  if (m.type !== undefined && m.type !== packet.icmp.type) return false;
  return m.code === undefined || m.code === packet.icmp.code;
}

/** Whether every criterion the rule gives holds for the packet (source and destination ends given). */
export function ruleMatches(
  rule: NormalizedRule,
  packet: Packet,
  source: PacketEnd,
  destination: PacketEnd,
  selectors: SelectorCache,
): boolean {
  if (rule.ipVersion !== undefined && rule.ipVersion !== packet.source.family) return false;
  if (rule.protocol !== undefined && rule.protocol !== packet.protocol) return false;
  if (rule.notProtocol !== undefined && rule.notProtocol === packet.protocol) return false;
  if (rule.icmp && !(isIcmp(packet.protocol) && icmpMatches(rule.icmp, packet))) return false;
  if (rule.notICMP && isIcmp(packet.protocol) && icmpMatches(rule.notICMP, packet)) return false;
  return (
    sideMatches(rule.source, source, packet.protocol, selectors) &&
    sideMatches(rule.destination, destination, packet.protocol, selectors)
  );
}
