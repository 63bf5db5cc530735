import { AS_TRANS } from '../constants.js';
import { u16, u32 } from '../writer.js';
import { type AttrSpec, FLAGS_DISCARD_3F, FLAGS_WITHDRAW_3C, problem } from './types.js';

/** AGGREGATOR (type 7): AS (2 or 4 octets by session) and IPv4 address. */
export interface AggregatorAttribute {
  kind: 'aggregator';
  flags: number;
  as: number;
  address: number;
}

/** AS4_AGGREGATOR (type 18, RFC 6793): always a 4-octet AS. */
export interface As4AggregatorAttribute {
  kind: 'as4-aggregator';
  flags: number;
  as: number;
  address: number;
}

export const aggregatorSpec: AttrSpec<AggregatorAttribute> = {
  code: 7,
  kind: 'aggregator',
  flags: 0xc0,
  onError: 'attribute-discard',
  rule: 'RFC 7606 §7.7',
  onFlagsError: FLAGS_DISCARD_3F,
  decode(v, flags, ctx) {
    const want = ctx.fourOctetAs ? 8 : 6;
    if (v.length !== want) return problem(5, `AGGREGATOR length ${v.length}, expected ${want}`);
    const a: AggregatorAttribute = ctx.fourOctetAs
      ? { kind: 'aggregator', flags, as: u32(v, 0), address: u32(v, 4) }
      : { kind: 'aggregator', flags, as: u16(v, 0), address: u32(v, 2) };
    return a.as === 0 ? problem(9, 'AGGREGATOR AS 0', 'RFC 7607 §2') : a;
  },
  encode(a, w, ctx) {
    if (ctx.fourOctetAs) w.u32(a.as);
    else w.u16(a.as > 0xffff ? AS_TRANS : a.as);
    w.u32(a.address);
  },
};

export const as4AggregatorSpec: AttrSpec<As4AggregatorAttribute> = {
  code: 18,
  kind: 'as4-aggregator',
  flags: 0xc0,
  onError: 'attribute-discard',
  rule: 'RFC 6793 §6',
  onFlagsError: FLAGS_WITHDRAW_3C,
  ignoredOn: (ctx) =>
    ctx.fourOctetAs
      ? { rule: 'RFC 6793 §4.1, §6', detail: 'AS4_AGGREGATOR from a four-octet AS speaker' }
      : undefined,
  decode(v, flags) {
    if (v.length !== 8) return problem(5, `AS4_AGGREGATOR length ${v.length}`);
    const as = u32(v, 0);
    if (as === 0) return problem(9, 'AS4_AGGREGATOR AS 0', 'RFC 7607 §2');
    return { kind: 'as4-aggregator', flags, as, address: u32(v, 4) };
  },
  encode(a, w) {
    w.u32(a.as);
    w.u32(a.address);
  },
};
