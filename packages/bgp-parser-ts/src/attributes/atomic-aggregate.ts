import { type AttrSpec, FLAGS_DISCARD_3F, problem } from './types.js';

/** ATOMIC_AGGREGATE (type 6, well-known discretionary, no value). */
export interface AtomicAggregateAttribute {
  kind: 'atomic-aggregate';
  flags: number;
}

export const atomicAggregateSpec: AttrSpec<AtomicAggregateAttribute> = {
  code: 6,
  kind: 'atomic-aggregate',
  flags: 0x40,
  onError: 'attribute-discard',
  rule: 'RFC 7606 §7.6',
  onFlagsError: FLAGS_DISCARD_3F,
  decode(v, flags) {
    if (v.length !== 0) return problem(5, `ATOMIC_AGGREGATE length ${v.length}`);
    return { kind: 'atomic-aggregate', flags };
  },
  encode() {},
};
