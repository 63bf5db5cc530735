/**
 * Loc-RIB: the best path (and its ECMP siblings) of every prefix across all Adj-RIBs-In.
 * IPv4 best paths live in a PrefixTable (a = peer index, b = attribute-set id · 2 + stale,
 * c = the prefix's id: a small number that channels index bitsets with, given back for
 * reuse once every channel saw the prefix go);
 * prefixes with several equal paths or add-path ids also get an entry in `v4multi`; IPv6
 * prefixes are in `other`. Every change of a best path marks the prefix dirty (a list, kept
 * free of repeats by a flag on the prefix's slot); the speaker drains the dirty prefixes
 * into its channels (channels/): each peer's Adj-RIB-Out and the kernel.
 */

import { AdjRibIn, STALE } from './adj-rib-in.js';
import type { AttrSet, AttrStore } from './attrs.js';
import { type Candidate, selectBest } from './decision.js';
import { PrefixList, PrefixTable, U32List, v4String } from './prefix-table.js';

/** Slot flag of `v4`: the prefix is in the dirty list already. */
const DIRTY = 1;

export interface RibPeer {
  readonly idx: number;
  readonly name: string;
  /** The pseudo-peer holding routes this speaker originates. */
  readonly local: boolean;
  ebgp: boolean;
  routerId: number;
  readonly addressKey: string;
  readonly adjIn: AdjRibIn;
  /** Route-reflector client (RFC 4456) of this speaker. */
  rrClient: boolean;
}

export interface PathRef {
  readonly peer: number;
  readonly attrId: number;
  readonly pathId: number;
  readonly stale: boolean;
}

function sameList(a: readonly PathRef[] | undefined, b: readonly PathRef[]): boolean {
  if (!a || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x.peer !== y.peer || x.attrId !== y.attrId || x.pathId !== y.pathId || x.stale !== y.stale)
      return false;
  }
  return true;
}

export class LocRib {
  readonly peers: (RibPeer | undefined)[] = [];
  readonly v4 = new PrefixTable(1024, true);
  readonly v4multi = new Map<string, PathRef[]>();
  readonly other = new Map<string, PathRef[]>();
  private dirtyV4 = new PrefixList();
  private spareV4 = new PrefixList();
  /** Prefix id of each entry of the dirty list (the id it had when it went, for removed prefixes). */
  private dirtyIds = new U32List();
  private spareIds = new U32List();
  private nextId = 1;
  private readonly freeIds: number[] = [];
  /** Ids of prefixes removed since the last drain: free again once channels saw them go. */
  private retiring: number[] = [];
  private readonly dirtyOther = new Set<string>();
  /** Called once when the first prefix becomes dirty after a drain. */
  onDirty: (() => void) | undefined;
  private activePeers: RibPeer[] = [];
  // Scratch buffers for candidate collection (avoid per-prefix allocation).
  private readonly scratch: PathRef[] = [];

  constructor(readonly store: AttrStore) {}

  addPeer(p: Omit<RibPeer, 'idx' | 'adjIn'>): RibPeer {
    let idx = this.peers.indexOf(undefined);
    if (idx < 0) idx = this.peers.length;
    const peer: RibPeer = { ...p, idx, adjIn: new AdjRibIn(this.store) };
    this.peers[idx] = peer;
    this.activePeers = this.peers.filter((x): x is RibPeer => x !== undefined);
    return peer;
  }

  /** Removes a peer and all its paths. */
  removePeer(peer: RibPeer): void {
    this.clearPeer(peer);
    this.peers[peer.idx] = undefined;
    this.activePeers = this.peers.filter((x): x is RibPeer => x !== undefined);
  }

  clearPeer(peer: RibPeer): void {
    peer.adjIn.clear(
      (a, l) => this.updateV4(a, l),
      (p) => this.updateOther(p),
    );
  }

  get size(): number {
    return this.v4.size + this.other.size;
  }

  /** Marks a prefix whose best paths changed; `slot` is its slot in `v4`, or -1 once removed. */
  private markV4(addr: number, len: number, slot: number, id: number): void {
    if (slot >= 0) {
      if (this.v4.slotFlags(slot) & DIRTY) return;
      this.v4.setSlotFlags(slot, DIRTY);
    }
    if (this.dirtyV4.length === 0 && this.dirtyOther.size === 0) this.onDirty?.();
    this.dirtyV4.push(addr, len);
    this.dirtyIds.push(id);
  }

