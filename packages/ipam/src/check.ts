import type { AffinityEntry } from '@tricolor/contract';
import { cidrContains, formatCidr, type IPPool, parseCidr, type WorkloadEndpoint } from '@tricolor/datastore';
import {
  affinityNode,
  allocationsOf,
  type Block,
  type BlockAttribute,
  blockProblems,
  handleCounts,
  hostCidrOf,
  isEmpty,
} from './block.js';
import { containerOfHandle, type Handle, nodeOfHandle } from './handle.js';

/**
 * The consistency check as a pure function of one snapshot of IPAM state plus the Node,
 * WorkloadEndpoint and IPPool resources. The adapter reads the snapshot; `repair` acts on
 * the problems one compare-and-swap at a time.
 */
export type ProblemKind =
  /** A block's allocations, unallocated list and attributes disagree. */
  | 'block-inconsistent'
  /** A block value that cannot be decoded at all (not repaired: needs an operator). */
  | 'block-unreadable'
  /** An allocation whose workload (or, for tunnel addresses, node) no longer exists. */
  | 'leaked-address'
  /** A WorkloadEndpoint none of whose addresses is allocated to it (felix would route a freed or reused address). */
  | 'ghost-endpoint'
  /** A handle's per-block counts disagree with the allocations carrying it. */
  | 'handle-mismatch'
  /** A handle record no allocation refers to. */
  | 'orphan-handle'
  /** A claim that never finished (crash between its steps). */
  | 'pending-affinity'
  /** A release that never finished. */
  | 'pending-deletion-affinity'
  /** A confirmed affinity whose block is missing or owned by another node. */
  | 'affinity-without-block'
  /** A block affine to an existing node that has no affinity record for it. */
  | 'block-without-affinity'
  /** An affinity (or block affinity) of a node that no longer exists. */
  | 'stale-node-affinity'
  /** A block with no owner and no allocation: should have been deleted. */
  | 'empty-unaffined-block'
  /** A block that lies in no IPPool (its pool was deleted); reported, never repaired. */
  | 'block-outside-pools';

export interface Problem {
  kind: ProblemKind;
  message: string;
  block?: string;
  ip?: string;
  handle?: string;
  node?: string;
  /** For handle-mismatch: the counts the handle should hold. */
  expected?: Record<string, number>;
  /** For ghost-endpoint: the endpoint as the check saw it (repair deletes only that version). */
  endpoint?: { namespace: string; name: string; resourceVersion?: string };
  repairable: boolean;
}

export interface CheckReport {
  ok: boolean;
  /** The etcd revision the snapshot reflects. */
  revision: string;
  summary: {
    blocks: number;
    allocations: number;
    handles: number;
    affinities: number;
    nodes: number;
    workloadEndpoints: number;
  };
  problems: Problem[];
}

export interface SnapshotBlock {
  key: string;
  cidr: string;
  block: Block | undefined;
}

export interface IpamSnapshot {
  revision: string;
  blocks: SnapshotBlock[];
  affinities: AffinityEntry[];
  handles: { id: string; handle: Handle }[];
  nodes: ReadonlySet<string>;
  workloads: readonly WorkloadEndpoint[];
  /**
   * The blocks read again after the workloads. A CNI ADD writes the address before the
   * endpoint, so an endpoint listed earlier has its address in this later read unless it was
   * released since: endpoints are judged against these (default: `blocks`), allocations
   * against the workloads read after `blocks`. Neither judgement can then see a pod that is
   * merely half-way through its ADD.
   */
  blocksAfterWorkloads?: SnapshotBlock[];
  pools: readonly IPPool[];
  /** Clock of the check (ms since the epoch) and how young an allocation may be and still lack its endpoint. */
  now?: number;
  leakGraceMs?: number;
}

/**
 * A CNI ADD assigns the address first and writes the WorkloadEndpoint a moment later; an
 * allocation younger than the grace period is never called leaked, so a repair running
 * beside pod creation (the chart's periodic GC) cannot free an address a pod is about to use.
 */
export const DEFAULT_LEAK_GRACE_MS = 10 * 60_000;

function withinGrace(s: IpamSnapshot, timestamp: string | undefined): boolean {
  const grace = s.leakGraceMs ?? DEFAULT_LEAK_GRACE_MS;
  if (grace <= 0 || !timestamp) return false;
  const t = Date.parse(timestamp);
  return Number.isFinite(t) && (s.now ?? Date.now()) - t < grace;
}

