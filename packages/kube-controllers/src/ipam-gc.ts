/**
 * IPAM garbage collection by pod identity: an address whose pod no longer exists in
 * Kubernetes is a candidate; a candidate still a candidate after the grace period is
 * released (by its handle, so an address handed to a new pod meanwhile is never touched).
 * The pod is judged by UID where the CNI plugin recorded one — a pod deleted and re-created
 * under the same name does not keep its predecessor's address alive — and by
 * namespace/name for allocations written before UIDs were recorded.
 */
import { type Datastore, ipamKeys, type KeyValueStore } from '@tricolor/datastore';
import { allocationsOf, hostCidrOf, nodeOfHandle, tryDecodeBlock } from '@tricolor/ipam';

export interface Allocation {
  ip: string;
  block: string;
  handle: string;
  namespace?: string;
  pod?: string;
  podUID?: string;
  node?: string;
  /** When IPAM assigned it (ISO time). */
  timestamp?: string;
}

export interface LivePods {
  uids: ReadonlySet<string>;
  /** "namespace/name" */
  names: ReadonlySet<string>;
}

export interface GcJudgement {
  /** Allocations whose pod is gone (including those released now). */
  candidates: Allocation[];
  /** Candidates past the grace period: release their handles now. */
  release: Allocation[];
  /** Candidate key → first time seen as a candidate (ms); carry into the next round. */
  firstSeen: Map<string, number>;
}

const keyOf = (a: Allocation) => `${a.handle}|${a.ip}`;

/** Which allocations belong to no live pod, and which of them have been so for longer than `graceMs`. */
export function judgeAllocations(
  allocations: readonly Allocation[],
  pods: LivePods,
  now: number,
  graceMs: number,
  previous: ReadonlyMap<string, number> = new Map(),
): GcJudgement {
  const candidates: Allocation[] = [];
  const release: Allocation[] = [];
  const firstSeen = new Map<string, number>();
  for (const a of allocations) {
    // Tunnel addresses belong to nodes (released when the node goes), other handles are not pods'.
    if (nodeOfHandle(a.handle) !== undefined) continue;
    if (!a.namespace || !a.pod) continue;
    const live = a.podUID ? pods.uids.has(a.podUID) : pods.names.has(`${a.namespace}/${a.pod}`);
    if (live) continue;
    candidates.push(a);
    const k = keyOf(a);
    const since = previous.get(k) ?? now;
    firstSeen.set(k, since);
    const assigned = a.timestamp ? Date.parse(a.timestamp) : Number.NaN;
    const oldEnough = !Number.isFinite(assigned) || now - assigned >= graceMs;
    if (now - since >= graceMs && oldEnough) release.push(a);
  }
  return { candidates, release, firstSeen };
}

/** Every allocation in IPAM (both families), from one read per family. */
export async function listAllocations(ds: Datastore<KeyValueStore>): Promise<Allocation[]> {
  const out: Allocation[] = [];
  for (const family of [4, 6] as const) {
    const { items } = await ds.kv.list(ipamKeys.blocksPrefix(ds.prefix, family));
    for (const v of items) {
      const b = tryDecodeBlock(v.value);
      if (!b) continue;
      for (const { ordinal, attr } of allocationsOf(b)) {
        if (!attr?.handleId) continue;
        const s = attr.secondary;
        out.push({
          ip: hostCidrOf(b, ordinal),
          block: b.cidr,
          handle: attr.handleId,
          namespace: s.namespace,
          pod: s.pod,
          podUID: s.podUID,
          node: s.node,
          timestamp: s.timestamp,
        });
      }
    }
  }
  return out;
}
