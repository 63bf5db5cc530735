import { u32 } from '../writer.js';
import { type AttrSpec, FLAGS_WITHDRAW_3C, notInternal, problem } from './types.js';

/** ORIGINATOR_ID (type 9, RFC 4456). */
export interface OriginatorIdAttribute {
  kind: 'originator-id';
  flags: number;
  originatorId: number;
}

export const originatorIdSpec: AttrSpec<OriginatorIdAttribute> = {
  code: 9,
  kind: 'originator-id',
  flags: 0x80,
  onError: 'treat-as-withdraw',
  rule: 'RFC 7606 §7.9',
  onFlagsError: FLAGS_WITHDRAW_3C,
  ignoredOn: (ctx) => notInternal(ctx, 'ORIGINATOR_ID', 'RFC 7606 §7.9'),
  decode(v, flags) {
    if (v.length !== 4) return problem(5, `ORIGINATOR_ID length ${v.length}`);
    return { kind: 'originator-id', flags, originatorId: u32(v, 0) };
  },
  encode(a, w) {
    w.u32(a.originatorId);
  },
};