export function checkSnapshot(s: IpamSnapshot): CheckReport {
  const problems: Problem[] = [];
  const containerIds = new Set<string>();
  const pods = new Set<string>();
  for (const w of s.workloads) {
    if (w.spec.containerID) containerIds.add(w.spec.containerID);
    if (w.spec.pod && w.metadata.namespace) pods.add(`${w.metadata.namespace}/${w.spec.pod}`);
    if (w.spec.workload) pods.add(w.spec.workload);
  }
  const poolCidrs = s.pools.map((p) => parseCidr(p.spec.cidr)).filter((c) => c !== undefined);
  const affinityByBlock = new Map<string, AffinityEntry[]>();
  for (const a of s.affinities) {
    const list = affinityByBlock.get(a.block) ?? [];
    list.push(a);
    affinityByBlock.set(a.block, list);
  }
  /** handle → block → actual count */
  const actual = new Map<string, Map<string, number>>();
  let allocations = 0;
  const blocksByCidr = new Map<string, Block>();

  for (const sb of s.blocks) {
    const b = sb.block;
    if (!b) {
      problems.push({
        kind: 'block-unreadable',
        block: sb.cidr,
        message: `block ${sb.cidr}: the stored value cannot be decoded`,
        repairable: false,
      });
      continue;
    }
    blocksByCidr.set(b.cidr, b);
    const c = parseCidr(b.cidr)!;
    if (!poolCidrs.some((p) => cidrContains(p, c))) {
      problems.push({
        kind: 'block-outside-pools',
        block: b.cidr,
        message: `block ${b.cidr} lies in no IPPool (was its pool deleted?)`,
        repairable: false,
      });
    }
    const bp = blockProblems(b);
    if (bp.length > 0) {
      problems.push({
        kind: 'block-inconsistent',
        block: b.cidr,
        message: `block ${b.cidr}: ${bp.slice(0, 5).join('; ')}${bp.length > 5 ? ` (+${bp.length - 5} more)` : ''}`,
        repairable: true,
      });
    }
    for (const [h, n] of handleCounts(b)) {
      if (h === '') continue;
      const m = actual.get(h) ?? new Map<string, number>();
      m.set(b.cidr, n);
      actual.set(h, m);
    }
    for (const { ordinal, attr } of allocationsOf(b)) {
      allocations++;
      const handle = attr?.handleId ?? null;
      if (handle === null) continue;
      const ip = hostCidrOf(b, ordinal);
      const owner = nodeOfHandle(handle);
      if (owner !== undefined) {
        if (!s.nodes.has(owner)) {
          problems.push({
            kind: 'leaked-address',
            ip,
            block: b.cidr,
            handle,
            node: owner,
            message: `${ip} (handle ${handle}) belongs to node ${owner}, which does not exist (no Node resource)`,
            repairable: true,
          });
        }
        continue;
      }
      const container = containerOfHandle(handle);
      const ns = attr?.secondary.namespace;
      const pod = attr?.secondary.pod;
      const judged = container !== undefined || (ns !== undefined && pod !== undefined);
      if (!judged || withinGrace(s, attr?.secondary.timestamp)) continue;
      const live =
        (container !== undefined && containerIds.has(container)) ||
        (ns !== undefined && pod !== undefined && pods.has(`${ns}/${pod}`));
      if (!live) {
        problems.push({
          kind: 'leaked-address',
          ip,
          block: b.cidr,
          handle,
          message: `${ip} (handle ${handle}${ns && pod ? `, pod ${ns}/${pod}` : ''}) has no WorkloadEndpoint`,
          repairable: true,
        });
      }
    }

    // Ownership as the block records it.
    const owner = affinityNode(b.affinity);
    const affs = affinityByBlock.get(b.cidr) ?? [];
    if (owner === undefined) {
      if (isEmpty(b)) {
        problems.push({
          kind: 'empty-unaffined-block',
          block: b.cidr,
          message: `block ${b.cidr} has no owner and no allocation`,
          repairable: true,
        });
      }
    } else if (!s.nodes.has(owner)) {
      if (!affs.some((a) => a.node === owner)) {
        problems.push({
          kind: 'stale-node-affinity',
          block: b.cidr,
          node: owner,
          message: `block ${b.cidr} is affine to node ${owner}, which does not exist (no Node resource)`,
          repairable: true,
        });
      }
    } else if (!affs.some((a) => a.node === owner)) {
      problems.push({
        kind: 'block-without-affinity',
        block: b.cidr,
        node: owner,
        message: `block ${b.cidr} is affine to ${owner} but ${owner} has no affinity record for it`,
        repairable: true,
      });
    }
  }

  for (const a of s.affinities) {
    const b = blocksByCidr.get(a.block);
    if (!s.nodes.has(a.node)) {
      problems.push({
        kind: 'stale-node-affinity',
        block: a.block,
        node: a.node,
        message: `node ${a.node} does not exist (no Node resource) but holds a ${a.state} affinity for ${a.block}`,
        repairable: true,
      });
      continue;
    }
    if (a.state === 'pending') {
      problems.push({
        kind: 'pending-affinity',
        block: a.block,
        node: a.node,
        message: `claim of ${a.block} by ${a.node} never finished (affinity still pending)`,
        repairable: true,
      });
    } else if (a.state === 'pendingDeletion') {
      problems.push({
        kind: 'pending-deletion-affinity',
        block: a.block,
        node: a.node,
        message: `release of ${a.block} by ${a.node} never finished (affinity pendingDeletion)`,
        repairable: true,
      });
    } else if (!b || affinityNode(b.affinity) !== a.node) {
      problems.push({
        kind: 'affinity-without-block',
        block: a.block,
        node: a.node,
        message: b
          ? `${a.node} has a confirmed affinity for ${a.block}, but the block belongs to ${b.affinity ?? 'nobody'}`
          : `${a.node} has a confirmed affinity for ${a.block}, but the block does not exist`,
        repairable: true,
      });
    }
  }

  const recorded = new Map(s.handles.map((h) => [h.id, h.handle]));
  for (const { id, handle } of s.handles) {
    const act = actual.get(id);
    if (!act || act.size === 0) {
      problems.push({
        kind: 'orphan-handle',
        handle: id,
        message: `handle ${id} records ${JSON.stringify(handle.block)} but no allocation carries it`,
        expected: {},
        repairable: true,
      });
      continue;
    }
    const expected = Object.fromEntries(act);
    if (!sameCounts(handle.block, expected)) {
      problems.push({
        kind: 'handle-mismatch',
        handle: id,
        message: `handle ${id} records ${JSON.stringify(handle.block)}, the blocks hold ${JSON.stringify(expected)}`,
        expected,
        repairable: true,
      });
    }
  }
  for (const [id, act] of actual) {
    if (recorded.has(id)) continue;
    const expected = Object.fromEntries(act);
    problems.push({
      kind: 'handle-mismatch',
      handle: id,
      message: `handle ${id} has no record, the blocks hold ${JSON.stringify(expected)}`,
      expected,
      repairable: true,
    });
  }

  problems.push(...ghostEndpoints(s));

  return {
    ok: problems.length === 0,
    revision: s.revision,
    summary: {
      blocks: s.blocks.length,
      allocations,
      handles: s.handles.length,
      affinities: s.affinities.length,
      nodes: s.nodes.size,
      workloadEndpoints: s.workloads.length,
    },
    problems,
  };
}

