/**
 * Malformed (and a few well-formed) UPDATEs, hand-built octet by octet, each with the rule
 * that governs it and the action that rule requires. `args` are bgp-decode options (the
 * session's context); `expect.subcode`/`data` are the NOTIFICATION a session reset sends,
 * or, for the other actions, the subcode of the error that decided the action.
 */
import type { MessageAction } from '../src/index.js';

export interface SuiteCase {
  id: string;
  rule: string;
  title: string;
  args?: string[];
  hex: string;
  expect: { action: MessageAction; code?: number; subcode?: number; data?: string };
}

// ---------------------------------------------------------------------------------------
// Builders (hex strings).

const h = (n: number, octets: number) => n.toString(16).padStart(octets * 2, '0');
const len = (hex: string) => hex.length / 2;

/** A message with a raw body: marker, length, type. */
export function message(type: number, body: string): string {
  return `${'ff'.repeat(16)}${h(19 + len(body), 2)}${h(type, 1)}${body}`;
}

/** An UPDATE from its three fields (lengths computed). */
export function update(withdrawn: string, attrs: string, nlri: string): string {
  return message(2, `${h(len(withdrawn), 2)}${withdrawn}${h(len(attrs), 2)}${attrs}${nlri}`);
}

/** A path attribute; the Extended Length bit (0x10) selects a 2-octet length. */
export function attr(flags: number, code: number, value: string): string {
  const l = flags & 0x10 ? h(len(value), 2) : h(len(value), 1);
  return `${h(flags, 1)}${h(code, 1)}${l}${value}`;
}

const ip = (a: string) =>
  a
    .split('.')
    .map((x) => h(Number(x), 1))
    .join('');
const seg = (type: number, asns: number[], size: 2 | 4) =>
  `${h(type, 1)}${h(asns.length, 1)}${asns.map((a) => h(a, size)).join('')}`;

const ORIGIN = attr(0x40, 1, '00');
const ASPATH = attr(0x40, 2, seg(2, [65001], 4));
const ASPATH2 = attr(0x40, 2, seg(2, [65001], 2));
const NH = attr(0x40, 3, ip('192.0.2.1'));
const BASE = ORIGIN + ASPATH + NH;
const BASE2 = ORIGIN + ASPATH2 + NH;
const NLRI = '180a0000'; // 10.0.0.0/24
const NLRI2 = '180a0000180a0001'; // 10.0.0.0/24, 10.0.1.0/24
const WD = '180b0000'; // 11.0.0.0/24
const V6 = '20010db8000000000000000000000001'; // 2001:db8::1
const LL = 'fe800000000000000000000000000001'; // fe80::1
const Z16 = '0'.repeat(32);
const P48 = '3020010db80001'; // 2001:db8:1::/48
const P48B = '3020010db80002'; // 2001:db8:2::/48
const mpReach = (afi: number, safi: number, nh: string, nlri: string, flags = 0x80) =>
  attr(flags, 14, `${h(afi, 2)}${h(safi, 1)}${h(len(nh), 1)}${nh}00${nlri}`);
const mpUnreach = (afi: number, safi: number, wd: string, flags = 0x80) =>
  attr(flags, 15, `${h(afi, 2)}${h(safi, 1)}${wd}`);
const MPBASE = ORIGIN + ASPATH;
const TWO = ['--two-octet-as'];
const EBGP = ['--peer-type', 'external'];
const DISABLE = ['--afi-safi-disable'];

const reset = (subcode: number, data?: string) => ({
  action: 'session-reset' as const,
  code: 3,
  subcode,
  data,
});
const taw = (subcode: number) => ({ action: 'treat-as-withdraw' as const, subcode });
const discard = (subcode: number) => ({ action: 'attribute-discard' as const, subcode });
const none = { action: 'none' as const };

// ---------------------------------------------------------------------------------------

