import { u16 } from '../writer.js';
import type { CapSpec } from './types.js';

/** Extended Next Hop Encoding (code 5, RFC 8950): NLRI AFI/SAFI that may use a next hop of another AFI. */
export interface ExtendedNextHopCapability {
  kind: 'extended-next-hop';
  entries: { afi: number; safi: number; nextHopAfi: number }[];
}

export const extendedNextHopCap: CapSpec<ExtendedNextHopCapability> = {
  code: 5,
  kind: 'extended-next-hop',
  decode(v) {
    if (v.length % 6 !== 0) return `extended next hop capability length ${v.length}`;
    const entries = [];
    for (let i = 0; i < v.length; i += 6)
      entries.push({ afi: u16(v, i), safi: u16(v, i + 2), nextHopAfi: u16(v, i + 4) });
    return { kind: 'extended-next-hop', entries };
  },
  encode(c) {
    const out = new Uint8Array(c.entries.length * 6);
    c.entries.forEach((e, k) => {
      out.set([e.afi >> 8, e.afi, e.safi >> 8, e.safi, e.nextHopAfi >> 8, e.nextHopAfi], k * 6);
    });
    return out;
  },
};
