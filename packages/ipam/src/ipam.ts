import {
  type AffinityEntry,
  compareCidrText,
  decodeAffinity,
  encodeAffinity,
  ownedBlocksFromAffinities,
  parseAffinities,
} from '@tricolor/contract';
import {
  type Cidr,
  ConflictError,
  cidrContains,
  cidrContainsIp,
  cidrFromKeyPart,
  type Datastore,
  familyBits,
  formatCidr,
  type GuardedWrite,
  type IPPool,
  type IpAddress,
  ipamKeys,
  type KeyValueStore,
  type Labels,
  parseCidr,
  type Versioned,
} from '@tricolor/datastore';
import {
  affinityNode,
  allocate,
  allocationsOf,
  assignOrdinal,
  type Block,
  decodeBlock,
  encodeBlock,
  freeCount,
  hostAffinity,
  hostCidrOf,
  isEmpty,
  newBlock,
  ordinalOf,
  ordinalsOfHandle,
  type Released,
  releaseOrdinals,
  repairBlock,
  tryDecodeBlock,
  usedCount,
  withAffinity,
} from './block.js';
import {
  type CheckReport,
  checkSnapshot,
  DEFAULT_LEAK_GRACE_MS,
  type Problem,
  type SnapshotBlock,
} from './check.js';
import { decodeConfig, encodeConfig, type IpamConfig, validateConfigPatch } from './config.js';
import { IpamConflictError, IpamExhaustedError, IpamNodeNotFoundError, IpamRequestError } from './errors.js';
import {
  adjustHandle,
  checkHandleId,
  decodeHandle,
  encodeHandle,
  type Handle,
  isHandleEmpty,
} from './handle.js';
import { blockCount, blockOfIp, blockOrder } from './pool-blocks.js';
import { type PoolChoice, poolOfBlock, poolOfIp, selectPools } from './pools.js';

/**
 * Points between the steps of multi-step writes. Tests use them to interleave racing
 * operations deterministically and to simulate a crash between two writes.
 */
export type HookPoint =
  | 'claim:block-chosen'
  | 'claim:block-created'
  | 'claim:confirmed'
  | 'assign:block-written'
  | 'release:block-written'
  | 'release-affinity:pending-deletion'
  | 'release-affinity:block-done';

export interface HookInfo {
  node?: string;
  block?: string;
  handle?: string;
}

export interface IpamOptions {
  /** Compare-and-swap conflicts tolerated per operation before giving up (default 100). */
  maxRetries?: number;
  /** Allocations younger than this are never reported as leaked (default 10 minutes). */
  leakGraceMs?: number;
  /** Random source for retry jitter and for picking a block to borrow from (default Math.random). */
  random?: () => number;
  /** Called between the steps of multi-step writes (tests only). */
  hook?: (point: HookPoint, info: HookInfo) => void | Promise<void>;
}

export interface AutoAssignRequest {
  node: string;
  handle: string;
  /** Stored with each address (e.g. namespace, pod); `node` is added. */
  attributes?: Record<string, string>;
  /** IPv4 addresses wanted; 1 when neither num4 nor num6 is given. */
  num4?: number;
  num6?: number;
  /** Restrict to these pools (names or CIDRs). */
  pools?: string[];
  /** Refuse (IpamNodeNotFoundError, nothing written) when the node has no Node resource. */
  requireNode?: boolean;
  /**
   * A handle that already holds addresses (a retried CNI ADD) gets those back, and nothing
   * more is allocated. Found by the allocation's own guarded write: it costs no extra read.
   */
  reuseHandle?: boolean;
}

export interface AutoAssignResult {
  ipv4: string[];
  ipv6: string[];
  /** The handle's existing addresses were returned (`reuseHandle`). */
  reused?: boolean;
}

export interface AssignIpRequest {
  ip: string;
  node: string;
  handle: string;
  attributes?: Record<string, string>;
}

/** One allocated address as the blocks hold it. */
export interface Allocation {
  /** Host CIDR, e.g. 10.244.1.5/32. */
  ip: string;
  block: string;
  handle: string | null;
  attributes: Record<string, string>;
}

/** An address given back by a release, with the attributes it was allocated with. */
export interface ReleasedAddress {
  /** Host CIDR, e.g. 10.244.1.5/32. */
  ip: string;
  attributes: Record<string, string>;
}

export interface ReleaseAffinitiesResult {
  /** Blocks given up: deleted when empty, or (force) left without owner. */
  released: string[];
  /** Blocks kept because they still hold addresses (without force). */
  kept: string[];
}

export interface PoolUsage {
  name: string;
  cidr: string;
  blockSize: number;
  disabled: boolean;
  /** Decimal strings: an IPv6 pool can hold more than 2^53 blocks. */
  blocksTotal: string;
  blocksClaimed: number;
  addressesTotal: string;
  /** Addresses in the pool's existing blocks. */
  addressesInBlocks: number;
  allocated: number;
}

export interface BlockUsage {
  cidr: string;
  pool: string | null;
  /** The node the block is affine to, or null. */
  owner: string | null;
  size: number;
  used: number;
  free: number;
}

export interface IpamUsage {
  pools: PoolUsage[];
  blocks: BlockUsage[];
}

export interface RepairResult {
  ok: boolean;
  /** What was changed, one line per write. */
  actions: string[];
  failures: string[];
  /** The problems of the check after the repair. */
  remaining: Problem[];
}

interface Stored {
  key: string;
  block: Block;
  rev: string;
}

/** A request's first addresses, written with the block its claim creates (its handle is new). */
interface FirstAllocation {
  handle: string;
  attrs: Record<string, string>;
  want: number;
}

/** The request's handle as its last read or write left it (undefined: absent). */
interface HandleSeen {
  handle: Versioned | undefined;
  /** Stop at the first write that finds the handle holding addresses (`reuseHandle`). */
  reuse?: boolean;
}

/** Thrown through an allocation when `reuseHandle` finds the handle in use; nothing was written. */
class HandleInUse {
  constructor(readonly handle: Versioned) {}
}

/** A failed guard showed the handle: record it, and stop when the request reuses a handle in use. */
function sawHandle(seen: HandleSeen, now: Versioned | undefined): void {
  if (seen.reuse && seen.handle === undefined && now) throw new HandleInUse(now);
  seen.handle = now;
}

/** What a request's claim gave it: a block (with addresses, when they came with the claim), or why none. */
interface ClaimOutcome {
  block?: Stored;
  ips?: string[];
  reason?: string;
}

