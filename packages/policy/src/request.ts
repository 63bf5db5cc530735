import { formatIp, type IpAddress, parseIp } from '@tricolor/datastore';
import { type Explanation, explain } from './evaluate.js';
import type { ModelEndpoint, PolicyModel } from './model.js';
import { makePacket, type PacketSpec } from './packet.js';

/** What `tricolorctl policy explain <ns/pod> <ns/pod|ADDRESS> [--port N] [--protocol P]` asks. */
export interface ExplainRequest extends Omit<PacketSpec, 'source' | 'destination'> {
  /** "namespace/pod" of the source. */
  from: string;
  /** "namespace/pod", or an IP address (inside or outside the cluster). */
  to: string;
}

function endpointOf(model: PolicyModel, ref: string, role: string): ModelEndpoint {
  const e = model.endpoint(ref);
  if (!e) throw new Error(`${role} ${JSON.stringify(ref)}: no such workload endpoint (give namespace/pod)`);
  return e;
}

function addressOf(e: ModelEndpoint, family: 4 | 6 | undefined, role: string): IpAddress {
  const a = family
    ? e.addresses.find((x) => x.family === family)
    : (e.addresses.find((x) => x.family === 4) ?? e.addresses[0]);
  if (!a) throw new Error(`${role} ${e.workload} has no ${family ? `IPv${family} ` : ''}address`);
  return a;
}

/**
 * Resolves pods to their addresses (IPv4 first; the family of an address given as the
 * destination) and explains the packet. Throws with a message naming what is wrong.
 */
export function explainRequest(model: PolicyModel, req: ExplainRequest): Explanation {
  const { from, to, ...rest } = req;
  const source = endpointOf(model, from, 'source');
  const toAddress = parseIp(to);
  const destination = toAddress ?? addressOf(endpointOf(model, to, 'destination'), undefined, 'destination');
  const sourceAddress = addressOf(source, destination.family, 'source');
  return explain(
    model,
    makePacket({ ...rest, source: formatIp(sourceAddress), destination: formatIp(destination) }),
  );
}