export const CASES: SuiteCase[] = [
  // Message framing: RFC 4271 §6.1 / §6.3, unchanged by RFC 7606 §3.b.
  {
    id: 'len-withdrawn-overrun',
    rule: 'RFC 7606 §3.b',
    title: 'Withdrawn Routes Length past the end',
    hex: message(2, `0010${WD}0000`),
    expect: reset(1, ''),
  },
  {
    id: 'len-attr-overrun',
    rule: 'RFC 7606 §3.b',
    title: 'Total Path Attribute Length past the end',
    hex: message(2, `0000${h(len(BASE) + 1, 2)}${BASE}`),
    expect: reset(1, ''),
  },
  {
    id: 'len-no-attr-length',
    rule: 'RFC 7606 §3.b',
    title: 'withdrawn routes leave one octet for the 2-octet attribute length',
    hex: message(2, `0004${WD}00`),
    expect: reset(1),
  },
  {
    id: 'len-attr-overrun-far',
    rule: 'RFC 7606 §3.b',
    title: 'Total Path Attribute Length 0xffff',
    hex: message(2, `0000ffff${BASE}${NLRI}`),
    expect: reset(1),
  },
  {
    id: 'len-header-short',
    rule: 'RFC 4271 §6.1',
    title: 'UPDATE of 22 octets (Bad Message Length)',
    hex: message(2, '000000'),
    expect: { action: 'session-reset', code: 1, subcode: 2, data: '0016' },
  },

  // Withdrawn Routes syntax: RFC 7606 §3.i, §5.3 (Invalid Network Field, session reset).
  {
    id: 'wd-len-33',
    rule: 'RFC 7606 §3.i',
    title: 'withdrawn prefix length 33',
    hex: update('210a00000001', '', ''),
    expect: reset(10, ''),
  },
  {
    id: 'wd-overrun',
    rule: 'RFC 7606 §3.i',
    title: 'withdrawn prefix overruns the field',
    hex: update('180a00', '', ''),
    expect: reset(10),
  },
  {
    id: 'wd-len-255',
    rule: 'RFC 7606 §3.i',
    title: 'withdrawn prefix length 255',
    hex: update('ff0a000000', '', ''),
    expect: reset(10),
  },
  {
    id: 'wd-addpath-truncated',
    rule: 'RFC 7606 §3.i',
    title: 'add-path withdrawn entry with a 3-octet path identifier',
    args: ['--add-path', 'ipv4-unicast'],
    hex: update('000001', '', ''),
    expect: reset(10),
  },
  {
    id: 'wd-addpath-missing',
    rule: 'RFC 7606 §3.i',
    title: 'add-path session, withdrawn entry without path identifier',
    args: ['--add-path', 'ipv4-unicast'],
    hex: update(WD, '', ''),
    expect: reset(10),
  },
  {
    id: 'wd-bad-with-good-attrs',
    rule: 'RFC 7606 §3.i',
    title: 'bad withdrawn field beside well-formed NLRI',
    hex: update('2100', BASE, NLRI),
    expect: reset(10),
  },

  // NLRI syntax: RFC 7606 §5.3.
  {
    id: 'nlri-len-33',
    rule: 'RFC 7606 §5.3',
    title: 'NLRI prefix length 33',
    hex: update('', BASE, '210a000000ff'),
    expect: reset(10, ''),
  },
  {
    id: 'nlri-overrun',
    rule: 'RFC 7606 §5.3',
    title: 'NLRI prefix overruns the message',
    hex: update('', BASE, '180a00'),
    expect: reset(10),
  },
  {
    id: 'nlri-len-40',
    rule: 'RFC 7606 §5.3',
    title: 'NLRI prefix length 40',
    hex: update('', BASE, '280a00000000'),
    expect: reset(10),
  },
  {
    id: 'nlri-trailing-length-octet',
    rule: 'RFC 7606 §5.3',
    title: 'a good prefix then a lone length octet',
    hex: update('', BASE, `${NLRI}18`),
    expect: reset(10),
  },
  {
    id: 'nlri-addpath-truncated',
    rule: 'RFC 7606 §5.3',
    title: 'add-path NLRI entry truncated in its path identifier',
    args: ['--add-path', 'all'],
    hex: update('', BASE, '0000000118'),
    expect: reset(10),
  },
  {
    id: 'nlri-addpath-missing',
    rule: 'RFC 7606 §5.3',
    title: 'add-path session, NLRI sent without path identifiers',
    args: ['--add-path', 'ipv4-unicast'],
    hex: update('', BASE, NLRI),
    expect: reset(10),
  },
  {
    id: 'nlri-32-short',
    rule: 'RFC 7606 §5.3',
    title: '/32 with three address octets',
    hex: update('', BASE, '200a0000'),
    expect: reset(10),
  },
  {
    id: 'nlri-host-bits',
    rule: 'RFC 4271 §4.3',
    title: 'trailing bits set past the prefix length are irrelevant',
    hex: update('', BASE, '180a0000170a00ff'),
    expect: none,
  },

  // Attribute framing: RFC 7606 §4 (treat-as-withdraw; §5.2 when nothing is announced).
  {
    id: 'attr-overrun',
    rule: 'RFC 7606 §4',
    title: 'last attribute length overruns the attribute field',
    hex: update('', `${BASE}c00808fde90001`, NLRI),
    expect: taw(1),
  },
  {
    id: 'attr-two-octets-left',
    rule: 'RFC 7606 §4',
    title: 'two octets left, too few for an attribute header',
    hex: update('', `${BASE}c008`, NLRI),
    expect: taw(1),
  },
  {
    id: 'attr-ext-header-short',
    rule: 'RFC 7606 §4',
    title: 'extended-length header with three octets left',
    hex: update('', `${BASE}d00800`, NLRI),
    expect: taw(1),
  },
  {
    id: 'attr-ext-overrun',
    rule: 'RFC 7606 §4',
    title: 'extended-length attribute overruns',
    hex: update('', `${BASE}d0080100fde90001`, NLRI),
    expect: taw(1),
  },
  {
    id: 'attr-overrun-withdraw-only',
    rule: 'RFC 7606 §5.2',
    title: 'attribute overrun in an UPDATE that only withdraws',
    hex: update(WD, `${ORIGIN}400206`, ''),
    expect: reset(1, ''),
  },
  {
    id: 'attr-overrun-nothing',
    rule: 'RFC 7606 §5.2',
    title: 'attribute overrun, no NLRI at all',
    hex: update('', `${ORIGIN}40`, ''),
    expect: reset(1),
  },
  {
    id: 'attr-overrun-after-mp',
    rule: 'RFC 7606 §4',
    title: 'overrun after an MP_REACH_NLRI that announces',
    hex: update('', `${mpReach(2, 1, V6, P48)}${MPBASE}c00810`, ''),
    expect: taw(1),
  },
  {
    id: 'attr-overrun-first',
    rule: 'RFC 7606 §4',
    title: 'the first attribute overruns, NLRI present',
    hex: update('', '4001ff00', NLRI),
    expect: taw(1),
  },

  // Attributes appearing twice: RFC 7606 §3.g.
  {
    id: 'dup-mp-reach',
    rule: 'RFC 7606 §3.g',
    title: 'MP_REACH_NLRI twice',
    hex: update('', `${mpReach(2, 1, V6, P48)}${mpReach(2, 1, V6, P48)}${MPBASE}`, ''),
    expect: reset(1, ''),
  },
  {
    id: 'dup-mp-unreach',
    rule: 'RFC 7606 §3.g',
    title: 'MP_UNREACH_NLRI twice',
    hex: update('', `${mpUnreach(2, 1, P48)}${mpUnreach(2, 1, P48)}`, ''),
    expect: reset(1, ''),
  },
  {
    id: 'dup-mp-unreach-empty',
    rule: 'RFC 7606 §3.g',
    title: 'two empty MP_UNREACH_NLRI (not an End-of-RIB)',
    hex: update('', `${mpUnreach(2, 1, '')}${mpUnreach(2, 1, '')}`, ''),
    expect: reset(1),
  },
  {
    id: 'dup-origin',
    rule: 'RFC 7606 §3.g',
    title: 'ORIGIN twice (the first is kept)',
    hex: update('', `${BASE}${attr(0x40, 1, '01')}`, NLRI),
    expect: discard(1),
  },
  {
    id: 'dup-communities',
    rule: 'RFC 7606 §3.g',
    title: 'COMMUNITIES twice',
    hex: update('', `${BASE}${attr(0xc0, 8, 'fde90001')}${attr(0xc0, 8, 'fde90002')}`, NLRI),
    expect: discard(1),
  },
  {
    id: 'dup-unknown',
    rule: 'RFC 7606 §3.g',
    title: 'an unrecognized optional attribute twice',
    hex: update('', `${BASE}${attr(0xc0, 99, 'aa')}${attr(0xc0, 99, 'bb')}`, NLRI),
    expect: discard(1),
  },
  {
    id: 'dup-first-malformed',
    rule: 'RFC 7606 §3.g, §7.1',
    title: 'malformed ORIGIN then a good one: the first stands',
    hex: update('', `${attr(0x40, 1, '07')}${ASPATH}${NH}${ORIGIN}`, NLRI),
    expect: taw(6),
  },
  {
    id: 'dup-next-hop',
    rule: 'RFC 7606 §3.g',
    title: 'NEXT_HOP twice',
    hex: update('', `${BASE}${attr(0x40, 3, ip('192.0.2.2'))}`, NLRI),
    expect: discard(1),
  },
  {
    id: 'dup-as-path',
    rule: 'RFC 7606 §3.g',
    title: 'AS_PATH twice',
    hex: update('', `${BASE}${ASPATH}`, NLRI),
    expect: discard(1),
  },
  {
    id: 'dup-malformed-second',
    rule: 'RFC 7606 §3.g',
    title: 'a malformed second copy is just discarded',
    hex: update('', `${BASE}${attr(0x40, 1, '0707')}`, NLRI),
    expect: discard(1),
  },

  // Unrecognized attributes: RFC 4271 §6.3, §5 (not revised by RFC 7606).
  {
    id: 'unrec-well-known',
    rule: 'RFC 4271 §6.3',
    title: 'unrecognized attribute with the Optional bit clear',
    hex: update('', `${BASE}406301aa`, NLRI),
    expect: reset(2, '406301aa'),
  },
  {
    id: 'unrec-well-known-nt',
    rule: 'RFC 4271 §6.3',
    title: 'unrecognized attribute with flags 0x00',
    hex: update('', `${BASE}006300`, NLRI),
    expect: reset(2, '006300'),
  },
  {
    id: 'unrec-well-known-withdraw',
    rule: 'RFC 4271 §6.3',
    title: 'unrecognized well-known attribute beside withdrawals',
    hex: update(WD, '40fe0100', ''),
    expect: reset(2, '40fe0100'),
  },
  {
    id: 'unrec-optional-transitive',
    rule: 'RFC 4271 §5',
    title: 'unrecognized optional transitive attribute is passed on',
    hex: update('', `${BASE}${attr(0xc0, 99, '010203')}`, NLRI),
    expect: none,
  },
  {
    id: 'unrec-optional-nontransitive',
    rule: 'RFC 4271 §5',
    title: 'unrecognized optional non-transitive attribute is ignored',
    hex: update('', `${BASE}${attr(0x80, 99, '01')}`, NLRI),
    expect: none,
  },
  {
    id: 'unrec-partial',
    rule: 'RFC 4271 §5',
    title: 'unrecognized optional transitive attribute with Partial set',
    hex: update('', `${BASE}${attr(0xe0, 200, '')}`, NLRI),
    expect: none,
  },
  {
    id: 'unrec-code-0',
    rule: 'RFC 4271 §5',
    title: 'optional attribute of reserved type 0',
    hex: update('', `${BASE}${attr(0xc0, 0, '00')}`, NLRI),
    expect: none,
  },

  // Missing well-known mandatory attributes: RFC 7606 §3.d, RFC 4760 §3.
  {
    id: 'missing-origin',
    rule: 'RFC 7606 §3.d',
    title: 'ORIGIN missing',
    hex: update('', ASPATH + NH, NLRI),
    expect: taw(3),
  },
  {
    id: 'missing-as-path',
    rule: 'RFC 7606 §3.d',
    title: 'AS_PATH missing',
    hex: update('', ORIGIN + NH, NLRI),
    expect: taw(3),
  },
  {
    id: 'missing-next-hop',
    rule: 'RFC 7606 §3.d',
    title: 'NEXT_HOP missing with NLRI',
    hex: update('', ORIGIN + ASPATH, NLRI),
    expect: taw(3),
  },
  {
    id: 'missing-all',
    rule: 'RFC 7606 §3.d',
    title: 'NLRI and no attributes at all',
    hex: update('', '', NLRI),
    expect: taw(3),
  },
  {
    id: 'missing-next-hop-mp',
    rule: 'RFC 4760 §3',
    title: 'no NEXT_HOP, NLRI only in MP_REACH_NLRI',
    hex: update('', mpReach(2, 1, V6, P48) + MPBASE, ''),
    expect: none,
  },
  {
    id: 'missing-origin-mp',
    rule: 'RFC 4760 §3, RFC 7606 §3.d',
    title: 'MP_REACH_NLRI announcing without ORIGIN',
    hex: update('', mpReach(2, 1, V6, P48) + ASPATH, ''),
    expect: taw(3),
  },
  {
    id: 'missing-mp-empty',
    rule: 'RFC 4760 §3, RFC 7606 §5.2',
    title: 'empty MP_REACH_NLRI without ORIGIN and AS_PATH',
    hex: update('', mpReach(2, 1, V6, ''), ''),
    expect: reset(3, '01'),
  },
  {
    id: 'withdraw-only',
    rule: 'RFC 4271 §4.3',
    title: 'withdrawals and no attributes',
    hex: update(WD, '', ''),
    expect: none,
  },
  {
    id: 'eor-ipv4',
    rule: 'RFC 7606 §5.2, RFC 4724',
    title: 'IPv4 End-of-RIB (empty UPDATE)',
    hex: update('', '', ''),
    expect: none,
  },
  {
    id: 'eor-ipv6',
    rule: 'RFC 7606 §5.2, RFC 4724',
    title: 'IPv6 End-of-RIB (empty MP_UNREACH_NLRI)',
    hex: update('', mpUnreach(2, 1, ''), ''),
    expect: none,
  },
  {
    id: 'mp-unreach-withdraw',
    rule: 'RFC 4760 §4',
    title: 'IPv6 withdrawal in MP_UNREACH_NLRI',
    hex: update('', mpUnreach(2, 1, P48), ''),
    expect: none,
  },

  // Attribute flags: RFC 7606 §3.c, §3.e (well-known and MED), §3.f (ATOMIC_AGGREGATE, AGGREGATOR).
  {
    id: 'flags-origin-optional',
    rule: 'RFC 7606 §3.e',
    title: 'ORIGIN with the Optional bit',
    hex: update('', `80010100${ASPATH}${NH}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'flags-origin-nontransitive',
    rule: 'RFC 7606 §3.e',
    title: 'ORIGIN with the Transitive bit clear',
    hex: update('', `00010100${ASPATH}${NH}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'flags-as-path',
    rule: 'RFC 7606 §3.e',
    title: 'AS_PATH flagged optional non-transitive',
    hex: update('', `${ORIGIN}${attr(0x80, 2, seg(2, [65001], 4))}${NH}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'flags-next-hop',
    rule: 'RFC 7606 §3.e',
    title: 'NEXT_HOP flagged optional transitive',
    hex: update('', `${ORIGIN}${ASPATH}${attr(0xc0, 3, ip('192.0.2.1'))}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'flags-med-well-known',
    rule: 'RFC 7606 §3.e',
    title: 'MULTI_EXIT_DISC flagged well-known',
    hex: update('', `${BASE}${attr(0x40, 4, '00000064')}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'flags-med-transitive',
    rule: 'RFC 7606 §3.e',
    title: 'MULTI_EXIT_DISC flagged transitive',
    hex: update('', `${BASE}${attr(0xc0, 4, '00000064')}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'flags-local-pref',
    rule: 'RFC 7606 §3.e',
    title: 'LOCAL_PREF flagged optional',
    hex: update('', `${BASE}${attr(0x80, 5, '00000064')}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'flags-atomic-aggregate',
    rule: 'RFC 7606 §3.f',
    title: 'ATOMIC_AGGREGATE flagged optional',
    hex: update('', `${BASE}${attr(0xc0, 6, '')}`, NLRI),
    expect: discard(4),
  },
  {
    id: 'flags-aggregator-well-known',
    rule: 'RFC 7606 §3.f',
    title: 'AGGREGATOR flagged well-known',
    hex: update('', `${BASE}${attr(0x40, 7, `0000fde9${ip('192.0.2.9')}`)}`, NLRI),
    expect: discard(4),
  },
  {
    id: 'flags-aggregator-nontransitive',
    rule: 'RFC 7606 §3.f',
    title: 'AGGREGATOR flagged non-transitive',
    hex: update('', `${BASE}${attr(0x80, 7, `0000fde9${ip('192.0.2.9')}`)}`, NLRI),
    expect: discard(4),
  },
  {
    id: 'flags-communities',
    rule: 'RFC 7606 §3.c',
    title: 'COMMUNITIES flagged non-transitive',
    hex: update('', `${BASE}${attr(0x80, 8, 'fde90001')}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'flags-originator-id',
    rule: 'RFC 7606 §3.c',
    title: 'ORIGINATOR_ID flagged transitive',
    hex: update('', `${BASE}${attr(0xc0, 9, ip('192.0.2.7'))}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'flags-cluster-list',
    rule: 'RFC 7606 §3.c',
    title: 'CLUSTER_LIST flagged well-known',
    hex: update('', `${BASE}${attr(0x40, 10, ip('192.0.2.8'))}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'flags-ext-communities',
    rule: 'RFC 7606 §3.c',
    title: 'EXTENDED_COMMUNITIES flagged non-transitive',
    hex: update('', `${BASE}${attr(0x80, 16, '0002fde900000001')}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'flags-large-communities',
    rule: 'RFC 7606 §3.c',
    title: 'LARGE_COMMUNITY flagged well-known',
    hex: update('', `${BASE}${attr(0x40, 32, '000000010000000200000003')}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'flags-mp-reach',
    rule: 'RFC 7606 §5.3',
    title: 'MP_REACH_NLRI flagged transitive',
    hex: update('', mpReach(2, 1, V6, P48, 0xc0) + MPBASE, ''),
    expect: reset(9),
  },
  {
    id: 'flags-mp-unreach',
    rule: 'RFC 7606 §5.3',
    title: 'MP_UNREACH_NLRI flagged well-known',
    hex: update('', mpUnreach(2, 1, P48, 0x40), ''),
    expect: reset(9),
  },
  {
    id: 'flags-mp-reach-disable',
    rule: 'RFC 7606 §5.3, RFC 4760 §7',
    title: 'MP_REACH_NLRI flags error, AFI/SAFI disable chosen',
    args: DISABLE,
    hex: update('', mpReach(2, 1, V6, P48, 0xc0) + MPBASE, ''),
    expect: { action: 'afi-safi-disable', subcode: 9 },
  },
  {
    id: 'flags-partial-well-known',
    rule: 'RFC 7606 §3.c',
    title: 'Partial bit on ORIGIN (only Optional/Transitive are checked)',
    hex: update('', `60010100${ASPATH}${NH}`, NLRI),
    expect: none,
  },
  {
    id: 'flags-extended-length',
    rule: 'RFC 4271 §4.3',
    title: 'ORIGIN with a 2-octet length',
    hex: update('', `5001000100${ASPATH}${NH}`, NLRI),
    expect: none,
  },
  {
    id: 'flags-low-bits',
    rule: 'RFC 4271 §4.3',
    title: 'unused low flag bits are ignored',
    hex: update('', `4f010100${ASPATH}${NH}`, NLRI),
    expect: none,
  },
  {
    id: 'flags-as4-path',
    rule: 'RFC 7606 §3.c',
    title: 'AS4_PATH flagged non-transitive (two-octet session)',
    args: TWO,
    hex: update('', `${BASE2}${attr(0x80, 17, seg(2, [4200000001], 4))}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'flags-withdraw-only',
    rule: 'RFC 7606 §5.2',
    title: 'ORIGIN flags error in an UPDATE that only withdraws',
    hex: update(WD, '80010100', ''),
    expect: reset(4, '80010100'),
  },

  // ORIGIN: RFC 7606 §7.1.
  {
    id: 'origin-3',
    rule: 'RFC 7606 §7.1',
    title: 'ORIGIN value 3',
    hex: update('', `40010103${ASPATH}${NH}`, NLRI),
    expect: taw(6),
  },
  {
    id: 'origin-255',
    rule: 'RFC 7606 §7.1',
    title: 'ORIGIN value 255',
    hex: update('', `400101ff${ASPATH}${NH}`, NLRI),
    expect: taw(6),
  },
  {
    id: 'origin-len-0',
    rule: 'RFC 7606 §7.1',
    title: 'ORIGIN length 0',
    hex: update('', `400100${ASPATH}${NH}`, NLRI),
    expect: taw(5),
  },
  {
    id: 'origin-len-2',
    rule: 'RFC 7606 §7.1',
    title: 'ORIGIN length 2',
    hex: update('', `4001020000${ASPATH}${NH}`, NLRI),
    expect: taw(5),
  },
  {
    id: 'origin-incomplete',
    rule: 'RFC 4271 §5.1.1',
    title: 'ORIGIN INCOMPLETE',
    hex: update('', `40010102${ASPATH}${NH}`, NLRI),
    expect: none,
  },

  // AS_PATH: RFC 7606 §7.2, RFC 7607 §2, RFC 5065 §5.3, RFC 4271 §6.3.
  {
    id: 'aspath-type-0',
    rule: 'RFC 7606 §7.2',
    title: 'segment type 0',
    hex: update('', `${ORIGIN}${attr(0x40, 2, seg(0, [65001], 4))}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-type-5',
    rule: 'RFC 7606 §7.2',
    title: 'segment type 5',
    hex: update('', `${ORIGIN}${attr(0x40, 2, seg(5, [65001], 4))}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-len-0',
    rule: 'RFC 7606 §7.2',
    title: 'segment length 0',
    hex: update('', `${ORIGIN}${attr(0x40, 2, '0200')}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-overrun',
    rule: 'RFC 7606 §7.2',
    title: 'segment overruns the attribute',
    hex: update('', `${ORIGIN}${attr(0x40, 2, '02020000fde9')}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-underrun',
    rule: 'RFC 7606 §7.2',
    title: 'a single octet after the last segment',
    hex: update('', `${ORIGIN}${attr(0x40, 2, `${seg(2, [65001], 4)}02`)}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-2octet-odd',
    rule: 'RFC 7606 §7.2',
    title: 'two-octet session, segment one octet short',
    args: TWO,
    hex: update('', `${ORIGIN}${attr(0x40, 2, '0202fde9fd')}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-4octet-on-2',
    rule: 'RFC 7606 §7.2',
    title: 'four-octet AS_PATH received on a two-octet session',
    args: TWO,
    hex: update('', `${ORIGIN}${attr(0x40, 2, seg(2, [65001, 65002], 4))}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-as0-sequence',
    rule: 'RFC 7607 §2',
    title: 'AS 0 in an AS_SEQUENCE',
    hex: update('', `${ORIGIN}${attr(0x40, 2, seg(2, [65001, 0], 4))}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-as0-set',
    rule: 'RFC 7607 §2',
    title: 'AS 0 in an AS_SET',
    hex: update('', `${ORIGIN}${attr(0x40, 2, seg(2, [65001], 4) + seg(1, [0, 65002], 4))}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-as0-two-octet',
    rule: 'RFC 7607 §2',
    title: 'AS 0 on a two-octet session',
    args: TWO,
    hex: update('', `${ORIGIN}${attr(0x40, 2, seg(2, [0], 2))}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-as0-confed',
    rule: 'RFC 7607 §2',
    title: 'AS 0 in an AS_CONFED_SEQUENCE',
    hex: update('', `${ORIGIN}${attr(0x40, 2, seg(3, [0], 4))}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-empty-internal',
    rule: 'RFC 4271 §5.1.2',
    title: 'empty AS_PATH from an internal peer',
    hex: update('', `${ORIGIN}400200${NH}`, NLRI),
    expect: none,
  },
  {
    id: 'aspath-confed-external',
    rule: 'RFC 5065 §5.3',
    title: 'AS_CONFED_SEQUENCE from an external peer',
    args: EBGP,
    hex: update('', `${ORIGIN}${attr(0x40, 2, seg(3, [65010], 4) + seg(2, [65001], 4))}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-confed-set-external',
    rule: 'RFC 5065 §5.3',
    title: 'AS_CONFED_SET from an external peer',
    args: EBGP,
    hex: update('', `${ORIGIN}${attr(0x40, 2, seg(2, [65001], 4) + seg(4, [65010], 4))}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-confed-member',
    rule: 'RFC 5065 §5',
    title: 'AS_CONFED_SEQUENCE from a confederation peer',
    args: ['--peer-type', 'confederation'],
    hex: update('', `${ORIGIN}${attr(0x40, 2, seg(3, [65010], 4) + seg(2, [65001], 4))}${NH}`, NLRI),
    expect: none,
  },
  {
    id: 'aspath-first-as',
    rule: 'RFC 4271 §6.3, RFC 7606 §7.2',
    title: 'first AS is not the peer AS (check enforced)',
    args: [...EBGP, '--enforce-first-as', '65002'],
    hex: update('', BASE, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-first-as-ok',
    rule: 'RFC 4271 §6.3',
    title: 'first AS is the peer AS',
    args: [...EBGP, '--enforce-first-as', '65001'],
    hex: update('', BASE, NLRI),
    expect: none,
  },
  {
    id: 'aspath-first-as-set',
    rule: 'RFC 4271 §6.3, RFC 7606 §7.2',
    title: 'path starts with an AS_SET (check enforced)',
    args: [...EBGP, '--enforce-first-as', '65001'],
    hex: update('', `${ORIGIN}${attr(0x40, 2, seg(1, [65001], 4))}${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-first-as-empty',
    rule: 'RFC 4271 §6.3, RFC 7606 §7.2',
    title: 'empty path from an external peer (check enforced)',
    args: [...EBGP, '--enforce-first-as', '65001'],
    hex: update('', `${ORIGIN}400200${NH}`, NLRI),
    expect: taw(11),
  },
  {
    id: 'aspath-first-as-trans',
    rule: 'RFC 6793 §4.2.2',
    title: 'two-octet session: a four-octet peer AS appears as AS_TRANS',
    args: [...TWO, ...EBGP, '--enforce-first-as', '4200000001'],
    hex: update('', `${ORIGIN}${attr(0x40, 2, seg(2, [23456], 2))}${NH}`, NLRI),
    expect: none,
  },
  {
    id: 'aspath-withdraw-only',
    rule: 'RFC 7606 §5.2',
    title: 'malformed AS_PATH in an UPDATE that only withdraws',
    hex: update(WD, `${ORIGIN}${attr(0x40, 2, '0200')}`, ''),
    expect: reset(11, ''),
  },

  // NEXT_HOP: RFC 7606 §7.3; a valid host address, RFC 4271 §6.3 with RFC 7606 §3.e.
  {
    id: 'nh-len-3',
    rule: 'RFC 7606 §7.3',
    title: 'NEXT_HOP length 3',
    hex: update('', `${ORIGIN}${ASPATH}400303c00002`, NLRI),
    expect: taw(5),
  },
  {
    id: 'nh-len-5',
    rule: 'RFC 7606 §7.3',
    title: 'NEXT_HOP length 5',
    hex: update('', `${ORIGIN}${ASPATH}400305c000020100`, NLRI),
    expect: taw(5),
  },
  {
    id: 'nh-len-0',
    rule: 'RFC 7606 §7.3',
    title: 'NEXT_HOP length 0',
    hex: update('', `${ORIGIN}${ASPATH}400300`, NLRI),
    expect: taw(5),
  },
  {
    id: 'nh-len-16',
    rule: 'RFC 7606 §7.3',
    title: 'NEXT_HOP carrying an IPv6 address',
    hex: update('', `${ORIGIN}${ASPATH}${attr(0x40, 3, V6)}`, NLRI),
    expect: taw(5),
  },
  {
    id: 'nh-zero',
    rule: 'RFC 4271 §6.3, RFC 7606 §3.e',
    title: 'NEXT_HOP 0.0.0.0',
    hex: update('', `${ORIGIN}${ASPATH}40030400000000`, NLRI),
    expect: { action: 'treat-as-withdraw', subcode: 8 },
  },
  {
    id: 'nh-this-network',
    rule: 'RFC 4271 §6.3, RFC 7606 §3.e',
    title: 'NEXT_HOP 0.1.2.3',
    hex: update('', `${ORIGIN}${ASPATH}40030400010203`, NLRI),
    expect: taw(8),
  },
  {
    id: 'nh-loopback',
    rule: 'RFC 4271 §6.3, RFC 7606 §3.e',
    title: 'NEXT_HOP 127.0.0.1',
    hex: update('', `${ORIGIN}${ASPATH}400304${ip('127.0.0.1')}`, NLRI),
    expect: taw(8),
  },
  {
    id: 'nh-multicast',
    rule: 'RFC 4271 §6.3, RFC 7606 §3.e',
    title: 'NEXT_HOP 224.0.0.5',
    hex: update('', `${ORIGIN}${ASPATH}400304${ip('224.0.0.5')}`, NLRI),
    expect: taw(8),
  },
  {
    id: 'nh-class-e',
    rule: 'RFC 4271 §6.3, RFC 7606 §3.e',
    title: 'NEXT_HOP 240.0.0.1',
    hex: update('', `${ORIGIN}${ASPATH}400304${ip('240.0.0.1')}`, NLRI),
    expect: taw(8),
  },
  {
    id: 'nh-broadcast',
    rule: 'RFC 4271 §6.3, RFC 7606 §3.e',
    title: 'NEXT_HOP 255.255.255.255',
    hex: update('', `${ORIGIN}${ASPATH}400304ffffffff`, NLRI),
    expect: taw(8),
  },
  {
    id: 'nh-zero-unused',
    rule: 'RFC 4760 §3',
    title: 'NEXT_HOP 0.0.0.0 in an UPDATE whose NLRI are all in MP_REACH_NLRI (ignored)',
    hex: update('', `${mpReach(2, 1, V6, P48)}${MPBASE}40030400000000`, ''),
    expect: none,
  },
  {
    id: 'nh-len-3-unused',
    rule: 'RFC 7606 §7.3',
    title: 'malformed NEXT_HOP beside MP_REACH_NLRI',
    hex: update('', `${mpReach(2, 1, V6, P48)}${MPBASE}400303c00002`, ''),
    expect: taw(5),
  },
  {
    id: 'nh-link-local',
    rule: 'RFC 4271 §6.3',
    title: 'NEXT_HOP 169.254.1.1 (a host address)',
    hex: update('', `${ORIGIN}${ASPATH}400304${ip('169.254.1.1')}`, NLRI),
    expect: none,
  },
  {
    id: 'nh-ok',
    rule: 'RFC 4271 §5.1.3',
    title: 'well-formed UPDATE',
    hex: update('', BASE, NLRI2),
    expect: none,
  },

  // MULTI_EXIT_DISC: RFC 7606 §7.4.
  {
    id: 'med-len-0',
    rule: 'RFC 7606 §7.4',
    title: 'MED length 0',
    hex: update('', `${BASE}800400`, NLRI),
    expect: taw(5),
  },
  {
    id: 'med-len-3',
    rule: 'RFC 7606 §7.4',
    title: 'MED length 3',
    hex: update('', `${BASE}800403000064`, NLRI),
    expect: taw(5),
  },
  {
    id: 'med-len-8',
    rule: 'RFC 7606 §7.4',
    title: 'MED length 8',
    hex: update('', `${BASE}8004080000000000000064`, NLRI),
    expect: taw(5),
  },

  // LOCAL_PREF: RFC 7606 §7.5.
  {
    id: 'lp-len-2',
    rule: 'RFC 7606 §7.5',
    title: 'LOCAL_PREF length 2 from an internal peer',
    hex: update('', `${BASE}4005020064`, NLRI),
    expect: taw(5),
  },
  {
    id: 'lp-len-0',
    rule: 'RFC 7606 §7.5',
    title: 'LOCAL_PREF length 0 from an internal peer',
    hex: update('', `${BASE}400500`, NLRI),
    expect: taw(5),
  },
  {
    id: 'lp-external',
    rule: 'RFC 7606 §7.5',
    title: 'LOCAL_PREF from an external peer is discarded',
    args: EBGP,
    hex: update('', `${BASE}40050400000064`, NLRI),
    expect: discard(0),
  },
  {
    id: 'lp-external-malformed',
    rule: 'RFC 7606 §7.5',
    title: 'malformed LOCAL_PREF from an external peer is discarded too',
    args: EBGP,
    hex: update('', `${BASE}4005020064`, NLRI),
    expect: discard(0),
  },
  {
    id: 'lp-confederation',
    rule: 'RFC 7606 §7.5',
    title: 'LOCAL_PREF length 2 from a confederation peer',
    args: ['--peer-type', 'confederation'],
    hex: update('', `${BASE}4005020064`, NLRI),
    expect: taw(5),
  },
  {
    id: 'lp-external-withdraw-only',
    rule: 'RFC 7606 §5.2',
    title: 'discarded LOCAL_PREF beside withdrawals (no escalation)',
    args: EBGP,
    hex: update(WD, `${ORIGIN}40050400000064`, ''),
    expect: discard(0),
  },

  // ATOMIC_AGGREGATE: RFC 7606 §7.6.
  {
    id: 'atomic-len-1',
    rule: 'RFC 7606 §7.6',
    title: 'ATOMIC_AGGREGATE length 1',
    hex: update('', `${BASE}40060100`, NLRI),
    expect: discard(5),
  },
  {
    id: 'atomic-len-4',
    rule: 'RFC 7606 §7.6',
    title: 'ATOMIC_AGGREGATE length 4',
    hex: update('', `${BASE}40060400000000`, NLRI),
    expect: discard(5),
  },

  // AGGREGATOR: RFC 7606 §7.7, RFC 7607 §2.
  {
    id: 'agg-len-6-on-4',
    rule: 'RFC 7606 §7.7',
    title: 'AGGREGATOR of 6 octets on a four-octet session',
    hex: update('', `${BASE}${attr(0xc0, 7, `fde9${ip('192.0.2.9')}`)}`, NLRI),
    expect: discard(5),
  },
  {
    id: 'agg-len-8-on-2',
    rule: 'RFC 7606 §7.7',
    title: 'AGGREGATOR of 8 octets on a two-octet session',
    args: TWO,
    hex: update('', `${BASE2}${attr(0xc0, 7, `0000fde9${ip('192.0.2.9')}`)}`, NLRI),
    expect: discard(5),
  },
  {
    id: 'agg-len-0',
    rule: 'RFC 7606 §7.7',
    title: 'AGGREGATOR length 0',
    hex: update('', `${BASE}c00700`, NLRI),
    expect: discard(5),
  },
  {
    id: 'agg-as0',
    rule: 'RFC 7607 §2',
    title: 'AGGREGATOR AS 0',
    hex: update('', `${BASE}${attr(0xc0, 7, `00000000${ip('192.0.2.9')}`)}`, NLRI),
    expect: discard(9),
  },
  {
    id: 'agg-as0-two-octet',
    rule: 'RFC 7607 §2',
    title: 'AGGREGATOR AS 0 on a two-octet session',
    args: TWO,
    hex: update('', `${BASE2}${attr(0xc0, 7, `0000${ip('192.0.2.9')}`)}`, NLRI),
    expect: discard(9),
  },
  {
    id: 'agg-ok',
    rule: 'RFC 4271 §5.1.7',
    title: 'well-formed AGGREGATOR',
    hex: update('', `${BASE}${attr(0xc0, 7, `0000fde9${ip('192.0.2.9')}`)}`, NLRI),
    expect: none,
  },

  // COMMUNITIES: RFC 7606 §7.8.
  {
    id: 'comm-len-0',
    rule: 'RFC 7606 §7.8',
    title: 'COMMUNITIES length 0',
    hex: update('', `${BASE}c00800`, NLRI),
    expect: taw(5),
  },
  {
    id: 'comm-len-3',
    rule: 'RFC 7606 §7.8',
    title: 'COMMUNITIES length 3',
    hex: update('', `${BASE}c00803fde900`, NLRI),
    expect: taw(5),
  },
  {
    id: 'comm-len-6',
    rule: 'RFC 7606 §7.8',
    title: 'COMMUNITIES length 6',
    hex: update('', `${BASE}c00806fde90001ffff`, NLRI),
    expect: taw(5),
  },

  // ORIGINATOR_ID: RFC 7606 §7.9.
  {
    id: 'origid-len-3',
    rule: 'RFC 7606 §7.9',
    title: 'ORIGINATOR_ID length 3',
    hex: update('', `${BASE}800903c00002`, NLRI),
    expect: taw(5),
  },
  {
    id: 'origid-len-8',
    rule: 'RFC 7606 §7.9',
    title: 'ORIGINATOR_ID length 8',
    hex: update('', `${BASE}800908c0000207c0000208`, NLRI),
    expect: taw(5),
  },
  {
    id: 'origid-external',
    rule: 'RFC 7606 §7.9',
    title: 'ORIGINATOR_ID from an external peer',
    args: EBGP,
    hex: update('', `${BASE}${attr(0x80, 9, ip('192.0.2.7'))}`, NLRI),
    expect: discard(0),
  },
  {
    id: 'origid-confederation',
    rule: 'RFC 7606 §7.9',
    title: 'ORIGINATOR_ID from a confederation (external) peer',
    args: ['--peer-type', 'confederation'],
    hex: update('', `${BASE}${attr(0x80, 9, ip('192.0.2.7'))}`, NLRI),
    expect: discard(0),
  },

  // CLUSTER_LIST: RFC 7606 §7.10.
  {
    id: 'cluster-len-0',
    rule: 'RFC 7606 §7.10',
    title: 'CLUSTER_LIST length 0',
    hex: update('', `${BASE}800a00`, NLRI),
    expect: taw(5),
  },
  {
    id: 'cluster-len-6',
    rule: 'RFC 7606 §7.10',
    title: 'CLUSTER_LIST length 6',
    hex: update('', `${BASE}800a06c0000208ffff`, NLRI),
    expect: taw(5),
  },
  {
    id: 'cluster-external',
    rule: 'RFC 7606 §7.10',
    title: 'CLUSTER_LIST from an external peer',
    args: EBGP,
    hex: update('', `${BASE}${attr(0x80, 10, ip('192.0.2.8'))}`, NLRI),
    expect: discard(0),
  },

  // MP_REACH_NLRI: RFC 7606 §5.3, §7.11, RFC 4760 §3, §7.
  {
    id: 'mpr-len-4',
    rule: 'RFC 7606 §5.3',
    title: 'MP_REACH_NLRI of 4 octets',
    hex: update('', `${attr(0x80, 14, '00020110')}${MPBASE}`, ''),
    expect: reset(9, '800e0400020110'),
  },
  {
    id: 'mpr-len-0',
    rule: 'RFC 7606 §5.3',
    title: 'MP_REACH_NLRI of 0 octets',
    hex: update('', `800e00${MPBASE}`, ''),
    expect: reset(9, '800e00'),
  },
  {
    id: 'mpr-nh-overrun',
    rule: 'RFC 7606 §5.3',
    title: 'next-hop length runs past the attribute',
    hex: update('', `${attr(0x80, 14, `00020120${V6}00`)}${MPBASE}`, ''),
    expect: reset(9),
  },
  {
    id: 'mpr-nh-len-4-ipv6',
    rule: 'RFC 7606 §7.11',
    title: 'IPv6 unicast with a 4-octet next hop',
    hex: update('', `${mpReach(2, 1, ip('192.0.2.1'), P48)}${MPBASE}`, ''),
    expect: reset(9),
  },
  {
    id: 'mpr-nh-len-15-ipv6',
    rule: 'RFC 7606 §7.11',
    title: 'IPv6 unicast with a 15-octet next hop',
    hex: update('', `${mpReach(2, 1, V6.slice(2), P48)}${MPBASE}`, ''),
    expect: reset(9),
  },
  {
    id: 'mpr-nh-len-24-ipv6',
    rule: 'RFC 7606 §7.11',
    title: 'IPv6 unicast with a 24-octet next hop',
    hex: update('', `${mpReach(2, 1, V6 + '0'.repeat(16), P48)}${MPBASE}`, ''),
    expect: reset(9),
  },
  {
    id: 'mpr-nh-len-0-ipv6',
    rule: 'RFC 7606 §7.11',
    title: 'IPv6 unicast with no next hop',
    hex: update('', `${mpReach(2, 1, '', P48)}${MPBASE}`, ''),
    expect: reset(9),
  },
  {
    id: 'mpr-nh-len-8-ipv4',
    rule: 'RFC 7606 §7.11',
    title: 'IPv4 unicast in MP_REACH_NLRI with an 8-octet next hop',
    hex: update('', `${mpReach(1, 1, ip('192.0.2.1') + ip('192.0.2.2'), NLRI)}${MPBASE}`, ''),
    expect: reset(9),
  },
  {
    id: 'mpr-nh-ipv4-in-mp',
    rule: 'RFC 4760 §3',
    title: 'IPv4 unicast in MP_REACH_NLRI with a 4-octet next hop',
    hex: update('', `${mpReach(1, 1, ip('192.0.2.1'), NLRI)}${MPBASE}`, ''),
    expect: none,
  },
  {
    id: 'mpr-nh-rfc8950',
    rule: 'RFC 8950 §3',
    title: 'IPv4 unicast with an IPv6 next hop',
    hex: update('', `${mpReach(1, 1, V6, NLRI)}${MPBASE}`, ''),
    expect: none,
  },
  {
    id: 'mpr-nh-ipv4-for-ipv6-negotiated',
    rule: 'RFC 8950',
    title: 'IPv6 unicast with an IPv4 next hop, extended next hop negotiated',
    args: ['--extended-next-hop', 'ipv6-unicast'],
    hex: update('', `${mpReach(2, 1, ip('192.0.2.1'), P48)}${MPBASE}`, ''),
    expect: none,
  },
  {
    id: 'mpr-ipv6-len-129',
    rule: 'RFC 7606 §5.3',
    title: 'IPv6 prefix length 129',
    hex: update('', `${mpReach(2, 1, V6, `81${'20010db8'.padEnd(34, '0')}`)}${MPBASE}`, ''),
    expect: reset(9),
  },
  {
    id: 'mpr-ipv6-overrun',
    rule: 'RFC 7606 §5.3',
    title: 'IPv6 prefix overruns the attribute',
    hex: update('', `${mpReach(2, 1, V6, '4020010db8')}${MPBASE}`, ''),
    expect: reset(9),
  },
  {
    id: 'mpr-ipv4-len-33',
    rule: 'RFC 7606 §5.3',
    title: 'IPv4 prefix length 33 in MP_REACH_NLRI',
    hex: update('', `${mpReach(1, 1, ip('192.0.2.1'), '210a00000001')}${MPBASE}`, ''),
    expect: reset(9),
  },
  {
    id: 'mpr-addpath-truncated',
    rule: 'RFC 7606 §5.3',
    title: 'add-path IPv6 entry with a truncated path identifier',
    args: ['--add-path', 'ipv6-unicast'],
    hex: update('', `${mpReach(2, 1, V6, '000001')}${MPBASE}`, ''),
    expect: reset(9),
  },
  {
    id: 'mpr-vpn-nh-4',
    rule: 'RFC 7606 §7.11',
    title: 'VPN-IPv4 with a 4-octet next hop (no Route Distinguisher)',
    hex: update('', `${mpReach(1, 128, ip('192.0.2.1'), '')}${MPBASE}`, ''),
    expect: reset(9),
  },
  {
    id: 'mpr-vpn-nh-12',
    rule: 'RFC 4364 §4.3.2',
    title: 'VPN-IPv4 with RD + IPv4 next hop (kept as octets)',
    hex: update(
      '',
      `${mpReach(1, 128, `0000000000000000${ip('192.0.2.1')}`, `7000064100000000000000010a0000`)}${MPBASE}`,
      '',
    ),
    expect: none,
  },
  {
    id: 'mpr-multicast-len-129',
    rule: 'RFC 7606 §5.3',
    title: 'IPv6 multicast prefix length 129',
    hex: update('', `${mpReach(2, 2, V6, `81${'ff'.repeat(17)}`)}${MPBASE}`, ''),
    expect: reset(9),
  },
  {
    id: 'mpr-disable-nh-len',
    rule: 'RFC 7606 §7.11, RFC 4760 §7',
    title: 'bad next-hop length, AFI/SAFI disable chosen',
    args: DISABLE,
    hex: update('', `${mpReach(2, 1, ip('192.0.2.1'), P48)}${MPBASE}`, ''),
    expect: { action: 'afi-safi-disable', subcode: 9 },
  },
  {
    id: 'mpr-disable-short',
    rule: 'RFC 7606 §5.3',
    title: 'MP_REACH_NLRI of 2 octets: no family to disable',
    args: DISABLE,
    hex: update('', `800e020002${MPBASE}`, ''),
    expect: reset(9),
  },
  {
    id: 'mpr-nh-unspecified',
    rule: 'RFC 4271 §6.3, RFC 7606 §3.e',
    title: 'IPv6 next hop ::',
    hex: update('', `${mpReach(2, 1, Z16, P48)}${MPBASE}`, ''),
    expect: taw(8),
  },
  {
    id: 'mpr-nh-loopback',
    rule: 'RFC 4271 §6.3, RFC 7606 §3.e',
    title: 'IPv6 next hop ::1',
    hex: update('', `${mpReach(2, 1, `${'0'.repeat(30)}01`, P48)}${MPBASE}`, ''),
    expect: taw(8),
  },
  {
    id: 'mpr-nh-multicast',
    rule: 'RFC 4271 §6.3, RFC 7606 §3.e',
    title: 'IPv6 next hop ff02::1',
    hex: update('', `${mpReach(2, 1, `ff02${'0'.repeat(26)}01`, P48)}${MPBASE}`, ''),
    expect: taw(8),
  },
  {
    id: 'mpr-nh-mapped-zero',
    rule: 'RFC 4271 §6.3, RFC 7606 §3.e',
    title: 'IPv6 next hop ::ffff:0.0.0.0',
    hex: update('', `${mpReach(2, 1, `${'0'.repeat(20)}ffff00000000`, P48)}${MPBASE}`, ''),
    expect: taw(8),
  },
  {
    id: 'mpr-nh-ipv4-zero',
    rule: 'RFC 4271 §6.3, RFC 7606 §3.e',
    title: 'IPv4 next hop 0.0.0.0 in MP_REACH_NLRI',
    hex: update('', `${mpReach(1, 1, '00000000', NLRI)}${MPBASE}`, ''),
    expect: taw(8),
  },
  {
    id: 'mpr-nh-link-local-only',
    rule: 'RFC 2545 §3',
    title: 'link-local next hop alone',
    hex: update('', `${mpReach(2, 1, LL, P48)}${MPBASE}`, ''),
    expect: none,
  },
  {
    id: 'mpr-nh-global-link-local',
    rule: 'RFC 2545 §3',
    title: 'global and link-local next hops',
    hex: update('', `${mpReach(2, 1, V6 + LL, P48)}${MPBASE}`, ''),
    expect: none,
  },
  {
    id: 'mpr-nh-zero-link-local',
    rule: 'RFC 2545 §3',
    title: ':: then a link-local next hop (unnumbered)',
    hex: update('', `${mpReach(2, 1, Z16 + LL, P48)}${MPBASE}`, ''),
    expect: none,
  },
  {
    id: 'mpr-nh-invalid-no-nlri',
    rule: 'RFC 7606 §5.2',
    title: 'IPv6 next hop :: and no NLRI',
    hex: update('', `${mpReach(2, 1, Z16, '')}${MPBASE}`, ''),
    expect: reset(8),
  },
  {
    id: 'mpr-unchecked-family',
    rule: 'RFC 4760 §3',
    title: 'EVPN (AFI 25 SAFI 70): next hop not checked, NLRI kept as octets',
    hex: update('', `${mpReach(25, 70, '0102030405', '0203aabbcc')}${MPBASE}`, ''),
    expect: none,
  },
  {
    id: 'mpr-not-first',
    rule: 'RFC 7606 §5.1',
    title: 'MP_REACH_NLRI after other attributes is accepted',
    hex: update('', `${MPBASE}${mpReach(2, 1, V6, P48)}`, ''),
    expect: none,
  },
  {
    id: 'mpr-with-nlri-field',
    rule: 'RFC 7606 §5.1',
    title: 'NLRI field and MP_REACH_NLRI together are accepted',
    hex: update(WD, `${BASE}${mpReach(2, 1, V6, P48)}${mpUnreach(2, 1, P48B)}`, NLRI),
    expect: none,
  },

  // MP_UNREACH_NLRI: RFC 7606 §5.3.
  {
    id: 'mpu-len-2',
    rule: 'RFC 7606 §5.3',
    title: 'MP_UNREACH_NLRI of 2 octets',
    hex: update('', '800f020002', ''),
    expect: reset(9, '800f020002'),
  },
  {
    id: 'mpu-ipv6-len-129',
    rule: 'RFC 7606 §5.3',
    title: 'IPv6 withdrawn prefix length 129',
    hex: update('', mpUnreach(2, 1, `81${'20010db8'.padEnd(34, '0')}`), ''),
    expect: reset(9),
  },
  {
    id: 'mpu-overrun',
    rule: 'RFC 7606 §5.3',
    title: 'IPv6 withdrawn prefix overruns the attribute',
    hex: update('', mpUnreach(2, 1, '4020010db8'), ''),
    expect: reset(9),
  },
  {
    id: 'mpu-ipv4-len-33',
    rule: 'RFC 7606 §5.3',
    title: 'IPv4 withdrawn prefix length 33 in MP_UNREACH_NLRI',
    hex: update('', mpUnreach(1, 1, '210a00000001'), ''),
    expect: reset(9),
  },
  {
    id: 'mpu-disable',
    rule: 'RFC 7606 §5.3, RFC 4760 §7',
    title: 'bad IPv6 withdrawn prefix, AFI/SAFI disable chosen',
    args: DISABLE,
    hex: update('', mpUnreach(2, 1, '4020010db8'), ''),
    expect: { action: 'afi-safi-disable', subcode: 9 },
  },
  {
    id: 'mpu-disable-short',
    rule: 'RFC 7606 §5.3',
    title: 'MP_UNREACH_NLRI of 2 octets: no family to disable',
    args: DISABLE,
    hex: update('', '800f020002', ''),
    expect: reset(9),
  },

  // EXTENDED_COMMUNITIES: RFC 7606 §7.14; IPv6 address-specific ones: §7.15.
  {
    id: 'ext-len-0',
    rule: 'RFC 7606 §7.14',
    title: 'EXTENDED_COMMUNITIES length 0',
    hex: update('', `${BASE}c01000`, NLRI),
    expect: taw(5),
  },
  {
    id: 'ext-len-7',
    rule: 'RFC 7606 §7.14',
    title: 'EXTENDED_COMMUNITIES length 7',
    hex: update('', `${BASE}c010070002fde9000000`, NLRI),
    expect: taw(5),
  },
  {
    id: 'ext-unknown-type',
    rule: 'RFC 7606 §7.14',
    title: 'unrecognized extended community type is not an error',
    hex: update('', `${BASE}${attr(0xc0, 16, 'ffff010203040506')}`, NLRI),
    expect: none,
  },
  {
    id: 'ext6-len-19',
    rule: 'RFC 7606 §7.15',
    title: 'IPv6 address-specific extended communities length 19',
    hex: update('', `${BASE}${attr(0xc0, 25, '00'.repeat(19))}`, NLRI),
    expect: taw(5),
  },
  {
    id: 'ext6-len-20',
    rule: 'RFC 7606 §7.15',
    title: 'IPv6 address-specific extended community (unknown sub-type)',
    hex: update('', `${BASE}${attr(0xc0, 25, `00ff${V6}0001`)}`, NLRI),
    expect: none,
  },
  {
    id: 'ext6-flags',
    rule: 'RFC 7606 §3.c',
    title: 'IPv6 address-specific extended communities flagged non-transitive',
    hex: update('', `${BASE}${attr(0x80, 25, `0002${V6}0001`)}`, NLRI),
    expect: taw(4),
  },

  // LARGE_COMMUNITY: RFC 8092 §6.
  {
    id: 'large-len-0',
    rule: 'RFC 8092 §6',
    title: 'LARGE_COMMUNITY length 0',
    hex: update('', `${BASE}c02000`, NLRI),
    expect: taw(5),
  },
  {
    id: 'large-len-13',
    rule: 'RFC 8092 §6',
    title: 'LARGE_COMMUNITY length 13',
    hex: update('', `${BASE}${attr(0xc0, 32, '00'.repeat(13))}`, NLRI),
    expect: taw(5),
  },
  {
    id: 'large-len-24',
    rule: 'RFC 8092',
    title: 'two large communities',
    hex: update('', `${BASE}${attr(0xc0, 32, '0000fde9'.repeat(6))}`, NLRI),
    expect: none,
  },

  // Traffic Engineering: RFC 7606 §7.13; ATTR_SET: §7.16; OTC: RFC 9234 §5; AIGP: RFC 7311 §3.
  {
    id: 'te-short',
    rule: 'RFC 7606 §7.13',
    title: 'Traffic Engineering attribute of 10 octets',
    hex: update('', `${BASE}${attr(0x80, 24, '00'.repeat(10))}`, NLRI),
    expect: taw(5),
  },
  {
    id: 'te-flags',
    rule: 'RFC 7606 §3.c',
    title: 'Traffic Engineering attribute flagged transitive',
    hex: update('', `${BASE}${attr(0xc0, 24, '00'.repeat(36))}`, NLRI),
    expect: taw(4),
  },
  {
    id: 'te-ok',
    rule: 'RFC 5543 §3',
    title: 'Traffic Engineering attribute of 36 octets',
    hex: update('', `${BASE}${attr(0x80, 24, '00'.repeat(36))}`, NLRI),
    expect: none,
  },
  {
    id: 'attrset-short',
    rule: 'RFC 7606 §7.16',
    title: 'ATTR_SET of 3 octets',
    hex: update('', `${BASE}${attr(0xc0, 128, '0000fd')}`, NLRI),
    expect: taw(9),
  },
  {
    id: 'attrset-inner-overrun',
    rule: 'RFC 7606 §7.16',
    title: 'ATTR_SET whose inner attribute overruns',
    hex: update('', `${BASE}${attr(0xc0, 128, '0000fde9400105')}`, NLRI),
    expect: taw(9),
  },
  {
    id: 'attrset-ok',
    rule: 'RFC 6368 §5',
    title: 'ATTR_SET with an inner ORIGIN',
    hex: update('', `${BASE}${attr(0xc0, 128, '0000fde940010100')}`, NLRI),
    expect: none,
  },
  {
    id: 'otc-len-3',
    rule: 'RFC 9234 §5',
    title: 'OTC length 3',
    hex: update('', `${BASE}${attr(0xc0, 35, '00fde9')}`, NLRI),
    expect: taw(5),
  },
  {
    id: 'aigp-bad-tlv',
    rule: 'RFC 7311 §3.2',
    title: 'AIGP metric TLV of length 7',
    hex: update('', `${BASE}${attr(0x80, 26, '01000700000064')}`, NLRI),
    expect: discard(9),
  },
  {
    id: 'aigp-transitive',
    rule: 'RFC 7311 §3.2',
    title: 'AIGP flagged transitive',
    hex: update('', `${BASE}${attr(0xc0, 26, '01000b0000000000000064')}`, NLRI),
    expect: discard(4),
  },
  {
    id: 'aigp-external',
    rule: 'RFC 7311 §3.3',
    title: 'AIGP from an external peer',
    args: EBGP,
    hex: update('', `${BASE}${attr(0x80, 26, '01000b0000000000000064')}`, NLRI),
    expect: discard(0),
  },

  // AS4_PATH and AS4_AGGREGATOR: RFC 6793 §4.1 and §6, RFC 7607 §2.
  {
    id: 'as4path-as0',
    rule: 'RFC 7607 §2, RFC 6793 §6',
    title: 'AS 0 in AS4_PATH',
    args: TWO,
    hex: update('', `${BASE2}${attr(0xc0, 17, seg(2, [0], 4))}`, NLRI),
    expect: discard(9),
  },
  {
    id: 'as4path-len-0',
    rule: 'RFC 6793 §6',
    title: 'AS4_PATH length 0',
    args: TWO,
    hex: update('', `${BASE2}c01100`, NLRI),
    expect: discard(9),
  },
  {
    id: 'as4path-seg-len-0',
    rule: 'RFC 6793 §6',
    title: 'AS4_PATH segment length 0',
    args: TWO,
    hex: update('', `${BASE2}${attr(0xc0, 17, `0200${seg(2, [4200000001], 4)}`)}`, NLRI),
    expect: discard(9),
  },
  {
    id: 'as4path-seg-type',
    rule: 'RFC 6793 §6',
    title: 'AS4_PATH segment type 9',
    args: TWO,
    hex: update('', `${BASE2}${attr(0xc0, 17, seg(9, [4200000001], 4))}`, NLRI),
    expect: discard(9),
  },
  {
    id: 'as4path-overrun',
    rule: 'RFC 6793 §6',
    title: 'AS4_PATH segment overruns',
    args: TWO,
    hex: update('', `${BASE2}${attr(0xc0, 17, '0202fa56ea01')}`, NLRI),
    expect: discard(9),
  },
  {
    id: 'as4path-odd',
    rule: 'RFC 6793 §6',
    title: 'AS4_PATH of odd length',
    args: TWO,
    hex: update('', `${BASE2}${attr(0xc0, 17, `${seg(2, [4200000001], 4)}00`)}`, NLRI),
    expect: discard(9),
  },
  {
    id: 'as4path-confed',
    rule: 'RFC 6793 §6',
    title: 'AS4_PATH with a confederation segment (the segment is ignored)',
    args: TWO,
    hex: update('', `${BASE2}${attr(0xc0, 17, seg(3, [65010], 4) + seg(2, [4200000001], 4))}`, NLRI),
    expect: none,
  },
  {
    id: 'as4path-ok',
    rule: 'RFC 6793 §4.2.3',
    title: 'AS4_PATH from a two-octet speaker',
    args: TWO,
    hex: update(
      '',
      `${ORIGIN}${attr(0x40, 2, seg(2, [23456], 2))}${NH}${attr(0xc0, 17, seg(2, [4200000001], 4))}`,
      NLRI,
    ),
    expect: none,
  },
  {
    id: 'as4agg-len-6',
    rule: 'RFC 6793 §6',
    title: 'AS4_AGGREGATOR length 6',
    args: TWO,
    hex: update('', `${BASE2}${attr(0xc0, 18, `fde9${ip('192.0.2.9')}`)}`, NLRI),
    expect: discard(5),
  },
  {
    id: 'as4agg-as0',
    rule: 'RFC 7607 §2, RFC 6793 §6',
    title: 'AS4_AGGREGATOR AS 0',
    args: TWO,
    hex: update('', `${BASE2}${attr(0xc0, 18, `00000000${ip('192.0.2.9')}`)}`, NLRI),
    expect: discard(9),
  },
  {
    id: 'as4path-from-new',
    rule: 'RFC 6793 §4.1, §6',
    title: 'AS4_PATH from a four-octet speaker',
    hex: update('', `${BASE}${attr(0xc0, 17, seg(2, [4200000001], 4))}`, NLRI),
    expect: discard(0),
  },
  {
    id: 'as4agg-from-new',
    rule: 'RFC 6793 §4.1, §6',
    title: 'AS4_AGGREGATOR from a four-octet speaker',
    hex: update('', `${BASE}${attr(0xc0, 18, `fa56ea01${ip('192.0.2.9')}`)}`, NLRI),
    expect: discard(0),
  },
  {
    id: 'as4path-malformed-from-new',
    rule: 'RFC 6793 §4.1, §6',
    title: 'malformed AS4_PATH from a four-octet speaker is discarded too',
    hex: update('', `${BASE}c01100`, NLRI),
    expect: discard(0),
  },

  // Several errors in one UPDATE: the strongest action (RFC 7606 §3.h); RFC 7606 §5.2.
  {
    id: 'multi-discard-taw',
    rule: 'RFC 7606 §3.h',
    title: 'attribute discard and treat-as-withdraw',
    hex: update('', `${ORIGIN}${ASPATH}${NH}40060100c00803010203`, NLRI),
    expect: taw(5),
  },
  {
    id: 'multi-taw-reset',
    rule: 'RFC 7606 §3.h',
    title: 'treat-as-withdraw and an unrecognized well-known attribute',
    hex: update('', `40010105${ASPATH}${NH}406301aa`, NLRI),
    expect: reset(2, '406301aa'),
  },
  {
    id: 'multi-discard-discard',
    rule: 'RFC 7606 §3.h',
    title: 'two attribute discards',
    hex: update('', `${BASE}40060100c00700`, NLRI),
    expect: discard(5),
  },
  {
    id: 'multi-taw-bad-nlri',
    rule: 'RFC 7606 §3.h, §5.3',
    title: 'malformed ORIGIN and a malformed NLRI field',
    hex: update('', `40010105${ASPATH}${NH}`, '21ffffffffff'),
    expect: reset(10),
  },
  {
    id: 'multi-taw-first-reset-wins',
    rule: 'RFC 7606 §3.h',
    title: 'duplicate MP_REACH_NLRI after a malformed ORIGIN: the reset names the duplicate',
    hex: update('', `40010105${ASPATH}${mpReach(2, 1, V6, P48)}${mpReach(2, 1, V6, P48)}`, ''),
    expect: reset(1),
  },
  {
    id: 'multi-disable-taw',
    rule: 'RFC 7606 §3.h',
    title: 'AFI/SAFI disable is stronger than treat-as-withdraw',
    args: DISABLE,
    hex: update('', `40010105${ASPATH}${NH}${mpReach(2, 1, ip('192.0.2.1'), P48)}`, NLRI),
    expect: { action: 'afi-safi-disable', subcode: 9 },
  },
  {
    id: 'multi-disable-reset',
    rule: 'RFC 7606 §3.h',
    title: 'AFI/SAFI disable and an unrecognized well-known attribute',
    args: DISABLE,
    hex: update('', `${BASE}${mpReach(2, 1, ip('192.0.2.1'), P48)}406301aa`, NLRI),
    expect: reset(2),
  },
  {
    id: 'noreach-discard-only',
    rule: 'RFC 7606 §5.2',
    title: 'only attribute-discard errors beside withdrawals',
    hex: update(WD, `${ORIGIN}40060100`, ''),
    expect: discard(5),
  },
  {
    id: 'noreach-origin',
    rule: 'RFC 7606 §5.2',
    title: 'malformed ORIGIN beside withdrawals only',
    hex: update(WD, `40010105${ASPATH}`, ''),
    expect: reset(6, '40010105'),
  },
  {
    id: 'noreach-communities-unreach',
    rule: 'RFC 7606 §5.2',
    title: 'malformed COMMUNITIES beside an MP_UNREACH_NLRI',
    hex: update('', `${mpUnreach(2, 1, P48)}${MPBASE}c00803010203`, ''),
    expect: reset(5, 'c00803010203'),
  },
  {
    id: 'noreach-next-hop-len',
    rule: 'RFC 7606 §5.2',
    title: 'malformed NEXT_HOP and no NLRI',
    hex: update('', `${ORIGIN}${ASPATH}400303c00002`, ''),
    expect: reset(5),
  },
  {
    id: 'noreach-empty-mp-reach',
    rule: 'RFC 7606 §5.2',
    title: 'malformed MED beside an MP_REACH_NLRI without NLRI',
    hex: update('', `${mpReach(2, 1, V6, '')}${MPBASE}800403000064`, ''),
    expect: reset(5),
  },
  {
    id: 'reach-mp-and-withdrawn',
    rule: 'RFC 7606 §5.2',
    title: 'malformed ORIGIN, withdrawals and MP_REACH_NLRI announcing',
    hex: update(WD, `40010105${ASPATH}${mpReach(2, 1, V6, P48)}`, ''),
    expect: taw(6),
  },
  {
    id: 'reach-nlri-and-unreach',
    rule: 'RFC 7606 §5.2',
    title: 'malformed ORIGIN with NLRI and MP_UNREACH_NLRI',
    hex: update('', `${mpUnreach(2, 1, P48)}40010105${ASPATH}${NH}`, NLRI),
    expect: taw(6),
  },
  {
    id: 'reach-opaque-family',
    rule: 'RFC 7606 §5.2',
    title: 'malformed ORIGIN, NLRI in a family kept as octets',
    hex: update(
      '',
      `40010105${ASPATH}${mpReach(1, 128, `0000000000000000${ip('192.0.2.1')}`, `7000064100000000000000010a0000`)}`,
      '',
    ),
    expect: taw(6),
  },
];
