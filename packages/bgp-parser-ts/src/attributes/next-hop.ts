import { u32 } from '../writer.js';
import { type AttrSpec, FLAGS_WITHDRAW_3E, problem } from './types.js';

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
  rule: 'RFC 7606 §7.3',
  onFlagsError: FLAGS_WITHDRAW_3E,
  decode(v, flags) {
    if (v.length !== 4) return problem(5, `NEXT_HOP length ${v.length}`);
    // Whether the address is a valid host (3/8) is checked by the UPDATE decoder, and only
    // when the NLRI field uses it: an UPDATE with MP_REACH_NLRI alone ignores NEXT_HOP (RFC 4760 §3).
    return { kind: 'next-hop', flags, nextHop: u32(v, 0) };
  },
  encode(a, w) {
    w.u32(a.nextHop);
  },
};
