import { u32 } from '../writer.js';
import { type AttrSpec, FLAGS_WITHDRAW_3E, problem } from './types.js';

/** MULTI_EXIT_DISC (type 4, optional non-transitive). */
export interface MedAttribute {
  kind: 'med';
  flags: number;
  med: number;
}

export const medSpec: AttrSpec<MedAttribute> = {
  code: 4,
  kind: 'med',
  flags: 0x80,
  onError: 'treat-as-withdraw',
  rule: 'RFC 7606 §7.4',
  onFlagsError: FLAGS_WITHDRAW_3E,
  decode(v, flags) {
    if (v.length !== 4) return problem(5, `MULTI_EXIT_DISC length ${v.length}`);
    return { kind: 'med', flags, med: u32(v, 0) };
  },
  encode(a, w) {
    w.u32(a.med);
  },
};
