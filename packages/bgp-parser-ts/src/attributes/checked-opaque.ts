import type { DecodeContext } from '../context.js';
import type { UpdateErrorAction } from '../errors.js';
import { u16 } from '../writer.js';
import { type AttrProblem, type AttrSpec, FLAGS_DISCARD_3F, FLAGS_WITHDRAW_3C, problem } from './types.js';

/**
 * Attributes the codec keeps as octets (`kind: 'unknown'`) but recognizes, so that their
 * flags and lengths are checked with the handling their specification gives them.
 */
export interface OpaqueAttrCheck {
  code: number;
  name: string;
  /** Expected Optional and Transitive bits. */
  flags: number;
  onError: UpdateErrorAction;
  rule: string;
  onFlagsError: AttrSpec<unknown>['onFlagsError'];
  ignoredOn?: AttrSpec<unknown>['ignoredOn'];
  check(v: Uint8Array): AttrProblem | undefined;
}

function lengthMultiple(name: string, unit: number) {
  return (v: Uint8Array) =>
    v.length === 0 || v.length % unit !== 0 ? problem(5, `${name} length ${v.length}`) : undefined;
}

/** Walks TLVs with a 1-octet type and a 2-octet length that counts the 3-octet header (AIGP). */
function aigpProblem(v: Uint8Array): AttrProblem | undefined {
  let i = 0;
  let first = true;
  while (i < v.length) {
    if (i + 3 > v.length) return problem(9, 'AIGP TLV header overruns the attribute');
    const type = v[i]!;
    const len = u16(v, i + 1);
    if (len < 3 || i + len > v.length) return problem(9, `AIGP TLV length ${len}`);
    if (type === 1 && len !== 11) return problem(9, `AIGP metric TLV length ${len}`);
    // §3.2: a first AIGP TLV carrying the maximum value SHOULD be considered malformed.
    if (type === 1 && first && v.subarray(i + 3, i + 11).every((b) => b === 0xff))
      return problem(9, 'AIGP metric 0xffffffffffffffff');
    first = false;
    i += len;
  }
  return undefined;
}

/** ATTR_SET (RFC 6368): a 4-octet origin AS, then path attributes that must frame exactly. */
function attrSetProblem(v: Uint8Array): AttrProblem | undefined {
  if (v.length < 4) return problem(9, `ATTR_SET length ${v.length}`);
  let i = 4;
  while (i < v.length) {
    const hl = v[i]! & 0x10 ? 4 : 3;
    if (i + hl > v.length) return problem(9, 'ATTR_SET attribute header overruns');
    const len = hl === 4 ? u16(v, i + 2) : v[i + 2]!;
    if (i + hl + len > v.length) return problem(9, 'ATTR_SET attribute overruns');
    i += hl + len;
  }
  return undefined;
}

const CHECKS: OpaqueAttrCheck[] = [
  {
    // RFC 5543: an Interface Switching Capability Descriptor, at least 36 octets (RFC 4203 §1.4).
    code: 24,
    name: 'TRAFFIC_ENGINEERING',
    flags: 0x80,
    onError: 'treat-as-withdraw',
    rule: 'RFC 7606 §7.13',
    onFlagsError: FLAGS_WITHDRAW_3C,
    check: (v) => (v.length < 36 ? problem(5, `TRAFFIC_ENGINEERING length ${v.length}`) : undefined),
  },
  {
    code: 25,
    name: 'IPV6_EXTENDED_COMMUNITIES',
    flags: 0xc0,
    onError: 'treat-as-withdraw',
    rule: 'RFC 7606 §7.15',
    onFlagsError: FLAGS_WITHDRAW_3C,
    check: lengthMultiple('IPV6_EXTENDED_COMMUNITIES', 20),
  },
  {
    // RFC 7311 §3.2: a malformed AIGP (the Transitive bit set included) is ignored like an
    // unrecognized non-transitive attribute; §3.3: external sessions have it disabled by default.
    code: 26,
    name: 'AIGP',
    flags: 0x80,
    onError: 'attribute-discard',
    rule: 'RFC 7311 §3.2',
    onFlagsError: { ...FLAGS_DISCARD_3F, rule: 'RFC 7311 §3.2' },
    ignoredOn: (ctx: DecodeContext) =>
      ctx.peerType === 'external'
        ? { rule: 'RFC 7311 §3.3', detail: 'AIGP from an external peer' }
        : undefined,
    check: aigpProblem,
  },
  {
    code: 35,
    name: 'OTC',
    flags: 0xc0,
    onError: 'treat-as-withdraw',
    rule: 'RFC 9234 §5',
    onFlagsError: FLAGS_WITHDRAW_3C,
    check: (v) => (v.length !== 4 ? problem(5, `OTC length ${v.length}`) : undefined),
  },
  {
    code: 128,
    name: 'ATTR_SET',
    flags: 0xc0,
    onError: 'treat-as-withdraw',
    rule: 'RFC 7606 §7.16',
    onFlagsError: FLAGS_WITHDRAW_3C,
    check: attrSetProblem,
  },
];

/** Checked opaque attributes by type code (sparse). */
export const OPAQUE_CHECK_BY_CODE: (OpaqueAttrCheck | undefined)[] = new Array(256).fill(undefined);
for (const c of CHECKS) OPAQUE_CHECK_BY_CODE[c.code] = c;