/** A claimed block, and the addresses allocated in the claim's own transaction. */
interface Claimed {
  stored: Stored;
  ips: string[];
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const REPAIR_ORDER: Problem['kind'][] = [
  'block-inconsistent',
  'leaked-address',
  'ghost-endpoint',
  'pending-affinity',
  'pending-deletion-affinity',
  'affinity-without-block',
  'block-without-affinity',
  'stale-node-affinity',
  'empty-unaffined-block',
];

/**
 * Calico-style IPAM over etcd. Every write is a datastore KV create/update/delete guarded
 * by the key's ModRevision; a lost race re-reads and retries (bounded by maxRetries).
 *
 * Write order (the crash-safety argument, see README):
 * - allocate: the block and the handle's count +n in one transaction (both guarded).
 *   Release: block FIRST, then handle −n. So a handle's count for a block is never below
 *   the block's allocations carrying it, and a release by handle always finds every address.
 *   A crash between a release's writes (or between an older writer's allocation writes,
 *   handle first) leaves the handle over-counting, which `check` reports and `repair`
 *   rewrites from the blocks.
 * - claim: one transaction creates the affinity, `confirmed`, and the block with `host:<node>`
 *   (with a new pod's first addresses and its handle when it is the claim of an allocation);
 *   neither may exist, so two hosts can never own one block and no half-made claim is ever
 *   seen. The block's `affinity` field is the single owner. A `pending` affinity (the
 *   two-phase claim of older writers and of Calico, cut by a crash) is finished by the node's
 *   next allocation (or `repair`): block CAS-created or adopted → affinity `confirmed`.
 * - release of an affinity: `pendingDeletion` → block deleted (empty) or un-owned (force)
 *   → affinity deleted.
 */
export class Ipam {
  readonly kv: KeyValueStore;
  readonly prefix: string;
  private readonly maxRetries: number;
  private readonly leakGraceMs: number;
  private readonly random: () => number;
  private readonly hookFn: IpamOptions['hook'];
  /** node → block CIDR → the block as last read or written by us (only blocks affine to the node). */
  private readonly cache = new Map<string, Map<string, Stored>>();
  /** node → the claim this process is making for it: one at a time per node (see oneClaimAtATime). */
  private readonly claiming = new Map<string, Promise<unknown>>();

  constructor(
    readonly ds: Datastore<KeyValueStore>,
    opts: IpamOptions = {},
  ) {
    this.kv = ds.kv;
    this.prefix = ds.prefix;
    this.maxRetries = opts.maxRetries ?? 100;
    this.leakGraceMs = opts.leakGraceMs ?? DEFAULT_LEAK_GRACE_MS;
    this.random = opts.random ?? Math.random;
    this.hookFn = opts.hook;
  }

  // ---------------------------------------------------------------- reads

  private async hook(point: HookPoint, info: HookInfo): Promise<void> {
    if (this.hookFn) await this.hookFn(point, info);
  }

  private async backoff(attempt: number): Promise<void> {
    await sleep(Math.floor(this.random() * Math.min(25, 2 + attempt * 2)));
  }

  private blockKey(cidr: Cidr | string): string {
    return ipamKeys.block(this.prefix, typeof cidr === 'string' ? parseCidr(cidr)! : cidr);
  }

  private async readBlock(cidr: Cidr | string): Promise<Stored | undefined> {
    const key = this.blockKey(cidr);
    const v = await this.kv.get(key);
    return v ? { key, block: decodeBlock(v.value), rev: v.modRevision } : undefined;
  }

  /** CIDRs of the existing blocks of a family (keys only: cheap even with many blocks). */
  private async blockCidrs(family: 4 | 6): Promise<string[]> {
    const p = ipamKeys.blocksPrefix(this.prefix, family);
    const keys = await this.kv.keys(p);
    const out: string[] = [];
    for (const k of keys) {
      const c = cidrFromKeyPart(k.slice(p.length));
      if (c) out.push(formatCidr(c));
    }
    return out;
  }

  async listPools(): Promise<IPPool[]> {
    return (await this.ds.list('IPPool')).items;
  }

  private async nodeLabels(node: string, required = false): Promise<Labels> {
    const n = required
      ? await this.ds.get('Node', node)
      : await this.ds.get('Node', node).catch(() => undefined);
    if (!n && required) throw new IpamNodeNotFoundError(`node ${JSON.stringify(node)} has no Node resource`);
    return n?.metadata.labels ?? {};
  }

  private async nodeAffinities(node: string): Promise<AffinityEntry[]> {
    const { items } = await this.kv.list(ipamKeys.hostPrefix(this.prefix, node));
    return parseAffinities(items, this.prefix).filter((a) => a.node === node);
  }

  private remember(node: string, s: Stored): void {
    if (s.block.affinity !== hostAffinity(node)) return;
    let m = this.cache.get(node);
    if (!m) {
      m = new Map();
      this.cache.set(node, m);
    }
    m.set(s.block.cidr, s);
  }

  /** Keeps every node cache in step with a block we just wrote (or deleted: `s` undefined). */
  private noteBlock(cidr: string, s: Stored | undefined): void {
    for (const [node, m] of this.cache) {
      if (!m.has(cidr)) continue;
      if (s && s.block.affinity === hostAffinity(node)) m.set(cidr, s);
      else m.delete(cidr);
    }
  }

  // ---------------------------------------------------------------- config

  async getConfig(): Promise<IpamConfig> {
    return decodeConfig((await this.kv.get(ipamKeys.config(this.prefix)))?.value);
  }

  async setConfig(patch: Partial<IpamConfig>): Promise<IpamConfig> {
    const p = validateConfigPatch(patch);
    const key = ipamKeys.config(this.prefix);
    for (let i = 0; i <= this.maxRetries; i++) {
      const v = await this.kv.get(key);
      const next = { ...decodeConfig(v?.value), ...p };
      const ok = v
        ? await this.kv.update(key, encodeConfig(next), v.modRevision)
        : await this.kv.create(key, encodeConfig(next));
      if (ok) return next;
      await this.backoff(i);
    }
    throw new IpamConflictError('setConfig: too many concurrent writers');
  }

  // ---------------------------------------------------------------- handles

  /**
   * Takes `n` off the handle's count for a block (CAS loop; deletes the record when it empties).
   * Releases and repairs only: allocations count in their own transaction (commitAllocation).
   */
  private async uncountHandle(handle: string, cidr: string, n: number): Promise<void> {
    const key = ipamKeys.handle(this.prefix, handle);
    for (let i = 0; i <= this.maxRetries; i++) {
      const v = await this.kv.get(key);
      if (!v) return;
      const next = adjustHandle(decodeHandle(v.value, handle), handle, cidr, -n);
      const ok = isHandleEmpty(next)
        ? await this.kv.delete(key, v.modRevision)
        : (await this.kv.update(key, encodeHandle(next), v.modRevision)) !== undefined;
      if (ok) return;
      await this.backoff(i);
    }
    throw new IpamConflictError(`handle ${handle}: too many concurrent writers`);
  }

  private async readHandle(handle: string): Promise<{ handle: Handle; rev: string } | undefined> {
    const v = await this.kv.get(ipamKeys.handle(this.prefix, handle));
    return v ? { handle: decodeHandle(v.value, handle), rev: v.modRevision } : undefined;
  }

  // ---------------------------------------------------------------- claims

