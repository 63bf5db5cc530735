import { type AttrSpec, FLAGS_WITHDRAW_3E, problem } from './types.js';

/** ORIGIN (type 1, well-known mandatory): 0 IGP, 1 EGP, 2 INCOMPLETE. */
export interface OriginAttribute {
  kind: 'origin';
  flags: number;
  origin: number;
}

export const originSpec: AttrSpec<OriginAttribute> = {
  code: 1,
  kind: 'origin',
  flags: 0x40,
  onError: 'treat-as-withdraw',
  rule: 'RFC 7606 §7.1',
  onFlagsError: FLAGS_WITHDRAW_3E,
  decode(v, flags) {
    if (v.length !== 1) return problem(5, `ORIGIN length ${v.length}`);
    if (v[0]! > 2) return problem(6, `ORIGIN value ${v[0]}`);
    return { kind: 'origin', flags, origin: v[0]! };
  },
  encode(a, w) {
    w.u8(a.origin);
  },
};
