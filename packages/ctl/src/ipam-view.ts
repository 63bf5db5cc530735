import { formatIp, type IpAddress } from '@tricolor/datastore';
import { affinityNode, type Block, hostCidrOf, ipOf, NODE_HANDLE_PREFIXES, ordinalOf } from '@tricolor/ipam';

/**
 * One allocated address as an operator asks about it: who holds it (handle, pod, node),
 * where it lives (block and its owner) and since when. Read from IPAM's blocks with IPAM's
 * own decoder; the time is the `timestamp` IPAM records in the allocation's attributes.
 */
export interface AllocationView {
  ip: string;
  /** `10.244.1.5/32`: how WorkloadEndpoints and handles name it. */
  hostCidr: string;
  block: string;
  blockOwner: string | null;
  handle: string | null;
  /** calicoctl's TYPE: `pod`, `vxlanTunnelAddress`, … or the `type` attribute. */
  type: string;
  node: string | null;
  namespace: string | null;
  pod: string | null;
  /** ISO time of the allocation; null for allocations written before IPAM recorded it. */
  allocatedAt: string | null;
  /** Held by a node other than the block's owner (or in a block nobody owns). */
  borrowed: boolean;
  attributes: Record<string, string>;
}

const TYPE_OF_PREFIX: Record<string, string> = {
  'vxlan-tunnel-addr-': 'vxlanTunnelAddress',
  'ipip-tunnel-addr-': 'ipipTunnelAddress',
  'wireguard-tunnel-addr-': 'wireguardTunnelAddress',
};

function view(b: Block, ordinal: number): AllocationView | undefined {
  const idx = b.allocations[ordinal];
  if (idx === null || idx === undefined) return undefined;
  const attr = b.attributes[idx];
  const sec = attr?.secondary ?? {};
  const handle = attr?.handleId ?? null;
  const prefix = handle ? NODE_HANDLE_PREFIXES.find((p) => handle.startsWith(p)) : undefined;
  const owner = affinityNode(b.affinity) ?? null;
  const node = sec.node ?? null;
  return {
    ip: ipOf(b, ordinal),
    hostCidr: hostCidrOf(b, ordinal),
    block: b.cidr,
    blockOwner: owner,
    handle,
    type: sec.pod ? 'pod' : prefix ? TYPE_OF_PREFIX[prefix]! : (sec.type ?? ''),
    node,
    namespace: sec.namespace ?? null,
    pod: sec.pod ?? null,
    allocatedAt: sec.timestamp ?? null,
    borrowed: node !== null && node !== owner,
    attributes: { ...sec },
  };
}

/** The allocation of `ip` in these blocks: its block (if any holds the address) and holder. */
export function findAllocation(
  blocks: readonly Block[],
  ip: IpAddress,
): { block?: Block; allocation?: AllocationView } {
  const text = formatIp(ip);
  for (const b of blocks) {
    const o = ordinalOf(b, text);
    if (o === undefined) continue;
    return { block: b, allocation: view(b, o) };
  }
  return {};
}

/**
 * Addresses held by a node other than their block's owner (calicoctl ipam show
 * --show-borrowed), and how many allocations name no node (cannot be classified).
 */
export function borrowedAllocations(blocks: readonly Block[]): {
  borrowed: AllocationView[];
  unclassified: number;
} {
  const borrowed: AllocationView[] = [];
  let unclassified = 0;
  for (const b of blocks) {
    b.allocations.forEach((_, o) => {
      const v = view(b, o);
      if (!v) return;
      if (v.node === null) unclassified++;
      else if (v.borrowed) borrowed.push(v);
    });
  }
  return { borrowed, unclassified };
}