  /**
   * The rest of a two-phase claim, from an existing (pending or confirmed) affinity: make
   * sure the block exists with our affinity (creating it when `create`), then confirm.
   * Returns the block, or undefined when the block is someone else's (the pending
   * affinity is then dropped) or the affinity was released meanwhile.
   */
  private async finishClaim(
    node: string,
    cidr: Cidr,
    affKey: string,
    create: boolean,
  ): Promise<Stored | undefined> {
    const key = this.blockKey(cidr);
    const mine = hostAffinity(node);
    let stored: Stored | undefined;
    let created = false;
    for (let i = 0; i < 10 && !stored; i++) {
      if (create) {
        const fresh = newBlock(cidr, mine);
        const rev = await this.kv.create(key, encodeBlock(fresh));
        if (rev) {
          stored = { key, block: fresh, rev };
          created = true;
          await this.hook('claim:block-created', { node, block: fresh.cidr });
          break;
        }
      }
      const cur = await this.readBlock(cidr);
      if (!cur) {
        if (!create) break;
        continue;
      }
      if (cur.block.affinity === mine) {
        stored = cur;
      } else if (cur.block.affinity === null) {
        // An unowned block (its owner was force-released while it still held addresses): adopt it.
        const next = withAffinity(cur.block, mine);
        const rev = await this.kv.update(key, encodeBlock(next), cur.rev);
        if (rev) stored = { key, block: next, rev };
      } else {
        break; // another node owns it
      }
    }
    if (!stored) {
      await this.dropPendingAffinity(affKey);
      return undefined;
    }
    for (let i = 0; i <= this.maxRetries; i++) {
      const v = await this.kv.get(affKey);
      const state = v ? decodeAffinity(v.value) : undefined;
      if (state === 'confirmed') break;
      if (!v || state === 'pendingDeletion') {
        // Released while we claimed: do not use the block; undo our creation if it is still empty.
        if (created || !v) await this.deleteBlockIfEmptyAndOwned(cidr, node);
        return undefined;
      }
      if (await this.kv.update(affKey, encodeAffinity('confirmed'), v.modRevision)) break;
      await this.backoff(i);
    }
    await this.hook('claim:confirmed', { node, block: stored.block.cidr });
    this.remember(node, stored);
    return stored;
  }

  private async dropPendingAffinity(affKey: string): Promise<void> {
    const v = await this.kv.get(affKey);
    if (v && decodeAffinity(v.value) === 'pending') await this.kv.delete(affKey, v.modRevision);
  }

  private async deleteBlockIfEmptyAndOwned(cidr: Cidr | string, node: string): Promise<void> {
    for (let i = 0; i < 10; i++) {
      const cur = await this.readBlock(cidr);
      if (!cur || cur.block.affinity !== hostAffinity(node) || !isEmpty(cur.block)) return;
      if (await this.kv.delete(cur.key, cur.rev)) {
        this.noteBlock(cur.block.cidr, undefined);
        return;
      }
    }
  }

  /**
   * Claims one block for the node in one transaction: its affinity, confirmed, and the block,
   * created with `host:<node>` — given `first`, with the request's first addresses in it and
   * their handle, created too. None of the keys may exist. When one does, what is there
   * decides: another node's block → undefined; an affinity of ours → that claim is finished
   * (pending: a crashed two-phase claim) or used (confirmed), or undefined while it is being
   * released; a block of ours or without owner but no affinity → taken with its affinity;
   * only the handle → the claim again without the addresses.
   */
  private async claimBlock(
    node: string,
    cidr: Cidr,
    first?: FirstAllocation,
    seen?: HandleSeen,
  ): Promise<Claimed | undefined> {
    const affKey = ipamKeys.affinity(this.prefix, node, cidr);
    const key = this.blockKey(cidr);
    const mine = hostAffinity(node);
    let block = newBlock(cidr, mine);
    let ips: string[] = [];
    const extra: GuardedWrite[] = [];
    if (first) {
      const k = Math.min(first.want, freeCount(block));
      const a = allocate(block, k, first.handle, first.attrs);
      block = a.block;
      ips = a.ordinals.map((o) => hostCidrOf(block, o));
      const handle = encodeHandle(adjustHandle(undefined, first.handle, block.cidr, k));
      extra.push({ key: ipamKeys.handle(this.prefix, first.handle), value: handle });
    }
    const handleWrite = extra[0];
    await this.hook('claim:block-chosen', { node, block: block.cidr });
    const confirmed = { key: affKey, value: encodeAffinity('confirmed') };
    const r = await this.kv.writeAll([confirmed, { key, value: encodeBlock(block) }, ...extra]);
    if (r.written) {
      if (seen && handleWrite)
        seen.handle = { ...handleWrite, modRevision: r.revision, createRevision: r.revision };
      return this.claimed(node, { key, block, rev: r.revision }, ips, first);
    }
    const [aff, cur, handleNow] = r.current;
    if (seen && handleWrite) sawHandle(seen, handleNow);
    if (!aff && !cur) return first ? this.claimBlock(node, cidr) : undefined;
    if (aff) {
      if (decodeAffinity(aff.value) === 'pendingDeletion') return undefined;
      const s = await this.finishClaim(node, cidr, affKey, true);
      return s && { stored: s, ips: [] };
    }
    const b = tryDecodeBlock(cur!.value);
    if (!b || (b.affinity !== mine && b.affinity !== null)) return undefined;
    // Ours with its affinity lost, or without owner (force-released while it held addresses).
    const adopt = b.affinity === null ? withAffinity(b, mine) : b;
    const again = await this.kv.writeAll(
      adopt === b
        ? [confirmed]
        : [confirmed, { key, value: encodeBlock(adopt), modRevision: cur!.modRevision }],
    );
    if (!again.written) return undefined;
    return this.claimed(
      node,
      { key, block: adopt, rev: adopt === b ? cur!.modRevision : again.revision },
      [],
      undefined,
    );
  }

  private async claimed(
    node: string,
    stored: Stored,
    ips: string[],
    first: FirstAllocation | undefined,
  ): Promise<Claimed> {
    this.noteBlock(stored.block.cidr, stored);
    this.remember(node, stored);
    await this.hook('claim:confirmed', { node, block: stored.block.cidr });
    if (first)
      await this.hook('assign:block-written', { node, handle: first.handle, block: stored.block.cidr });
    return { stored, ips };
  }

  /** (Re)loads the node's blocks into the cache, finishing claims a crash left pending. */
  private async loadNode(node: string, poolsRead: Promise<readonly IPPool[]>): Promise<AffinityEntry[]> {
    const affs = await this.nodeAffinities(node);
    const m = new Map<string, Stored>();
    this.cache.set(node, m);
    const poolCidrs = async () =>
      (await poolsRead).map((p) => parseCidr(p.spec.cidr)).filter((c) => c !== undefined);
    await Promise.all(
      affs.map(async (a) => {
        const c = parseCidr(a.block)!;
        if (a.state === 'confirmed') {
          const s = await this.readBlock(c);
          if (s) this.remember(node, s);
        } else if (a.state === 'pending') {
          await this.finishClaim(
            node,
            c,
            a.key,
            (await poolCidrs()).some((p) => cidrContains(p, c)),
          );
        }
      }),
    );
    return affs;
  }

  private pickAffine(node: string, family: 4 | 6, eligible?: readonly PoolChoice[]): Stored | undefined {
    const m = this.cache.get(node);
    if (!m) return undefined;
    let best: Stored | undefined;
    for (const s of m.values()) {
      const c = parseCidr(s.block.cidr)!;
      if (c.family !== family || freeCount(s.block) === 0 || (eligible && !poolOfBlock(eligible, c)))
        continue;
      // Fill the fullest block first, so lightly used blocks can empty out and be released.
      if (!best || freeCount(s.block) < freeCount(best.block)) best = s;
    }
    return best;
  }

  /**
   * Runs the claims of one node in this process one after the other, each looking at the
   * cache first. A request that listed the node's blocks while another request of this process
   * claimed one would skip that block (cached, so taken as considered) and claim a second.
   * Processes apart need no lock: a block is listed before the node's affinities, so a claim
   * made meanwhile is seen, or its transaction fails and is joined.
   */
  private async oneClaimAtATime<T>(node: string, claim: () => Promise<T>): Promise<T> {
    const before = this.claiming.get(node) ?? Promise.resolve();
    const mine = before.then(claim, claim);
    const settled = mine.then(
      () => undefined,
      () => undefined,
    );
    this.claiming.set(node, settled);
    try {
      return await mine;
    } finally {
      if (this.claiming.get(node) === settled) this.claiming.delete(node);
    }
  }

