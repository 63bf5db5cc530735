import { u32 } from '../writer.js';
import { type AttrSpec, problem } from './types.js';

/** NEXT_HOP (type 3): IPv4 next hop of the NLRI field, as an unsigned 32-bit number. */
export interface NextHopAttribute {
  kind: 'next-hop';
  flags: number;
  nextHop: number;
}

export const nextHopSpec: AttrSpec<NextHopAttribute> = {
  code: 3,
  kind: 'next-hop',
  flags: 0x40,
  onError: 'treat-as-withdraw',
  decode(v, flags) {
    if (v.length !== 4) return problem(5, `NEXT_HOP length ${v.length}`);
    const nh = u32(v, 0);
    // Syntactic checks only (RFC 4271 §6.3); "is it our own address" is the speaker's job.
    if (nh === 0 || nh >>> 28 === 0xe) return problem(8, 'NEXT_HOP is 0.0.0.0 or multicast');
    return { kind: 'next-hop', flags, nextHop: nh };
  },
  encode(a, w) {
    w.u32(a.nextHop);
  },
};
