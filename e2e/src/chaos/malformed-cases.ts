import { encodeMessage, type PathAttribute, parsePrefix } from 'bgp-parser-ts';

/** What the standards require a speaker to do with the UPDATE. */
export type Reaction = { kind: 'treat-as-withdraw' } | { kind: 'reset'; code: number; subcode: number };

export interface MalformedCase {
  name: string;
  expect: Reaction;
  /** Where the expected reaction is written. */
  rule: string;
  build(p: { as: number; nextHop: number }): Uint8Array;
}

/** A route outside every pool: a node imports nothing from it even when it is well-formed. */
export const ANNOUNCED = '198.51.100.0/24';

const ORIGIN = (origin = 0): PathAttribute => ({ kind: 'origin', flags: 0x40, origin });
const AS_PATH = (asns: number[]): PathAttribute => ({
  kind: 'as-path',
  flags: 0x40,
  segments: [{ type: 2, asns }],
});
const NEXT_HOP = (nextHop: number): PathAttribute => ({ kind: 'next-hop', flags: 0x40, nextHop });
const raw = (code: number, flags: number, data: number[]): PathAttribute => ({
  kind: 'unknown',
  code,
  flags,
  data: new Uint8Array(data),
});

function update(attributes: PathAttribute[], nlri = [ANNOUNCED]): Uint8Array {
  return encodeMessage({ type: 'UPDATE', withdrawn: [], attributes, nlri: nlri.map((p) => parsePrefix(p)) });
}

/** A well-formed announcement of ANNOUNCED from the peer (sent before each malformed one). */
export function validUpdate(p: { as: number; nextHop: number }): Uint8Array {
  return update([ORIGIN(), AS_PATH([p.as]), NEXT_HOP(p.nextHop)]);
}

export const MALFORMED_CASES: MalformedCase[] = [
  {
    name: 'origin-undefined-value',
    expect: { kind: 'treat-as-withdraw' },
    rule: 'RFC 7606 §7.1',
    build: (p) => update([ORIGIN(7), AS_PATH([p.as]), NEXT_HOP(p.nextHop)]),
  },
  {
    name: 'missing-origin',
    expect: { kind: 'treat-as-withdraw' },
    rule: 'RFC 7606 §3(d)',
    build: (p) => update([AS_PATH([p.as]), NEXT_HOP(p.nextHop)]),
  },
  {
    name: 'next-hop-length-5',
    expect: { kind: 'treat-as-withdraw' },
    rule: 'RFC 7606 §7.3',
    build: (p) => update([ORIGIN(), AS_PATH([p.as]), raw(3, 0x40, [192, 0, 2, 1, 0])]),
  },
  {
    name: 'as-path-segment-overrun',
    expect: { kind: 'treat-as-withdraw' },
    rule: 'RFC 7606 §7.2',
    // AS_SEQUENCE claiming 5 four-octet ASNs, carrying one.
    build: (p) =>
      update([ORIGIN(), raw(2, 0x40, [2, 5, 0, 0, (p.as >> 8) & 0xff, p.as & 0xff]), NEXT_HOP(p.nextHop)]),
  },
  {
    name: 'as-zero-in-as-path',
    expect: { kind: 'treat-as-withdraw' },
    rule: 'RFC 7607 §2 → RFC 7606 §7.2',
    build: (p) => update([ORIGIN(), AS_PATH([p.as, 0]), NEXT_HOP(p.nextHop)]),
  },
  {
    name: 'withdrawn-length-overrun',
    expect: { kind: 'reset', code: 3, subcode: 1 },
    rule: 'RFC 4271 §6.3 (Malformed Attribute List)',
    build: (p) => {
      const b = validUpdate(p);
      b[19] = 0x0f; // Withdrawn Routes Length far past the message
      b[20] = 0xff;
      return b;
    },
  },
  {
    name: 'nlri-prefix-length-33',
    expect: { kind: 'reset', code: 3, subcode: 10 },
    rule: 'RFC 4271 §6.3 (Invalid Network Field), RFC 7606 §5.3',
    build: (p) => {
      const b = validUpdate(p);
      b[b.length - 4] = 33; // the /24 NLRI's length octet (then 3 address octets)
      return b;
    },
  },
  {
    name: 'unrecognized-well-known',
    expect: { kind: 'reset', code: 3, subcode: 2 },
    rule: 'RFC 4271 §6.3 (Unrecognized Well-known Attribute)',
    build: (p) => update([ORIGIN(), AS_PATH([p.as]), NEXT_HOP(p.nextHop), raw(240, 0x40, [1])]),
  },
];

export function reactionText(r: Reaction): string {
  return r.kind === 'reset'
    ? `session reset with NOTIFICATION ${r.code}/${r.subcode}`
    : 'treat-as-withdraw (session stays up)';
}

/** What the speaker saw the node do. */
export type Observed =
  | { kind: 'stayed-up' }
  | { kind: 'reset'; code: number; subcode: number }
  | { kind: 'closed-without-notification' }
  | { kind: 'no-session'; detail: string };

export function matches(expect: Reaction, seen: Observed): boolean {
  if (expect.kind === 'treat-as-withdraw') return seen.kind === 'stayed-up';
  return seen.kind === 'reset' && seen.code === expect.code && seen.subcode === expect.subcode;
}

export function observedText(o: Observed): string {
  switch (o.kind) {
    case 'stayed-up':
      return 'session stayed up';
    case 'reset':
      return `NOTIFICATION ${o.code}/${o.subcode}, session reset`;
    case 'closed-without-notification':
      return 'connection closed without NOTIFICATION';
    case 'no-session':
      return `no session (${o.detail})`;
  }
}