  private async claimNewBlock(
    node: string,
    family: 4 | 6,
    eligible: readonly PoolChoice[],
    config: IpamConfig,
    first: FirstAllocation | undefined,
    seen: HandleSeen,
  ): Promise<ClaimOutcome> {
    // Blocks first, affinities second: a block a sibling process of this node created after
    // our block listing had its pending affinity written before, so we see that affinity
    // below and join its claim instead of claiming a second block.
    const existing = new Set(await this.blockCidrs(family));
    const affs = (await this.nodeAffinities(node)).filter((a) => parseCidr(a.block)?.family === family);
    const cached = this.cache.get(node);
    for (const a of affs) {
      if (a.state === 'pendingDeletion' || cached?.has(a.block)) continue;
      const c = parseCidr(a.block)!;
      const s =
        a.state === 'confirmed' ? await this.readBlock(c) : await this.finishClaim(node, c, a.key, true);
      if (s && s.block.affinity === hostAffinity(node) && poolOfBlock(eligible, c)) {
        this.remember(node, s);
        if (freeCount(s.block) > 0) return { block: s };
      }
    }
    if (config.maxBlocksPerHost > 0 && affs.length >= config.maxBlocksPerHost) {
      return {
        reason: `node ${node} already holds ${affs.length} IPv${family} blocks (maxBlocksPerHost ${config.maxBlocksPerHost})`,
      };
    }
    const deleting = new Set(affs.filter((a) => a.state === 'pendingDeletion').map((a) => a.block));
    let tries = 0;
    for (const pc of eligible) {
      for (const c of blockOrder(node, pc.cidr, pc.pool.spec.blockSize)) {
        const s = formatCidr(c);
        if (existing.has(s) || deleting.has(s)) continue;
        const got = await this.claimBlock(node, c, first, seen);
        if (got) return { block: got.stored, ips: got.ips };
        existing.add(s);
        if (++tries > this.maxRetries) throw new IpamConflictError(`node ${node}: gave up claiming a block`);
      }
    }
    return {};
  }

  private async findBorrowable(
    node: string,
    family: 4 | 6,
    eligible: readonly PoolChoice[],
  ): Promise<Stored | undefined> {
    const { items } = await this.kv.list(ipamKeys.blocksPrefix(this.prefix, family));
    const cands: Stored[] = [];
    for (const v of items) {
      const b = tryDecodeBlock(v.value);
      if (!b) continue;
      const c = parseCidr(b.cidr);
      if (!c || b.affinity === hostAffinity(node) || freeCount(b) === 0 || !poolOfBlock(eligible, c))
        continue;
      cands.push({ key: v.key, block: b, rev: v.modRevision });
    }
    if (cands.length === 0) return undefined;
    return cands[Math.floor(this.random() * cands.length)];
  }

  private async exhausted(
    node: string,
    family: 4 | 6,
    eligible: readonly PoolChoice[],
    config: IpamConfig,
    reason: string | undefined,
  ): Promise<IpamExhaustedError> {
    const existing = (await this.blockCidrs(family)).map((s) => parseCidr(s)!);
    let total = 0n;
    let claimed = 0;
    for (const pc of eligible) {
      total += blockCount(pc.cidr, pc.pool.spec.blockSize);
      claimed += existing.filter((c) => cidrContains(pc.cidr, c)).length;
    }
    const why: string[] = [];
    if (reason) why.push(reason);
    if (!config.autoAllocateBlocks) why.push('autoAllocateBlocks is off');
    if (config.strictAffinity)
      why.push(`strictAffinity is on, so ${node} does not borrow from other nodes' blocks`);
    return new IpamExhaustedError(
      `no free address in pools ${eligible.map((p) => formatCidr(p.cidr)).join(', ')}: ` +
        `${claimed} of ${total} blocks claimed${why.length ? ` (${why.join('; ')})` : ''}`,
    );
  }

  // ---------------------------------------------------------------- assignment

  /**
   * One transaction: the block as `next` (guarded on `cur`'s revision) and the handle's count
   * for it moved by `delta` (guarded on the handle as `seen` last: absent, or its revision).
   * Nothing half-written can outlive a crash. On a failed guard `seen.handle` is updated and
   * the block as it is now is returned (undefined: gone).
   */
  private async commitAllocation(
    node: string,
    cur: Stored,
    next: Block,
    handle: string,
    delta: number,
    seen: HandleSeen,
  ): Promise<{ written: Stored } | { block: Stored | undefined }> {
    const hkey = ipamKeys.handle(this.prefix, handle);
    const counted = adjustHandle(
      seen.handle && decodeHandle(seen.handle.value, handle),
      handle,
      next.cidr,
      delta,
    );
    const hvalue = encodeHandle(counted);
    const r = await this.kv.writeAll([
      { key: cur.key, value: encodeBlock(next), modRevision: cur.rev },
      { key: hkey, value: hvalue, modRevision: seen.handle?.modRevision },
    ]);
    if (r.written) {
      const createRevision = seen.handle?.createRevision ?? r.revision;
      seen.handle = { key: hkey, value: hvalue, modRevision: r.revision, createRevision };
      const s = { key: cur.key, block: next, rev: r.revision };
      this.noteBlock(next.cidr, s);
      this.remember(node, s);
      await this.hook('assign:block-written', { node, handle, block: next.cidr });
      return { written: s };
    }
    const [b, h] = r.current;
    sawHandle(seen, h);
    const fresh = b && { key: cur.key, block: decodeBlock(b.value), rev: b.modRevision };
    this.noteBlock(cur.block.cidr, fresh);
    if (fresh) this.remember(node, fresh);
    return { block: fresh };
  }

  /**
   * Allocates `want` addresses (or fewer, if the block has fewer) in one block, with the
   * handle's count, in one transaction. On a lost race it retries in the block as it now is
   * while it still fits; otherwise undefined.
   */
  private async allocateIn(
    target: Stored,
    node: string,
    handle: string,
    attrs: Record<string, string>,
    want: number,
    seen: HandleSeen,
  ): Promise<string[] | undefined> {
    let cur = target;
    const k = Math.min(want, freeCount(cur.block));
    for (let i = 0; i < 8; i++) {
      const { block: next, ordinals } = allocate(cur.block, k, handle, attrs);
      const r = await this.commitAllocation(node, cur, next, handle, k, seen);
      if ('written' in r) return ordinals.map((o) => hostCidrOf(next, o));
      const fresh = r.block;
      if (!fresh || fresh.block.affinity !== target.block.affinity || freeCount(fresh.block) < k) break;
      cur = fresh;
    }
    return undefined;
  }

