import { u32 } from '../writer.js';
import { type AttrSpec, FLAGS_WITHDRAW_3E, problem } from './types.js';

/** LOCAL_PREF (type 5, well-known, iBGP). */
export interface LocalPrefAttribute {
  kind: 'local-pref';
  flags: number;
  localPref: number;
}

export const localPrefSpec: AttrSpec<LocalPrefAttribute> = {
  code: 5,
  kind: 'local-pref',
  flags: 0x40,
  onError: 'treat-as-withdraw',
  rule: 'RFC 7606 §7.5',
  onFlagsError: FLAGS_WITHDRAW_3E,
  // RFC 4271 §5.1.5: ignored from external peers, except confederation ones.
  ignoredOn: (ctx) =>
    ctx.peerType === 'external'
      ? { rule: 'RFC 7606 §7.5', detail: 'LOCAL_PREF from an external peer' }
      : undefined,
  decode(v, flags) {
    if (v.length !== 4) return problem(5, `LOCAL_PREF length ${v.length}`);
    return { kind: 'local-pref', flags, localPref: u32(v, 0) };
  },
  encode(a, w) {
    w.u32(a.localPref);
  },
};
