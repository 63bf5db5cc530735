import { formatIp, type PolicyType, type RuleAction } from '@tricolor/datastore';
import { type PacketEnd, ruleMatches } from './match.js';
import type { ModelEndpoint, PolicyModel } from './model.js';
import type { NormalizedPolicy, PolicyRef } from './normalize.js';
import { type Packet, protocolName } from './packet.js';

export type Verdict = 'Allow' | 'Deny';

/** A rule that matched: in a policy or a profile, its index in that direction's rules, its action. */
export interface RuleHit {
  policy?: PolicyRef;
  profile?: string;
  index: number;
  action: RuleAction;
}

/**
 * What decided one direction: a policy's rule (Allow/Deny), a profile's rule (after no policy
 * applied, or after a Pass), or the drop at the end of the policies / the profiles.
 */
export type Decision =
  | { by: 'policy'; rule: RuleHit }
  | { by: 'profile'; rule: RuleHit; passedBy?: RuleHit }
  | { by: 'end-of-policies' }
  | { by: 'end-of-profiles'; passedBy?: RuleHit };

export interface EndpointInfo {
  namespace: string;
  name: string;
  workload: string;
}

export interface DirectionExplanation {
  direction: PolicyType;
  endpoint: EndpointInfo;
  /** The policies that apply to the endpoint for this direction, in evaluation order. */
  policies: (PolicyRef & { order?: number })[];
  profiles: { name: string; absent: boolean }[];
  /** Log rules the packet went through before the decision. */
  logged: RuleHit[];
  decision: Decision;
  verdict: Verdict;
}

export interface PacketEndInfo {
  address: string;
  endpoint?: EndpointInfo;
}

export interface Explanation {
  packet: {
    protocol: string;
    source: string;
    destination: string;
    port?: number;
    icmp?: { type: number; code: number };
  };
  source: PacketEndInfo;
  destination: PacketEndInfo;
  /** The source endpoint's egress (absent when the source is no endpoint of the cluster). */
  egress?: DirectionExplanation;
  /** The destination endpoint's ingress (absent when the destination is no endpoint). */
  ingress?: DirectionExplanation;
  /** Allow only if both directions allow. */
  verdict: Verdict;
}

const endpointInfo = (e: ModelEndpoint): EndpointInfo => ({
  namespace: e.resource.metadata.namespace ?? '',
  name: e.resource.metadata.name,
  workload: e.workload,
});

const refWithOrder = (p: NormalizedPolicy): PolicyRef & { order?: number } =>
  p.order === undefined ? { ...p.ref } : { ...p.ref, order: p.order };

/** Evaluates one direction of one endpoint, as Calico's dataplane does (FORMAT.md 3.1 "Evaluation"). */
export function evaluateDirection(
  model: PolicyModel,
  endpoint: ModelEndpoint,
  direction: PolicyType,
  packet: Packet,
  source: PacketEnd,
  destination: PacketEnd,
): DirectionExplanation {
  const policies = model.activePolicies(endpoint, direction);
  const profiles = endpoint.resource.spec.profiles.map((name) => model.profileRules(name, direction));
  const logged: RuleHit[] = [];
  const done = (decision: Decision, verdict: Verdict): DirectionExplanation => ({
    direction,
    endpoint: endpointInfo(endpoint),
    policies: policies.map(refWithOrder),
    profiles: profiles.map((p) => ({ name: p.name, absent: p.absent })),
    logged,
    decision,
    verdict,
  });
  const matches = (r: Parameters<typeof ruleMatches>[0]) =>
    ruleMatches(r, packet, source, destination, model.selectors);

  let passedBy: RuleHit | undefined;
  policyLoop: for (const p of policies) {
    for (const r of direction === 'Ingress' ? p.ingress : p.egress) {
      if (!matches(r)) continue;
      const hit: RuleHit = { policy: p.ref, index: r.index, action: r.action };
      if (r.action === 'Log') logged.push(hit);
      else if (r.action === 'Pass') {
        passedBy = hit;
        break policyLoop;
      } else return done({ by: 'policy', rule: hit }, r.action);
    }
  }
  if (policies.length > 0 && !passedBy) return done({ by: 'end-of-policies' }, 'Deny');
  for (const prof of profiles) {
    for (const r of prof.rules) {
      if (!matches(r)) continue;
      const hit: RuleHit = { profile: prof.name, index: r.index, action: r.action };
      if (r.action === 'Log') logged.push(hit);
      else if (r.action === 'Pass') break;
      else
        return done(
          passedBy ? { by: 'profile', rule: hit, passedBy } : { by: 'profile', rule: hit },
          r.action,
        );
    }
  }
  return done(passedBy ? { by: 'end-of-profiles', passedBy } : { by: 'end-of-profiles' }, 'Deny');
}

/**
 * The whole story of one packet: the source endpoint's egress, the destination endpoint's
 * ingress (each only for an endpoint of the cluster), and the verdict. What
 * `tricolorctl policy explain` prints, and what the conformance model checks the cases with.
 */
export function explain(model: PolicyModel, packet: Packet): Explanation {
  const srcEndpoint = model.endpointByAddress(packet.source);
  const dstEndpoint = model.endpointByAddress(packet.destination);
  const source: PacketEnd = { address: packet.source, endpoint: srcEndpoint, port: packet.sourcePort };
  const destination: PacketEnd = {
    address: packet.destination,
    endpoint: dstEndpoint,
    port: packet.destinationPort,
  };
  const out: Explanation = {
    packet: {
      protocol: protocolName(packet.protocol),
      source: formatIp(packet.source),
      destination: formatIp(packet.destination),
    },
    source: { address: formatIp(packet.source) },
    destination: { address: formatIp(packet.destination) },
    verdict: 'Allow',
  };
  if (packet.destinationPort !== undefined) out.packet.port = packet.destinationPort;
  if (packet.icmp) out.packet.icmp = { ...packet.icmp };
  if (srcEndpoint) {
    out.source.endpoint = endpointInfo(srcEndpoint);
    out.egress = evaluateDirection(model, srcEndpoint, 'Egress', packet, source, destination);
  }
  if (dstEndpoint) {
    out.destination.endpoint = endpointInfo(dstEndpoint);
    out.ingress = evaluateDirection(model, dstEndpoint, 'Ingress', packet, source, destination);
  }
  out.verdict = out.egress?.verdict === 'Deny' || out.ingress?.verdict === 'Deny' ? 'Deny' : 'Allow';
  return out;
}