  private async assignFamily(
    req: AutoAssignRequest,
    family: 4 | 6,
    n: number,
    pools: readonly IPPool[],
    config: IpamConfig,
    labels: Labels,
    loaded: boolean,
    seen: HandleSeen,
  ): Promise<string[]> {
    const eligible = selectPools(pools, { family, labels, requested: req.pools });
    if (eligible.length === 0) {
      throw new IpamExhaustedError(
        `no enabled IPv${family} pool${req.pools?.length ? ` among ${req.pools.join(', ')}` : ''} selects node ${req.node}`,
      );
    }
    const attrs = { ...(req.attributes ?? {}), node: req.node, timestamp: new Date().toISOString() };
    const got: string[] = [];
    let refreshed = loaded;
    let claimDone = false;
    let reason: string | undefined;
    let conflicts = 0;
    try {
      while (got.length < n) {
        if (conflicts > this.maxRetries) {
          throw new IpamConflictError(`autoAssign ${req.handle}: gave up after ${conflicts} write conflicts`);
        }
        let target = this.pickAffine(req.node, family, eligible);
        if (!target && !refreshed) {
          // Blocks a sibling process of this node claimed, and claims a crash left pending.
          await this.loadNode(req.node, Promise.resolve(pools));
          refreshed = true;
          continue;
        }
        if (!target && config.autoAllocateBlocks && !claimDone) {
          // The claim carries the addresses when the handle is not known to exist.
          const first = seen.handle ? undefined : { handle: req.handle, attrs, want: n - got.length };
          const r = await this.oneClaimAtATime(req.node, async (): Promise<ClaimOutcome> => {
            const meanwhile = this.pickAffine(req.node, family, eligible);
            return meanwhile
              ? { block: meanwhile }
              : this.claimNewBlock(req.node, family, eligible, config, first, seen);
          });
          if (r.ips?.length) {
            got.push(...r.ips);
            continue;
          }
          target = r.block;
          if (!target) {
            claimDone = true;
            reason = r.reason;
          }
        }
        if (!target && !config.strictAffinity) target = await this.findBorrowable(req.node, family, eligible);
        if (!target) throw await this.exhausted(req.node, family, eligible, config, reason);
        const ips = await this.allocateIn(target, req.node, req.handle, attrs, n - got.length, seen);
        if (!ips) {
          conflicts++;
          await this.backoff(conflicts);
          continue;
        }
        got.push(...ips);
      }
    } catch (e) {
      if (got.length) await this.releaseIps(got).catch(() => undefined);
      throw e;
    }
    return got;
  }

  /**
   * Allocates addresses for a handle: from the node's affine blocks, else a newly claimed
   * block, else (unless strictAffinity) a free address in another node's block.
   */
  async autoAssign(req: AutoAssignRequest): Promise<AutoAssignResult> {
    checkHandleId(req.handle);
    if (!req.node) throw new IpamRequestError('node: is required');
    const num4 = req.num4 ?? (req.num6 === undefined ? 1 : 0);
    const num6 = req.num6 ?? 0;
    for (const [name, v] of [
      ['num4', num4],
      ['num6', num6],
    ] as const) {
      if (!Number.isInteger(v) || v < 0)
        throw new IpamRequestError(`${name}: ${v} is not a whole number >= 0`);
    }
    // One round of reads, then (in the common case) one transaction. A process that has not
    // seen the node yet (the CNI plugin: one process per ADD) loads the node's blocks in the
    // same round.
    const poolsRead = this.listPools();
    const load = this.cache.has(req.node) ? undefined : this.loadNode(req.node, poolsRead);
    const [pools, config, labels] = await Promise.all([
      poolsRead,
      this.getConfig(),
      this.nodeLabels(req.node, req.requireNode),
      load,
    ]);
    try {
      return await this.assignBoth(req, num4, num6, pools, config, labels, !!load);
    } catch (e) {
      if (!(e instanceof HandleInUse)) throw e;
      const ips = await this.ipsByHandle(req.handle);
      // A handle that counts addresses no block holds (left by a crash) is no reuse: allocate.
      if (ips.length === 0) return this.autoAssign({ ...req, reuseHandle: false });
      return {
        ipv4: ips.filter((ip) => !ip.includes(':')),
        ipv6: ips.filter((ip) => ip.includes(':')),
        reused: true,
      };
    }
  }

  private async assignBoth(
    req: AutoAssignRequest,
    num4: number,
    num6: number,
    pools: IPPool[],
    config: IpamConfig,
    labels: Labels,
    loaded: boolean,
  ): Promise<AutoAssignResult> {
    // The handle is taken to be new (a new pod's) until a write finds it.
    const seen: HandleSeen = { handle: undefined, reuse: req.reuseHandle === true };
    const out: AutoAssignResult = { ipv4: [], ipv6: [] };
    if (num4 > 0) out.ipv4 = await this.assignFamily(req, 4, num4, pools, config, labels, loaded, seen);
    try {
      if (num6 > 0) out.ipv6 = await this.assignFamily(req, 6, num6, pools, config, labels, loaded, seen);
    } catch (e) {
      if (out.ipv4.length) await this.releaseIps(out.ipv4).catch(() => undefined);
      throw e;
    }
    return out;
  }

  /** Allocates one specific address (claiming its block for the node when nobody has it). */
  async assignIp(req: AssignIpRequest): Promise<void> {
    checkHandleId(req.handle);
    if (!req.node) throw new IpamRequestError('node: is required');
    const ip = parseHostIp(req.ip);
    const pools = await this.listPools();
    const pool = poolOfIp(pools, ip);
    if (!pool) throw new IpamRequestError(`ip: ${req.ip} is in no IPPool`);
    if (pool.spec.disabled)
      throw new IpamRequestError(`ip: ${req.ip} is in IPPool ${pool.metadata.name}, which is disabled`);
    const bc = blockOfIp(ip, pool.spec.blockSize);
    const attrs = { ...(req.attributes ?? {}), node: req.node, timestamp: new Date().toISOString() };
    const seen: HandleSeen = { handle: await this.kv.get(ipamKeys.handle(this.prefix, req.handle)) };
    let cur = await this.readBlock(bc);
    for (let i = 0; i <= this.maxRetries; i++) {
      if (!cur) {
        cur = (await this.claimBlock(req.node, bc))?.stored;
        if (!cur) {
          cur = await this.readBlock(bc);
          continue;
        }
      }
      const ordinal = ordinalOf(cur.block, ip)!;
      const a = cur.block.allocations[ordinal];
      if (a !== null && a !== undefined) {
        const holder = cur.block.attributes[a]?.handleId;
        if (holder === req.handle) return;
        throw new IpamRequestError(`ip: ${req.ip} is already in use (handle ${holder ?? 'none'})`);
      }
      const next = assignOrdinal(cur.block, ordinal, req.handle, attrs)!;
      const r = await this.commitAllocation(req.node, cur, next, req.handle, 1, seen);
      if ('written' in r) return;
      cur = r.block;
      await this.backoff(i);
    }
    throw new IpamConflictError(`assignIp ${req.ip}: gave up after ${this.maxRetries} write conflicts`);
  }

  // ---------------------------------------------------------------- release

  /** Releases ordinals chosen by `pick` from one block (CAS loop); deletes the block when it ends up empty and unowned. */
  private async releaseInBlock(
    cidr: string,
    pick: (b: Block) => number[],
  ): Promise<{ block: Block; released: Released[] } | undefined> {
    for (let i = 0; i <= this.maxRetries; i++) {
      const cur = await this.readBlock(cidr);
      if (!cur) return undefined;
      const { block: next, released } = releaseOrdinals(cur.block, pick(cur.block));
      if (released.length === 0) return undefined;
      let ok: boolean;
      if (next.affinity === null && isEmpty(next)) {
        ok = await this.kv.delete(cur.key, cur.rev);
        if (ok) this.noteBlock(cidr, undefined);
      } else {
        const rev = await this.kv.update(cur.key, encodeBlock(next), cur.rev);
        ok = rev !== undefined;
        if (rev) this.noteBlock(cidr, { key: cur.key, block: next, rev });
      }
      if (ok) {
        await this.hook('release:block-written', { block: cidr });
        return { block: next, released };
      }
      await this.backoff(i);
    }
    throw new IpamConflictError(`release in ${cidr}: gave up after ${this.maxRetries} write conflicts`);
  }

