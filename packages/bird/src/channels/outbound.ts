/**
 * What a best path looks like on the wire towards a peer, computed once for all peers that
 * see it alike. Export rules (policy/export.ts, rib/reflection.ts) depend on the target only
 * through split horizon (its peer index) and its kind (eBGP or iBGP, 4-octet AS), so the
 * outbound set of (attribute set, source peer, kind) is computed once and kept until the
 * attribute set goes away: a route reflector with 500 clients encodes a reflected path's
 * attributes once, not 500 times, and not again when a client session comes up. Outbound
 * sets are interned by their encoded bytes and reference counted by the Adj-RIBs-Out (and
 * this cache) that hold them.
 */
import { Buffer } from 'node:buffer';
import { createContext, encodeAttribute, ipv4FromString, Writer } from 'bgp-parser-ts';
import { type ExportLocal, outboundPath } from '../policy/export.js';
import { type Interned, InternStore } from '../rib/intern.js';
import type { LocRib, PathRef } from '../rib/loc-rib.js';
import { mayAdvertise } from '../rib/reflection.js';

export interface OutSet extends Interned {
  /** Encoded path attributes without NEXT_HOP and MP_REACH/MP_UNREACH. */
  readonly attrs: Uint8Array;
  /** Where NEXT_HOP goes in `attrs` (after ORIGIN and AS_PATH). */
  readonly nhPos: number;
  /** The next hop to announce; '' = the session's own address (next hop self). */
  readonly nextHop: string;
  /** `nextHop` as a number when it is IPv4 (0 otherwise). */
  readonly nextHop4: number;
}

/** The receiving side as export rules see it. */
export interface ExportTarget {
  readonly peerIdx: number;
  readonly ebgp: boolean;
  readonly rrClient: boolean;
  readonly fourOctetAs: boolean;
}

const CTX4 = createContext({ fourOctetAs: true });
const CTX2 = createContext({ fourOctetAs: false });

export class OutStore extends InternStore<OutSet> {
  constructor() {
    super('outbound set');
  }

  /** The set of these encoded attributes and next hop. Does not add a reference. */
  internOut(attrs: Uint8Array, nhPos: number, nextHop: string): OutSet {
    const key = `${nextHop}|${Buffer.from(attrs.buffer, attrs.byteOffset, attrs.length).toString('latin1')}`;
    return this.internWith(key, (id) => ({
      id,
      key,
      attrs,
      nhPos,
      nextHop,
      nextHop4: nextHop && !nextHop.includes(':') ? ipv4FromString(nextHop) : 0,
      refs: 0,
    }));
  }
}

interface Cached {
  id: number;
  /** The source's router id when computed (reflection puts it in ORIGINATOR_ID). */
  routerId: number;
}

export class Exporter {
  readonly out = new OutStore();
  /** attribute set id → (source peer, target kind) → outbound set, while the attribute set lives. */
  private readonly cache = new Map<number, Map<number, Cached>>();
  private readonly writer = new Writer(512);

  constructor(
    private readonly rib: LocRib,
    private readonly local: ExportLocal,
  ) {
    rib.store.onFree = (set) => this.forget(set.id);
  }

  private forget(attrId: number): void {
    const m = this.cache.get(attrId);
    if (!m) return;
    this.cache.delete(attrId);
    for (const c of m.values()) this.out.unref(c.id);
  }

  /** The outbound set id of a best path towards a target; 0 when it must not be advertised. */
  outbound(best: PathRef | undefined, t: ExportTarget): number {
    if (!best) return 0;
    const src = this.rib.peers[best.peer];
    if (!src) return 0;
    const reflector = this.local.clusterId !== undefined;
    if (
      !mayAdvertise(
        {
          peerIdx: src.idx,
          local: src.local,
          ebgp: src.ebgp,
          rrClient: src.rrClient,
          routerId: src.routerId,
        },
        t,
        reflector,
      )
    )
      return 0;
    const key = ((best.peer * 2 + (src.ebgp ? 1 : 0)) * 2 + (t.ebgp ? 1 : 0)) * 2 + (t.fourOctetAs ? 1 : 0);
    let m = this.cache.get(best.attrId);
    const hit = m?.get(key);
    if (hit && hit.routerId === src.routerId) return hit.id;
    const reflecting = !src.local && !src.ebgp && !t.ebgp;
    const o = outboundPath(
      this.rib.store.get(best.attrId),
      { local: src.local, ebgp: src.ebgp, routerId: src.routerId },
      { ebgp: t.ebgp },
      reflecting,
      this.local,
    );
    const w = this.writer;
    w.pos = 0;
    let nhPos = 0;
    const ctx = t.fourOctetAs ? CTX4 : CTX2;
    for (const a of o.attributes) {
      encodeAttribute(a, w, ctx);
      if (a.kind === 'origin' || a.kind === 'as-path') nhPos = w.pos;
    }
    const set = this.out.internOut(w.finish(), nhPos, o.nextHop);
    this.out.ref(set.id);
    if (hit) this.out.unref(hit.id);
    if (!m) {
      m = new Map();
      this.cache.set(best.attrId, m);
    }
    m.set(key, { id: set.id, routerId: src.routerId });
    return set.id;
  }
}