  /** The id of an IPv4 prefix in the Loc-RIB, 0 when it has no route. */
  idOfV4(addr: number, len: number): number {
    const slot = this.v4.find(addr, len);
    return slot >= 0 ? this.v4.slotC(slot) : 0;
  }

  private markOther(p: string): void {
    if (this.dirtyV4.length === 0 && this.dirtyOther.size === 0) this.onDirty?.();
    this.dirtyOther.add(p);
  }

  /** Prefixes waiting to be drained. */
  get dirtyCount(): number {
    return this.dirtyV4.length + this.dirtyOther.size;
  }

  private candidate(ref: PathRef): Candidate {
    const peer = this.peers[ref.peer]!;
    return {
      attrs: this.store.get(ref.attrId),
      local: peer.local,
      ebgp: peer.ebgp,
      peerRouterId: peer.routerId,
      peerAddress: peer.addressKey,
    };
  }

  private choose(refs: PathRef[]): PathRef[] {
    if (refs.length <= 1) return refs.slice();
    const order = selectBest(refs.map((r) => this.candidate(r)));
    return order.map((i) => refs[i]!);
  }

  /** Recomputes the best path of an IPv4 prefix after its candidates changed. */
  updateV4(addr: number, len: number): void {
    const refs = this.scratch;
    refs.length = 0;
    let key: string | undefined;
    for (const p of this.activePeers) {
      const slot = p.adjIn.v4.find(addr, len);
      if (slot >= 0)
        refs.push({
          peer: p.idx,
          attrId: p.adjIn.v4.slotA(slot),
          pathId: 0,
          stale: (p.adjIn.v4.slotB(slot) & STALE) !== 0,
        });
      if (p.adjIn.other.size > 0) {
        key ??= v4String(addr, len);
        const m = p.adjIn.other.get(key);
        if (m)
          for (const [pathId, v] of m)
            refs.push({ peer: p.idx, attrId: v >> 1, pathId, stale: (v & 1) === 1 });
      }
    }
    const slot = this.v4.find(addr, len);
    if (refs.length === 0) {
      if (slot < 0) return;
      const id = this.v4.slotC(slot);
      this.v4.deleteSlot(slot);
      this.retiring.push(id);
      if (this.v4multi.size > 0) this.v4multi.delete(key ?? v4String(addr, len));
      this.markV4(addr, len, -1, id);
      return;
    }
    if (refs.length === 1 && refs[0]!.pathId === 0 && this.v4multi.size === 0) {
      const r = refs[0]!;
      const b = r.attrId * 2 + (r.stale ? 1 : 0);
      if (slot >= 0 && this.v4.slotA(slot) === r.peer && this.v4.slotB(slot) === b) return;
      // Only the stale mark changed (graceful restart): nothing a channel shows changes.
      const quiet = slot >= 0 && this.v4.slotA(slot) === r.peer && this.v4.slotB(slot) >> 1 === r.attrId;
      const at = this.store4(addr, len, slot, r.peer, b);
      if (!quiet) this.markV4(addr, len, at, this.v4.slotC(at));
      return;
    }
    const best = this.choose(refs);
    key ??= v4String(addr, len);
    const first = best[0]!;
    const b = first.attrId * 2 + (first.stale ? 1 : 0);
    const multi = best.length > 1 || first.pathId !== 0;
    const old = this.v4multi.get(key);
    const same =
      slot >= 0 &&
      this.v4.slotA(slot) === first.peer &&
      this.v4.slotB(slot) === b &&
      (multi ? sameList(old, best) : old === undefined);
    if (same) return;
    const at = this.store4(addr, len, slot, first.peer, b);
    if (multi) this.v4multi.set(key, best);
    else this.v4multi.delete(key);
    this.markV4(addr, len, at, this.v4.slotC(at));
  }