  /** Releases addresses ("10.244.1.5" or "10.244.1.5/32"); returns those that were allocated, as host CIDRs. */
  async releaseIps(ips: string[]): Promise<string[]> {
    const parsed = ips.map(parseHostIp);
    const byFamily = new Map<4 | 6, string[]>();
    const groups = new Map<string, number[]>();
    for (const ip of parsed) {
      let cidrs = byFamily.get(ip.family);
      if (!cidrs) {
        cidrs = await this.blockCidrs(ip.family);
        byFamily.set(ip.family, cidrs);
      }
      const block = cidrs.find((c) => cidrContainsIp(parseCidr(c)!, ip));
      if (!block) continue;
      const bc = parseCidr(block)!;
      const list = groups.get(block) ?? [];
      list.push(Number(ip.value - bc.address));
      groups.set(block, list);
    }
    const out: string[] = [];
    for (const [cidr, ordinals] of groups) {
      const r = await this.releaseInBlock(cidr, () => ordinals);
      if (!r) continue;
      const perHandle = new Map<string, number>();
      for (const rel of r.released) {
        out.push(hostCidrOf(r.block, rel.ordinal));
        if (rel.handleId) perHandle.set(rel.handleId, (perHandle.get(rel.handleId) ?? 0) + 1);
      }
      for (const [h, n] of perHandle) await this.uncountHandle(h, cidr, n);
    }
    return out;
  }

  /** Releases every address of a handle; [] when it holds none (a second release is a no-op). */
  async releaseByHandle(handle: string): Promise<string[]> {
    return (await this.releaseAllocationsByHandle(handle)).map((r) => r.ip);
  }

  /**
   * `releaseByHandle` that also says whose each address was (the attributes written with it:
   * namespace, pod, node, containerID…), so a caller can clean up what hung on the address
   * (the CNI plugin removes the endpoint of the node that allocated it).
   */
  async releaseAllocationsByHandle(handle: string): Promise<ReleasedAddress[]> {
    checkHandleId(handle);
    const snap = await this.readHandle(handle);
    if (!snap) return [];
    const out: ReleasedAddress[] = [];
    for (const cidr of Object.keys(snap.handle.block)) {
      const r = await this.releaseInBlock(cidr, (b) => ordinalsOfHandle(b, handle));
      if (r)
        for (const rel of r.released)
          out.push({ ip: hostCidrOf(r.block, rel.ordinal), attributes: rel.secondary });
    }
    // Block first, handle second: the handle never under-counts. Subtract what the snapshot
    // recorded (an over-count left by a crash is cleared with it).
    const key = ipamKeys.handle(this.prefix, handle);
    for (let i = 0; i <= this.maxRetries; i++) {
      const v = await this.kv.get(key);
      if (!v) break;
      let h = decodeHandle(v.value, handle);
      for (const [cidr, n] of Object.entries(snap.handle.block)) h = adjustHandle(h, handle, cidr, -n);
      const ok = isHandleEmpty(h)
        ? await this.kv.delete(key, v.modRevision)
        : (await this.kv.update(key, encodeHandle(h), v.modRevision)) !== undefined;
      if (ok) break;
      await this.backoff(i);
    }
    return out.sort((a, b) => compareCidrText(a.ip, b.ip));
  }

  /** Every allocated address with its handle and attributes (one range read per family). */
  async allocations(): Promise<Allocation[]> {
    const lists = await Promise.all(
      ([4, 6] as const).map((f) => this.kv.list(ipamKeys.blocksPrefix(this.prefix, f))),
    );
    const out: Allocation[] = [];
    for (const { items } of lists) {
      for (const v of items) {
        const b = tryDecodeBlock(v.value);
        if (!b) continue;
        for (const { ordinal, attr } of allocationsOf(b))
          out.push({
            ip: hostCidrOf(b, ordinal),
            block: b.cidr,
            handle: attr?.handleId ?? null,
            attributes: { ...(attr?.secondary ?? {}) },
          });
      }
    }
    return out;
  }

  async ipsByHandle(handle: string): Promise<string[]> {
    checkHandleId(handle);
    const snap = await this.readHandle(handle);
    if (!snap) return [];
    const out: string[] = [];
    for (const cidr of Object.keys(snap.handle.block)) {
      const s = await this.readBlock(cidr);
      if (s) for (const o of ordinalsOfHandle(s.block, handle)) out.push(hostCidrOf(s.block, o));
    }
    return out.sort(compareCidrText);
  }

  // ---------------------------------------------------------------- affinities

  /** The blackhole contract: CIDRs of the blocks the node owns (its confirmed affinities). */
  async ownedBlocks(node: string): Promise<string[]> {
    const { items } = await this.kv.list(ipamKeys.hostPrefix(this.prefix, node));
    return ownedBlocksFromAffinities(node, items, this.prefix);
  }

  /**
   * Gives up one affinity: pendingDeletion → block deleted (empty) or, with force, left
   * without owner → affinity deleted. Without force a block that still holds addresses
   * is kept (the affinity goes back to confirmed).
   */
  private async releaseAffinity(
    node: string,
    a: AffinityEntry,
    force: boolean,
  ): Promise<'released' | 'kept' | 'gone'> {
    let marked = false;
    for (let i = 0; i <= this.maxRetries && !marked; i++) {
      const v = await this.kv.get(a.key);
      if (!v) return 'gone';
      if (decodeAffinity(v.value) === 'pendingDeletion') marked = true;
      else
        marked =
          (await this.kv.update(a.key, encodeAffinity('pendingDeletion'), v.modRevision)) !== undefined;
    }
    if (!marked) throw new IpamConflictError(`affinity ${a.key}: too many concurrent writers`);
    await this.hook('release-affinity:pending-deletion', { node, block: a.block });
    let outcome: 'released' | 'kept' | 'gone' = 'gone';
    for (let i = 0; i <= this.maxRetries; i++) {
      const cur = await this.readBlock(a.block);
      if (!cur || affinityNode(cur.block.affinity) !== node) break;
      if (isEmpty(cur.block)) {
        if (await this.kv.delete(cur.key, cur.rev)) {
          this.noteBlock(a.block, undefined);
          outcome = 'released';
          break;
        }
      } else if (!force) {
        for (let j = 0; j <= this.maxRetries; j++) {
          const v = await this.kv.get(a.key);
          if (!v) break;
          if (await this.kv.update(a.key, encodeAffinity('confirmed'), v.modRevision)) break;
        }
        return 'kept';
      } else {
        const next = withAffinity(cur.block, null);
        const rev = await this.kv.update(cur.key, encodeBlock(next), cur.rev);
        if (rev) {
          this.noteBlock(a.block, { key: cur.key, block: next, rev });
          outcome = 'released';
          break;
        }
      }
      await this.backoff(i);
    }
    await this.hook('release-affinity:block-done', { node, block: a.block });
    for (let i = 0; i <= this.maxRetries; i++) {
      const v = await this.kv.get(a.key);
      if (!v || (await this.kv.delete(a.key, v.modRevision))) break;
    }
    return outcome;
  }

