import { u32 } from '../writer.js';
import { type AttrSpec, FLAGS_WITHDRAW_3C, problem } from './types.js';

/** LARGE_COMMUNITY (type 32, RFC 8092): [global administrator, local 1, local 2]. */
export interface LargeCommunitiesAttribute {
  kind: 'large-communities';
  flags: number;
  communities: [number, number, number][];
}

export const largeCommunitiesSpec: AttrSpec<LargeCommunitiesAttribute> = {
  code: 32,
  kind: 'large-communities',
  flags: 0xc0,
  onError: 'treat-as-withdraw',
  rule: 'RFC 8092 §6',
  onFlagsError: FLAGS_WITHDRAW_3C,
  decode(v, flags) {
    if (v.length === 0 || v.length % 12 !== 0) return problem(5, `LARGE_COMMUNITY length ${v.length}`);
    const communities: [number, number, number][] = [];
    for (let i = 0; i < v.length; i += 12) communities.push([u32(v, i), u32(v, i + 4), u32(v, i + 8)]);
    return { kind: 'large-communities', flags, communities };
  },
  encode(a, w) {
    for (const [g, l1, l2] of a.communities) {
      w.u32(g);
      w.u32(l1);
      w.u32(l2);
    }
  },
};