  /** Writes a best path into `v4` (at `slot` when the prefix is there); returns its slot. */
  private store4(addr: number, len: number, slot: number, peer: number, b: number): number {
    if (slot >= 0) {
      this.v4.setSlotA(slot, peer);
      this.v4.setSlotB(slot, b);
      return slot;
    }
    this.v4.set(addr, len, peer, b);
    const at = this.v4.find(addr, len);
    this.v4.setSlotC(at, this.freeIds.pop() ?? this.nextId++);
    return at;
  }

  /** Recomputes an IPv6 prefix (or an add-path IPv4 prefix, which is handed to updateV4). */
  updateOther(prefix: string): void {
    if (!prefix.includes(':')) {
      const [a, l] = prefix.split('/');
      const o = a!.split('.').map(Number);
      this.updateV4((((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0) as number, Number(l));
      return;
    }
    const refs: PathRef[] = [];
    for (const p of this.activePeers) {
      const m = p.adjIn.other.get(prefix);
      if (m)
        for (const [pathId, v] of m) refs.push({ peer: p.idx, attrId: v >> 1, pathId, stale: (v & 1) === 1 });
    }
    const old = this.other.get(prefix);
    if (refs.length === 0) {
      if (!old) return;
      this.other.delete(prefix);
      this.markOther(prefix);
      return;
    }
    const best = this.choose(refs);
    if (sameList(old, best)) return;
    this.other.set(prefix, best);
    this.markOther(prefix);
  }

  /** Best paths of an IPv4 prefix, best first (empty when none). */
  pathsV4(addr: number, len: number): PathRef[] {
    const slot = this.v4.find(addr, len);
    if (slot < 0) return [];
    if (this.v4multi.size > 0) {
      const m = this.v4multi.get(v4String(addr, len));
      if (m) return m;
    }
    const b = this.v4.slotB(slot);
    return [{ peer: this.v4.slotA(slot), attrId: b >>> 1, pathId: 0, stale: (b & 1) === 1 }];
  }

  /** Best paths of any prefix given as a string. */
  paths(prefix: string): PathRef[] {
    if (prefix.includes(':')) return this.other.get(prefix) ?? [];
    const [a, l] = prefix.split('/');
    const o = a!.split('.').map(Number);
    return this.pathsV4((((o[0]! << 24) | (o[1]! << 16) | (o[2]! << 8) | o[3]!) >>> 0) as number, Number(l));
  }

  attrs(ref: PathRef): AttrSet {
    return this.store.get(ref.attrId);
  }

  /**
   * Takes the dirty prefixes, IPv4 as numbers (no strings on the bulk path). A prefix may
   * come twice (removed and added again in one batch); handlers look at its paths now.
   */
  drainDirty(onV4: (addr: number, len: number, id: number) => void, onOther: (p: string) => void): void {
    // Swapped out first: prefixes marked while the handlers run wait for the next drain.
    const v4 = this.dirtyV4;
    const ids = this.dirtyIds;
    this.dirtyV4 = this.spareV4;
    this.spareV4 = v4;
    this.dirtyIds = this.spareIds;
    this.spareIds = ids;
    const retired = this.retiring;
    this.retiring = [];
    const other = [...this.dirtyOther];
    this.dirtyOther.clear();
    for (let i = 0; i < v4.length; i++) {
      const addr = v4.addr(i);
      const len = v4.len(i);
      const slot = this.v4.find(addr, len);
      if (slot >= 0) this.v4.setSlotFlags(slot, 0);
      onV4(addr, len, ids.at(i));
    }
    v4.clear();
    ids.clear();
    for (const id of retired) this.freeIds.push(id);
    for (const p of other) onOther(p);
  }

  /** Every IPv4 prefix with its best paths and id, as numbers. */
  forEachV4(cb: (addr: number, len: number, paths: PathRef[], id: number) => void): void {
    this.v4.forEachSlot((slot, addr, len) => {
      cb(addr, len, this.pathsV4(addr, len), this.v4.slotC(slot));
    });
  }

  /** Every prefix with its best paths (for display). */
  forEachRoute(cb: (prefix: string, paths: PathRef[]) => void): void {
    this.v4.forEach((addr, len) => {
      cb(v4String(addr, len), this.pathsV4(addr, len));
    });
    for (const [p, refs] of this.other) cb(p, refs);
  }
}