  /** Releases the node's affinities: empty blocks are deleted; others are kept unless `force`. */
  async releaseAffinities(node: string, opts: { force?: boolean } = {}): Promise<ReleaseAffinitiesResult> {
    const res: ReleaseAffinitiesResult = { released: [], kept: [] };
    for (const a of await this.nodeAffinities(node)) {
      const r = await this.releaseAffinity(node, a, opts.force ?? false);
      if (r === 'released') res.released.push(a.block);
      else if (r === 'kept') res.kept.push(a.block);
    }
    this.cache.delete(node);
    res.released.sort(compareCidrText);
    res.kept.sort(compareCidrText);
    return res;
  }

  /** Deletes blocks with no owner and no allocation; returns their CIDRs. */
  async deleteEmptyBlocks(): Promise<string[]> {
    const out: string[] = [];
    for (const family of [4, 6] as const) {
      const { items } = await this.kv.list(ipamKeys.blocksPrefix(this.prefix, family));
      for (const v of items) {
        const b = tryDecodeBlock(v.value);
        if (!b) continue;
        if (b.affinity === null && isEmpty(b) && (await this.kv.delete(v.key, v.modRevision)))
          out.push(b.cidr);
      }
    }
    return out;
  }

  // ---------------------------------------------------------------- inspection

  /** Pool and block usage, for `tricolorctl ipam show`. */
  async usage(): Promise<IpamUsage> {
    const [pools, v4, v6] = await Promise.all([
      this.listPools(),
      this.kv.list(ipamKeys.blocksPrefix(this.prefix, 4)),
      this.kv.list(ipamKeys.blocksPrefix(this.prefix, 6)),
    ]);
    const choices = pools
      .map((pool) => ({ pool, cidr: parseCidr(pool.spec.cidr)! }))
      .filter((p) => p.cidr !== undefined);
    const blocks: BlockUsage[] = [];
    for (const v of [...v4.items, ...v6.items]) {
      const b = tryDecodeBlock(v.value);
      if (!b) continue;
      const used = usedCount(b);
      blocks.push({
        cidr: b.cidr,
        pool: poolOfBlock(choices, parseCidr(b.cidr)!)?.pool.metadata.name ?? null,
        owner: affinityNode(b.affinity) ?? null,
        size: b.allocations.length,
        used,
        free: b.allocations.length - used,
      });
    }
    blocks.sort((a, b) => compareCidrText(a.cidr, b.cidr));
    const poolUsage = choices.map(({ pool, cidr }) => {
      const mine = blocks.filter((b) => b.pool === pool.metadata.name);
      return {
        name: pool.metadata.name,
        cidr: pool.spec.cidr,
        blockSize: pool.spec.blockSize,
        disabled: pool.spec.disabled,
        blocksTotal: blockCount(cidr, pool.spec.blockSize).toString(),
        blocksClaimed: mine.length,
        addressesTotal: (1n << BigInt(familyBits(cidr.family) - cidr.prefixLength)).toString(),
        addressesInBlocks: mine.reduce((s, b) => s + b.size, 0),
        allocated: mine.reduce((s, b) => s + b.used, 0),
      };
    });
    return { pools: poolUsage, blocks };
  }

  /** Reads one consistent snapshot of IPAM state (a single range read) plus the resources it is judged against. */
  async check(opts: { leakGraceMs?: number } = {}): Promise<CheckReport> {
    const ipamPrefix = `${this.prefix}ipam/v2/`;
    // IPAM, then the resources, then the blocks again: allocations are judged against
    // endpoints read after them, endpoints against blocks read after them (see IpamSnapshot).
    const ipam = await this.kv.list(ipamPrefix);
    const [nodes, weps, pools] = await Promise.all([
      this.ds.list('Node'),
      this.ds.list('WorkloadEndpoint'),
      this.ds.list('IPPool'),
    ]);
    const [after4, after6] = await Promise.all([
      this.kv.list(ipamKeys.blocksPrefix(this.prefix, 4)),
      this.kv.list(ipamKeys.blocksPrefix(this.prefix, 6)),
    ]);
    const blocks: SnapshotBlock[] = [];
    const blocksAfterWorkloads: SnapshotBlock[] = [];
    const handles: { id: string; handle: Handle }[] = [];
    const affEntries: { key: string; value: string }[] = [];
    const bp4 = ipamKeys.blocksPrefix(this.prefix, 4);
    const bp6 = ipamKeys.blocksPrefix(this.prefix, 6);
    const hp = ipamKeys.handlesPrefix(this.prefix);
    const snapshotBlock = (key: string, value: string): SnapshotBlock => {
      const part = key.slice((key.startsWith(bp4) ? bp4 : bp6).length);
      const c = cidrFromKeyPart(part);
      return { key, cidr: c ? formatCidr(c) : part, block: tryDecodeBlock(value) };
    };
    for (const v of [...after4.items, ...after6.items])
      blocksAfterWorkloads.push(snapshotBlock(v.key, v.value));
    for (const v of ipam.items) {
      if (v.key.startsWith(bp4) || v.key.startsWith(bp6)) {
        blocks.push(snapshotBlock(v.key, v.value));
      } else if (v.key.startsWith(hp)) {
        const id = v.key.slice(hp.length);
        handles.push({ id, handle: decodeHandle(v.value, id) });
      } else if (v.key.startsWith(ipamKeys.affinitiesPrefix(this.prefix))) {
        affEntries.push(v);
      }
    }
    return checkSnapshot({
      revision: ipam.revision,
      blocks,
      affinities: parseAffinities(affEntries, this.prefix),
      handles,
      nodes: new Set(nodes.items.map((n) => n.metadata.name)),
      workloads: weps.items,
      blocksAfterWorkloads,
      pools: pools.items,
      now: Date.now(),
      leakGraceMs: opts.leakGraceMs ?? this.leakGraceMs,
    });
  }

  /**
   * Acts on a check report (a fresh one when none is given), then checks again, up to a
   * few rounds. Handle records are rewritten last, from fresh block reads, because the
   * other repairs change allocations.
   */
  async repair(report?: CheckReport): Promise<RepairResult> {
    const actions: string[] = [];
    const failures: string[] = [];
    let rep = report ?? (await this.check());
    for (let round = 0; round < 5; round++) {
      const todo = rep.problems.filter((p) => p.repairable);
      if (todo.length === 0) break;
      const structural = todo.filter((p) => p.kind !== 'handle-mismatch' && p.kind !== 'orphan-handle');
      const batch = structural.length > 0 ? structural : todo;
      batch.sort((a, b) => REPAIR_ORDER.indexOf(a.kind) - REPAIR_ORDER.indexOf(b.kind));
      const before = actions.length;
      for (const p of batch) {
        try {
          const a = await this.repairOne(p);
          if (a) actions.push(a);
        } catch (e) {
          failures.push(`${p.message}: ${(e as Error).message}`);
        }
      }
      rep = await this.check();
      if (actions.length === before && structural.length === 0) break;
    }
    this.cache.clear();
    return { ok: rep.ok, actions, failures, remaining: rep.problems };
  }

