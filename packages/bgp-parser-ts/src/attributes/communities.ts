import { u32 } from '../writer.js';
import { type AttrSpec, FLAGS_WITHDRAW_3C, problem } from './types.js';

/** COMMUNITIES (type 8, RFC 1997): each community a 32-bit number (high 16 bits = AS). */
export interface CommunitiesAttribute {
  kind: 'communities';
  flags: number;
  communities: number[];
}

export const communitiesSpec: AttrSpec<CommunitiesAttribute> = {
  code: 8,
  kind: 'communities',
  flags: 0xc0,
  onError: 'treat-as-withdraw',
  rule: 'RFC 7606 §7.8',
  onFlagsError: FLAGS_WITHDRAW_3C,
  decode(v, flags) {
    if (v.length === 0 || v.length % 4 !== 0) return problem(5, `COMMUNITIES length ${v.length}`);
    const communities = new Array<number>(v.length / 4);
    for (let i = 0; i < communities.length; i++) communities[i] = u32(v, i * 4);
    return { kind: 'communities', flags, communities };
  },
  encode(a, w) {
    for (const c of a.communities) w.u32(c);
  },
};

export function communityToString(c: number): string {
  return `${c >>> 16}:${c & 0xffff}`;
}