/** The host CIDR text of an address in any notation ("10.0.0.1", "10.0.0.1/32", "fd00::1/128"). */
function hostKey(ip: string): string {
  const c = parseCidr(ip);
  return c ? formatCidr({ ...c, prefixLength: c.family === 4 ? 32 : 128 }) : ip;
}

/** Whether an allocation is the endpoint's: by container id when both carry one, else by pod. */
function allocationBelongsTo(attr: BlockAttribute, w: WorkloadEndpoint): boolean {
  const container = attr.handleId ? containerOfHandle(attr.handleId) : undefined;
  if (container !== undefined && w.spec.containerID) return container === w.spec.containerID;
  const ns = attr.secondary.namespace;
  const pod = attr.secondary.pod;
  if (ns === undefined || pod === undefined) return false;
  return (
    (w.metadata.namespace === ns && w.spec.pod === pod) ||
    (w.spec.workload !== undefined && w.spec.workload === `${ns}/${pod}`)
  );
}

/** Endpoints none of whose addresses IPAM holds for them (after the grace period). */
function ghostEndpoints(s: IpamSnapshot): Problem[] {
  const byIp = new Map<string, BlockAttribute>();
  for (const sb of s.blocksAfterWorkloads ?? s.blocks) {
    if (!sb.block) continue;
    for (const { ordinal, attr } of allocationsOf(sb.block))
      if (attr) byIp.set(hostCidrOf(sb.block, ordinal), attr);
  }
  const out: Problem[] = [];
  for (const w of s.workloads) {
    const nets = w.spec.ipNetworks ?? [];
    if (nets.length === 0 || withinGrace(s, w.metadata.creationTimestamp)) continue;
    const held = nets.map((n) => ({ ip: hostKey(n), attr: byIp.get(hostKey(n)) }));
    if (held.some((h) => h.attr && allocationBelongsTo(h.attr, w))) continue;
    const why = held
      .map(({ ip, attr }) =>
        attr
          ? `${ip} is allocated to handle ${attr.handleId ?? '(none)'}${attr.secondary.pod ? ` (pod ${attr.secondary.namespace}/${attr.secondary.pod})` : ''}`
          : `${ip} is not allocated`,
      )
      .join(', ');
    const ns = w.metadata.namespace ?? '';
    out.push({
      kind: 'ghost-endpoint',
      ip: held[0]!.ip,
      node: w.spec.node,
      endpoint: { namespace: ns, name: w.metadata.name, resourceVersion: w.metadata.resourceVersion },
      message: `WorkloadEndpoint ${ns}/${w.metadata.name} (pod ${w.spec.workload}${w.spec.containerID ? `, container ${w.spec.containerID}` : ''}, node ${w.spec.node}) has no allocation: ${why}`,
      repairable: true,
    });
  }
  return out;
}

function sameCounts(a: Record<string, number>, b: Record<string, number>): boolean {
  const ka = Object.keys(a).filter((k) => a[k]! > 0);
  const kb = Object.keys(b).filter((k) => b[k]! > 0);
  return ka.length === kb.length && ka.every((k) => a[k] === b[k]);
}