  private async repairOne(p: Problem): Promise<string | undefined> {
    switch (p.kind) {
      case 'block-inconsistent': {
        for (let i = 0; i <= this.maxRetries; i++) {
          const cur = await this.readBlock(p.block!);
          if (!cur) return undefined;
          const next = repairBlock(cur.block);
          if (await this.kv.update(cur.key, encodeBlock(next), cur.rev)) return `rebuilt block ${p.block}`;
        }
        throw new IpamConflictError('block keeps changing');
      }
      case 'leaked-address': {
        const ip = parseHostIp(p.ip!);
        const r = await this.releaseInBlock(p.block!, (b) => {
          const o = ordinalOf(b, ip);
          if (o === undefined) return [];
          const a = b.allocations[o];
          return a !== null && a !== undefined && b.attributes[a]?.handleId === p.handle ? [o] : [];
        });
        if (!r) return undefined;
        await this.uncountHandle(p.handle!, p.block!, 1);
        return `released leaked ${p.ip} (handle ${p.handle})`;
      }
      case 'ghost-endpoint':
        return this.deleteGhostEndpoint(p);
      case 'pending-affinity': {
        const c = parseCidr(p.block!)!;
        const got = await this.finishClaim(p.node!, c, ipamKeys.affinity(this.prefix, p.node!, c), false);
        return got
          ? `confirmed ${p.node}'s claim of ${p.block}`
          : `dropped ${p.node}'s unfinished claim of ${p.block}`;
      }
      case 'pending-deletion-affinity': {
        const c = parseCidr(p.block!)!;
        const r = await this.releaseAffinity(
          p.node!,
          {
            node: p.node!,
            block: p.block!,
            state: 'pendingDeletion',
            key: ipamKeys.affinity(this.prefix, p.node!, c),
          },
          false,
        );
        return r === 'kept'
          ? `restored ${p.node}'s affinity for ${p.block} (block not empty)`
          : `finished releasing ${p.block} from ${p.node}`;
      }
      case 'affinity-without-block': {
        const c = parseCidr(p.block!)!;
        const key = ipamKeys.affinity(this.prefix, p.node!, c);
        const v = await this.kv.get(key);
        const cur = await this.readBlock(c);
        if (!v || (cur && affinityNode(cur.block.affinity) === p.node)) return undefined;
        if (await this.kv.delete(key, v.modRevision))
          return `deleted ${p.node}'s affinity for ${p.block} (block not theirs)`;
        throw new IpamConflictError('affinity changed meanwhile');
      }
      case 'block-without-affinity': {
        const c = parseCidr(p.block!)!;
        const cur = await this.readBlock(c);
        if (!cur || affinityNode(cur.block.affinity) !== p.node) return undefined;
        if (await this.kv.create(ipamKeys.affinity(this.prefix, p.node!, c), encodeAffinity('confirmed')))
          return `restored ${p.node}'s affinity for ${p.block}`;
        return undefined;
      }
      case 'stale-node-affinity': {
        const c = parseCidr(p.block!)!;
        const key = ipamKeys.affinity(this.prefix, p.node!, c);
        const v = await this.kv.get(key);
        if (v) {
          await this.releaseAffinity(
            p.node!,
            { node: p.node!, block: p.block!, state: decodeAffinity(v.value), key },
            true,
          );
          return `released ${p.block} from removed node ${p.node}`;
        }
        for (let i = 0; i <= this.maxRetries; i++) {
          const cur = await this.readBlock(c);
          if (!cur || affinityNode(cur.block.affinity) !== p.node) return undefined;
          const ok = isEmpty(cur.block)
            ? await this.kv.delete(cur.key, cur.rev)
            : (await this.kv.update(cur.key, encodeBlock(withAffinity(cur.block, null)), cur.rev)) !==
              undefined;
          if (ok) return `released ${p.block} from removed node ${p.node}`;
        }
        throw new IpamConflictError('block keeps changing');
      }
      case 'empty-unaffined-block': {
        const cur = await this.readBlock(p.block!);
        if (
          cur &&
          cur.block.affinity === null &&
          isEmpty(cur.block) &&
          (await this.kv.delete(cur.key, cur.rev))
        )
          return `deleted empty unowned block ${p.block}`;
        return undefined;
      }
      case 'handle-mismatch':
      case 'orphan-handle':
        return this.rewriteHandle(p.handle!, Object.keys(p.expected ?? {}));
      default:
        return undefined;
    }
  }

  /**
   * Deletes an endpoint that no allocation backs, after checking again on fresh reads: the
   * endpoint must be the very version the check saw (a CNI ADD rewriting it changes its
   * resourceVersion, and the delete is a compare-and-swap on it), and still none of its
   * addresses may be allocated to it.
   */
  private async deleteGhostEndpoint(p: Problem): Promise<string | undefined> {
    const { namespace, name, resourceVersion } = p.endpoint!;
    const w = await this.ds.get('WorkloadEndpoint', name, namespace);
    if (!w || (resourceVersion && w.metadata.resourceVersion !== resourceVersion)) return undefined;
    const blocks: SnapshotBlock[] = [];
    for (const net of w.spec.ipNetworks) {
      const c = parseCidr(net);
      const ip = c && { family: c.family, value: c.address };
      const cidr = ip && (await this.blockCidrs(ip.family)).find((b) => cidrContainsIp(parseCidr(b)!, ip));
      const cur = cidr ? await this.readBlock(cidr) : undefined;
      if (cur) blocks.push({ key: cur.key, cidr: cur.block.cidr, block: cur.block });
    }
    const still = checkSnapshot({
      revision: '0',
      blocks: [],
      blocksAfterWorkloads: blocks,
      affinities: [],
      handles: [],
      nodes: new Set(),
      workloads: [w],
      pools: [],
      leakGraceMs: 0,
    }).problems.some((q) => q.kind === 'ghost-endpoint');
    if (!still) return undefined;
    try {
      const rv = w.metadata.resourceVersion!;
      if (!(await this.ds.delete('WorkloadEndpoint', name, namespace, { resourceVersion: rv })))
        return undefined;
    } catch (e) {
      if (e instanceof ConflictError) return undefined; // rewritten meanwhile: judged again next time
      throw e;
    }
    return `deleted ghost WorkloadEndpoint ${namespace}/${name} (${p.message.replace(/^.*has no allocation: /, '')})`;
  }

  /** Recounts a handle from fresh block reads and rewrites (or deletes) its record. */
  private async rewriteHandle(handle: string, extraBlocks: string[]): Promise<string | undefined> {
    const key = ipamKeys.handle(this.prefix, handle);
    for (let i = 0; i <= this.maxRetries; i++) {
      const v = await this.kv.get(key);
      const recorded = v ? decodeHandle(v.value, handle) : undefined;
      const blocks = new Set([...Object.keys(recorded?.block ?? {}), ...extraBlocks]);
      const counts: Record<string, number> = {};
      for (const cidr of blocks) {
        const s = await this.readBlock(cidr);
        const n = s ? ordinalsOfHandle(s.block, handle).length : 0;
        if (n > 0) counts[cidr] = n;
      }
      const next: Handle = { handleId: handle, block: counts };
      let ok: boolean;
      if (!v) ok = isHandleEmpty(next) || (await this.kv.create(key, encodeHandle(next))) !== undefined;
      else if (isHandleEmpty(next)) ok = await this.kv.delete(key, v.modRevision);
      else ok = (await this.kv.update(key, encodeHandle(next), v.modRevision)) !== undefined;
      if (ok) return `rewrote handle ${handle}: ${JSON.stringify(counts)}`;
      await this.backoff(i);
    }
    throw new IpamConflictError(`handle ${handle} keeps changing`);
  }
}

/** Parses "10.0.0.1" or "10.0.0.1/32" (a host address); throws IpamRequestError otherwise. */
export function parseHostIp(s: string): IpAddress {
  const c = parseCidr(s);
  if (!c || c.prefixLength !== familyBits(c.family)) {
    throw new IpamRequestError(`ip: ${JSON.stringify(s)} is not an IP address`);
  }
  return { family: c.family, value: c.address };
}
