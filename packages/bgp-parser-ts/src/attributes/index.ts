import type { DecodeContext } from '../context.js';
import type { Writer } from '../writer.js';
import {
  type AggregatorAttribute,
  type As4AggregatorAttribute,
  aggregatorSpec,
  as4AggregatorSpec,
} from './aggregator.js';
import { type As4PathAttribute, type AsPathAttribute, as4PathSpec, asPathSpec } from './as-path.js';
import { type AtomicAggregateAttribute, atomicAggregateSpec } from './atomic-aggregate.js';
import { type ClusterListAttribute, clusterListSpec } from './cluster-list.js';
import { type CommunitiesAttribute, communitiesSpec } from './communities.js';
import { type ExtendedCommunitiesAttribute, extendedCommunitiesSpec } from './extended-communities.js';
import { type LargeCommunitiesAttribute, largeCommunitiesSpec } from './large-communities.js';
import { type LocalPrefAttribute, localPrefSpec } from './local-pref.js';
import { type MedAttribute, medSpec } from './med.js';
import { type MpReachAttribute, type MpUnreachAttribute, mpReachSpec, mpUnreachSpec } from './mp-reach.js';
import { type NextHopAttribute, nextHopSpec } from './next-hop.js';
import { type OriginAttribute, originSpec } from './origin.js';
import { type OriginatorIdAttribute, originatorIdSpec } from './originator-id.js';
import type { AttrProblem, AttrSpec, TrailingAttributeBytes, UnknownAttribute } from './types.js';

export * from './aggregator.js';
export * from './as-path.js';
export * from './atomic-aggregate.js';
export * from './checked-opaque.js';
export * from './cluster-list.js';
export * from './communities.js';
export * from './extended-communities.js';
export * from './large-communities.js';
export * from './local-pref.js';
export * from './med.js';
export * from './mp-reach.js';
export * from './next-hop.js';
export * from './origin.js';
export * from './originator-id.js';
export type { AttrProblem, AttrSpec, TrailingAttributeBytes, UnknownAttribute } from './types.js';

/** Every attribute the codec knows, plus the byte-preserving forms. */
export type PathAttribute =
  | OriginAttribute
  | AsPathAttribute
  | NextHopAttribute
  | MedAttribute
  | LocalPrefAttribute
  | AtomicAggregateAttribute
  | AggregatorAttribute
  | CommunitiesAttribute
  | OriginatorIdAttribute
  | ClusterListAttribute
  | MpReachAttribute
  | MpUnreachAttribute
  | ExtendedCommunitiesAttribute
  | As4PathAttribute
  | As4AggregatorAttribute
  | LargeCommunitiesAttribute
  | UnknownAttribute
  | TrailingAttributeBytes;

export type KnownAttribute = Exclude<PathAttribute, UnknownAttribute | TrailingAttributeBytes>;
export type AttributeKind = KnownAttribute['kind'];

type AnySpec = AttrSpec<KnownAttribute> & {
  decode(v: Uint8Array, flags: number, ctx: DecodeContext): KnownAttribute | AttrProblem;
  encode(a: KnownAttribute, w: Writer, ctx: DecodeContext): void;
};

const SPECS = [
  originSpec,
  asPathSpec,
  nextHopSpec,
  medSpec,
  localPrefSpec,
  atomicAggregateSpec,
  aggregatorSpec,
  communitiesSpec,
  originatorIdSpec,
  clusterListSpec,
  mpReachSpec,
  mpUnreachSpec,
  extendedCommunitiesSpec,
  as4PathSpec,
  as4AggregatorSpec,
  largeCommunitiesSpec,
] as unknown as AnySpec[];

/** Attribute specs indexed by type code (sparse array; fast lookup on the decode path). */
export const SPEC_BY_CODE: (AnySpec | undefined)[] = new Array(256).fill(undefined);
export const SPEC_BY_KIND = new Map<string, AnySpec>();
const notIgnored = () => undefined;
for (const s of SPECS) {
  // One object shape for every spec, so the decode and encode call sites stay monomorphic.
  const spec: AnySpec = {
    code: s.code,
    kind: s.kind,
    flags: s.flags,
    onError: s.onError,
    rule: s.rule,
    onFlagsError: s.onFlagsError,
    ignoredOn: s.ignoredOn ?? notIgnored,
    decode: s.decode,
    encode: s.encode,
  };
  SPEC_BY_CODE[s.code] = spec;
  SPEC_BY_KIND.set(s.kind, spec);
}

/** Type code of an attribute object. */
export function attributeCode(a: PathAttribute): number {
  if (a.kind === 'unknown') return a.code;
  if (a.kind === 'trailing') return -1;
  return SPEC_BY_KIND.get(a.kind)!.code;
}

/** Default flags (Optional/Transitive) of a known attribute type. */
export function defaultFlags(kind: AttributeKind): number {
  return SPEC_BY_KIND.get(kind)!.flags;
}
