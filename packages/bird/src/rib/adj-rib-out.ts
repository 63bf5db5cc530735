/**
 * Adj-RIB-Out of one peer: what we last sent per prefix (an outbound attribute key), and a
 * queue of changes packed into as few UPDATEs as possible — one attribute set per UPDATE,
 * as many NLRI as fit in 4096 octets.
 */
import {
  type DecodeContext,
  encodeUpdate,
  ipv4FromString,
  ipv6FromString,
  type PathAttribute,
  type Prefix,
  parsePrefix,
} from 'bgp-parser-ts';

interface Group {
  attributes: PathAttribute[];
  nextHop: string;
  v4: Prefix[];
  v6: Prefix[];
}

export class AdjRibOut {
  /** prefix → outbound key. */
  readonly sent = new Map<string, string>();
  private groups = new Map<string, Group>();
  private withdrawV4: Prefix[] = [];
  private withdrawV6: Prefix[] = [];

  get size(): number {
    return this.sent.size;
  }

  /** Queues an announcement (or a withdrawal with `out` undefined) when it differs from what was sent. */
  stage(
    prefix: string,
    out: { key: string; attributes: PathAttribute[]; nextHop: string } | undefined,
  ): void {
    const cur = this.sent.get(prefix);
    if (out === undefined) {
      if (cur === undefined) return;
      this.sent.delete(prefix);
      const p = parsePrefix(prefix);
      (p.afi === 1 ? this.withdrawV4 : this.withdrawV6).push(p);
      return;
    }
    if (cur === out.key) return;
    this.sent.set(prefix, out.key);
    let g = this.groups.get(out.key);
    if (!g) {
      g = { attributes: out.attributes, nextHop: out.nextHop, v4: [], v6: [] };
      this.groups.set(out.key, g);
    }
    const p = parsePrefix(prefix);
    (p.afi === 1 ? g.v4 : g.v6).push(p);
  }

  /** Forgets what was sent (session down or route refresh): the next export resends everything. */
  reset(): void {
    this.sent.clear();
    this.groups.clear();
    this.withdrawV4 = [];
    this.withdrawV6 = [];
  }

  get pending(): boolean {
    return this.groups.size > 0 || this.withdrawV4.length > 0 || this.withdrawV6.length > 0;
  }

  /** Encodes the queued changes; `selfV4`/`selfV6` replace an empty next hop. */
  build(ctx: DecodeContext, selfV4: string | undefined, selfV6: string | undefined): Uint8Array[] {
    const out: Uint8Array[] = [];
    const chunk = <T>(xs: T[], n: number): T[][] => {
      const r: T[][] = [];
      for (let i = 0; i < xs.length; i += n) r.push(xs.slice(i, i + n));
      return r;
    };
    for (const w of chunk(this.withdrawV4, 800))
      out.push(encodeUpdate({ withdrawn: w, attributes: [], nlri: [] }, ctx));
    for (const w of chunk(this.withdrawV6, 200))
      out.push(
        encodeUpdate(
          {
            withdrawn: [],
            nlri: [],
            attributes: [{ kind: 'mp-unreach', flags: 0x80, afi: 2, safi: 1, withdrawn: w }],
          },
          ctx,
        ),
      );
    for (const g of this.groups.values()) {
      const nh4 = g.nextHop && !g.nextHop.includes(':') ? g.nextHop : selfV4;
      const nh6 = g.nextHop?.includes(':') ? g.nextHop : selfV6;
      if (g.v4.length && nh4) {
        const attrs: PathAttribute[] = [...g.attributes];
        attrs.splice(Math.min(2, attrs.length), 0, {
          kind: 'next-hop',
          flags: 0x40,
          nextHop: ipv4FromString(nh4),
        });
        for (const n of chunk(g.v4, 700))
          out.push(encodeUpdate({ withdrawn: [], attributes: attrs, nlri: n }, ctx));
      }
      if (g.v6.length && nh6) {
        for (const n of chunk(g.v6, 180)) {
          const reach: PathAttribute = {
            kind: 'mp-reach',
            flags: 0x80,
            afi: 2,
            safi: 1,
            nextHop: ipv6FromString(nh6),
            reserved: 0,
            nlri: n,
          };
          out.push(encodeUpdate({ withdrawn: [], attributes: [reach, ...g.attributes], nlri: [] }, ctx));
        }
      }
    }
    this.groups.clear();
    this.withdrawV4 = [];
    this.withdrawV6 = [];
    return out;
  }
}

/** End-of-RIB markers (RFC 4724) for the families of a session. */
export function endOfRib(afi: 1 | 2, ctx: DecodeContext): Uint8Array {
  if (afi === 1) return encodeUpdate({ withdrawn: [], attributes: [], nlri: [] }, ctx);
  return encodeUpdate(
    {
      withdrawn: [],
      nlri: [],
      attributes: [{ kind: 'mp-unreach', flags: 0x80, afi: 2, safi: 1, withdrawn: [] }],
    },
    ctx,
  );
}
