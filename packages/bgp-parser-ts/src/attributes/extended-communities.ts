import { type AttrSpec, FLAGS_WITHDRAW_3C, problem } from './types.js';

/** EXTENDED_COMMUNITIES (type 16, RFC 4360): each an opaque 8-octet value. */
export interface ExtendedCommunitiesAttribute {
  kind: 'extended-communities';
  flags: number;
  communities: Uint8Array[];
}

export const extendedCommunitiesSpec: AttrSpec<ExtendedCommunitiesAttribute> = {
  code: 16,
  kind: 'extended-communities',
  flags: 0xc0,
  onError: 'treat-as-withdraw',
  rule: 'RFC 7606 §7.14',
  onFlagsError: FLAGS_WITHDRAW_3C,
  decode(v, flags) {
    if (v.length === 0 || v.length % 8 !== 0) return problem(5, `EXTENDED_COMMUNITIES length ${v.length}`);
    const communities: Uint8Array[] = [];
    for (let i = 0; i < v.length; i += 8) communities.push(v.slice(i, i + 8));
    return { kind: 'extended-communities', flags, communities };
  },
  encode(a, w) {
    for (const c of a.communities) {
      if (c.length !== 8) throw new RangeError('an extended community is 8 octets');
      w.bytes(c);
    }
  },
};
