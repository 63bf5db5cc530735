import { AS_TRANS } from '../constants.js';
import { u16, u32 } from '../writer.js';
import { type AttrSpec, problem } from './types.js';

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
  decode(v, flags, ctx) {
    const want = ctx.fourOctetAs ? 8 : 6;
    if (v.length !== want) return problem(5, `AGGREGATOR length ${v.length}, expected ${want}`);
    return ctx.fourOctetAs
      ? { kind: 'aggregator', flags, as: u32(v, 0), address: u32(v, 4) }
      : { kind: 'aggregator', flags, as: u16(v, 0), address: u32(v, 2) };
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
  decode(v, flags) {
    if (v.length !== 8) return problem(5, `AS4_AGGREGATOR length ${v.length}`);
    return { kind: 'as4-aggregator', flags, as: u32(v, 0), address: u32(v, 4) };
  },
  encode(a, w) {
    w.u32(a.as);
    w.u32(a.address);
  },
};
