import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import {
  BgpDecodeError,
  createContext,
  type DecodeContext,
  decodeMessage,
  encodeMessage,
  isValidIPv4Host,
  isValidIPv6Host,
  mergeAs4Path,
  type PathAttribute,
  type Prefix,
  type UpdateMessage,
} from '../src/index.js';
import { hex, loadJsonl } from './helpers.js';
import { seedMessages } from './samples.js';

// Plain-prototype records, so deepStrictEqual compares them with decoded objects.
// biome-ignore lint/suspicious/noExplicitAny: pass-through to fc.record's generic signature
const rec: typeof fc.record = ((model: any) => fc.record(model, { noNullPrototype: true })) as any;
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const u16 = fc.integer({ min: 0, max: 0xffff });
// AS 0 makes AS_PATH, AGGREGATOR, AS4_PATH and AS4_AGGREGATOR malformed (RFC 7607).
const asn32 = fc.integer({ min: 1, max: 0xffffffff });
const asn16 = fc.integer({ min: 1, max: 0xffff });

function prefixArb(afi: 1 | 2, addPath: boolean): fc.Arbitrary<Prefix> {
  const size = afi === 1 ? 4 : 16;
  return fc
    .record({
      len: fc.integer({ min: 0, max: size * 8 }),
      bytes: fc.uint8Array({ minLength: size, maxLength: size }),
      id: u32,
    })
    .map(({ len, bytes, id }) => {
      const addr = new Uint8Array(size);
      addr.set(bytes.subarray(0, (len + 7) >> 3));
      const p: Prefix = { afi, len, addr };
      if (addPath) p.pathId = id;
      return p;
    });
}

function attributesArb(ctx: DecodeContext, addPath: boolean): fc.Arbitrary<PathAttribute[]> {
  const asn = ctx.fourOctetAs ? asn32 : asn16;
  const seg = rec({
    type: fc.integer({ min: 1, max: 4 }),
    asns: fc.array(asn, { minLength: 1, maxLength: 20 }),
  });
  const seg4 = rec({
    type: fc.integer({ min: 1, max: 4 }),
    asns: fc.array(asn32, { minLength: 1, maxLength: 20 }),
  });
  const nh = u32.filter(isValidIPv4Host);
  const ext = (base: number) => fc.boolean().map((e) => base | (e ? 0x10 : 0));
  const partial = (base: number) => fc.constantFrom(base, base | 0x20);
  const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).filter((b) => isValidIPv6Host(b));
  const candidates: fc.Arbitrary<PathAttribute>[] = [
    rec({ kind: fc.constant('origin' as const), flags: ext(0x40), origin: fc.integer({ min: 0, max: 2 }) }),
    rec({
      kind: fc.constant('as-path' as const),
      flags: ext(0x40),
      segments: fc.array(seg, { maxLength: 4 }),
    }),
    rec({ kind: fc.constant('next-hop' as const), flags: ext(0x40), nextHop: nh }),
    rec({ kind: fc.constant('med' as const), flags: ext(0x80), med: u32 }),
    rec({ kind: fc.constant('local-pref' as const), flags: ext(0x40), localPref: u32 }),
    rec({ kind: fc.constant('atomic-aggregate' as const), flags: ext(0x40) }),
    rec({ kind: fc.constant('aggregator' as const), flags: partial(0xc0), as: asn, address: u32 }),
    rec({
      kind: fc.constant('communities' as const),
      flags: partial(0xc0),
      communities: fc.array(u32, { minLength: 1, maxLength: 30 }),
    }),
    rec({ kind: fc.constant('originator-id' as const), flags: ext(0x80), originatorId: u32 }),
    rec({
      kind: fc.constant('cluster-list' as const),
      flags: ext(0x80),
      clusterIds: fc.array(u32, { minLength: 1, maxLength: 8 }),
    }),
    rec({
      kind: fc.constant('mp-reach' as const),
      flags: ext(0x80),
      afi: fc.constant(2),
      safi: fc.constant(1),
      nextHop: fc.oneof(
        v6,
        fc.tuple(v6, v6).map(([a, b]) => new Uint8Array([...a, ...b])),
      ),
      reserved: fc.constant(0),
      nlri: fc.array(prefixArb(2, addPath), { maxLength: 10 }),
    }),
    rec({
      kind: fc.constant('mp-unreach' as const),
      flags: ext(0x80),
      afi: fc.constant(2),
      safi: fc.constant(1),
      withdrawn: fc.array(prefixArb(2, addPath), { maxLength: 10 }),
    }),
    rec({
      kind: fc.constant('extended-communities' as const),
      flags: partial(0xc0),
      communities: fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { minLength: 1, maxLength: 5 }),
    }),
    // AS4_PATH (never empty) and AS4_AGGREGATOR only from a two-octet speaker (RFC 6793 §4.1).
    ...(ctx.fourOctetAs
      ? []
      : [
          rec({
            kind: fc.constant('as4-path' as const),
            flags: partial(0xc0),
            segments: fc.array(seg4, { minLength: 1, maxLength: 3 }),
          }),
          rec({
            kind: fc.constant('as4-aggregator' as const),
            flags: partial(0xc0),
            as: asn32,
            address: u32,
          }),
        ]),
    rec({
      kind: fc.constant('large-communities' as const),
      flags: partial(0xc0),
      communities: fc.array(fc.tuple(u32, u32, u32), { minLength: 1, maxLength: 5 }),
    }),
    rec({
      kind: fc.constant('unknown' as const),
      // Codes the codec neither decodes nor checks (25, 26, 35, 128 are checked).
      code: fc.constantFrom(0, 11, 12, 13, 19, 20, 40, 99, 255),
      flags: fc.constantFrom(0x80, 0xc0, 0xe0, 0xd0, 0x90),
      data: fc.uint8Array({ maxLength: 40 }),
    }),
  ];
  // At most one of each type (duplicates are decoded as discarded copies, by design).
  return fc
    .subarray(candidates.map((_, i) => i))
    .chain((idx) =>
      idx.length === 0
        ? fc.constant([])
        : fc
            .tuple(...idx.map((i) => candidates[i]!))
            .chain((arr) => fc.shuffledSubarray(arr, { minLength: arr.length })),
    );
}

const contexts = [
  createContext({ extendedMessage: true }),
  createContext({ extendedMessage: true, fourOctetAs: false }),
  createContext({ extendedMessage: true, addPath: 'all' }),
];

function updateArb(ctx: DecodeContext) {
  const ap = ctx.addPath.size > 0;
  return rec({
    withdrawn: fc.array(prefixArb(1, ap), { maxLength: 20 }),
    attributes: attributesArb(ctx, ap),
    nlri: fc.array(prefixArb(1, ap), { maxLength: 20 }),
  });
}

/** The extended-length bit is chosen by the encoder when a value exceeds 255 octets. */
function normalise(attrs: PathAttribute[]): PathAttribute[] {
  return attrs.map((a) => (a.kind === 'trailing' ? a : { ...a, flags: a.flags & ~0x10 }));
}

for (const [i, ctx] of contexts.entries()) {
  test(`property: decode(encode(update)) deep-equals the update (context ${i})`, () => {
    fc.assert(
      fc.property(updateArb(ctx), (u) => {
        const bytes = encodeMessage({ type: 'UPDATE', ...u }, ctx);
        let back: UpdateMessage;
        try {
          back = decodeMessage(bytes, ctx) as UpdateMessage;
        } catch (e) {
          // MP_REACH_NLRI without NLRI and without ORIGIN/AS_PATH (RFC 4760 §3) is malformed and,
          // announcing nothing, resets the session (RFC 7606 §5.2); the decoded UPDATE comes with it.
          assert.ok(e instanceof BgpDecodeError && e.update, String(e));
          assert.deepEqual(
            e.errors.map((x) => [x.subcode, x.rule]).filter(([sub]) => sub !== 3),
            [],
          );
          assert.equal(e.rule, 'RFC 7606 §5.2');
          back = e.update;
        }
        assert.deepEqual(back.withdrawn, u.withdrawn);
        assert.deepEqual(back.nlri, u.nlri);
        assert.deepEqual(normalise(back.attributes), normalise(u.attributes));
        // No attribute-level errors for well-formed attributes (only "missing mandatory" ones).
        assert.deepEqual(
          back.errors.filter((e) => e.subcode !== 3),
          [],
        );
      }),
      { numRuns: 400 },
    );
  });
}

test('property: OPEN, NOTIFICATION and ROUTE-REFRESH round-trip', () => {
  const cap = fc.oneof(
    rec({
      kind: fc.constant('multiprotocol' as const),
      afi: u16,
      safi: fc.integer({ min: 0, max: 255 }),
      reserved: fc.constant(0),
    }),
    rec({ kind: fc.constant('route-refresh' as const) }),
    rec({ kind: fc.constant('four-octet-as' as const), as: asn32 }),
    rec({
      kind: fc.constant('add-path' as const),
      families: fc.array(
        rec({ afi: u16, safi: fc.integer({ min: 0, max: 255 }), mode: fc.integer({ min: 1, max: 3 }) }),
        { maxLength: 4 },
      ),
    }),
    rec({
      kind: fc.constant('fqdn' as const),
      hostname: fc.string({ maxLength: 30 }),
      domain: fc.string({ maxLength: 30 }),
    }),
    rec({
      kind: fc.constant('graceful-restart' as const),
      restartFlags: fc.integer({ min: 0, max: 15 }),
      restartTime: fc.integer({ min: 0, max: 4095 }),
      families: fc.array(
        rec({ afi: u16, safi: fc.integer({ min: 0, max: 255 }), flags: fc.integer({ min: 0, max: 255 }) }),
        { maxLength: 3 },
      ),
    }),
    rec({
      kind: fc.constant('unknown' as const),
      code: fc.constantFrom(3, 4, 71, 128, 200),
      data: fc.uint8Array({ maxLength: 20 }),
    }),
  );
  const open = rec({
    type: fc.constant('OPEN' as const),
    version: fc.constant(4),
    myAs: fc.integer({ min: 1, max: 0xffff }),
    holdTime: fc.oneof(fc.constant(0), fc.integer({ min: 3, max: 0xffff })),
    bgpId: fc.integer({ min: 1, max: 0xffffffff }),
    params: fc.array(rec({ type: fc.constant(2 as const), capabilities: fc.array(cap, { maxLength: 3 }) }), {
      maxLength: 5,
    }),
  });
  fc.assert(
    fc.property(open, (o) => {
      assert.deepEqual(decodeMessage(encodeMessage(o)), o);
    }),
    { numRuns: 300 },
  );
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      fc.uint8Array({ maxLength: 100 }),
      (code, subcode, data) => {
        const back = decodeMessage(encodeMessage({ type: 'NOTIFICATION', code, subcode, data }));
        assert.equal(back.type, 'NOTIFICATION');
        if (back.type !== 'NOTIFICATION') return;
        assert.deepEqual([back.code, back.subcode, back.data], [code, subcode, data]);
      },
    ),
  );
  fc.assert(
    fc.property(
      u16,
      fc.integer({ min: 0, max: 255 }),
      fc.integer({ min: 0, max: 255 }),
      (afi, subtype, safi) => {
        const rr = { type: 'ROUTE-REFRESH' as const, afi, subtype, safi };
        assert.deepEqual(decodeMessage(encodeMessage(rr)), rr);
      },
    ),
  );
});

test('property: decode(encode(decode(bytes))) is stable and byte-exact for any decodable bytes', () => {
  const seeds = [
    ...loadJsonl('exabgp-encoding.jsonl').map((r) => hex(r.hex)),
    ...seedMessages(createContext()),
    ...seedMessages(createContext({ fourOctetAs: false })),
  ];
  const input = fc
    .record({
      seed: fc.constantFrom(...seeds),
      edits: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 4 }),
      ctx: fc.constantFrom(
        ...contexts,
        createContext(),
        createContext({ fourOctetAs: false, addPath: 'all' }),
      ),
    })
    .map(({ seed, edits, ctx }) => {
      const b = seed.slice();
      for (const [at, v] of edits) if (b.length > 19) b[19 + (at % (b.length - 19))] = v;
      return { b, ctx };
    });
  let decodedCount = 0;
  fc.assert(
    fc.property(input, ({ b, ctx }) => {
      let first: ReturnType<typeof decodeMessage>;
      try {
        first = decodeMessage(b, ctx);
      } catch (e) {
        assert.ok(e instanceof BgpDecodeError, String(e));
        return;
      }
      decodedCount++;
      const again = encodeMessage(first, ctx);
      assert.deepEqual(again, b);
      const second = decodeMessage(again, ctx);
      assert.deepEqual(second, first);
    }),
    { numRuns: 3000 },
  );
  assert.ok(decodedCount > 500, `only ${decodedCount} decodable inputs`);
});

test('RFC 6793 merge keeps the leading AS_PATH ASNs AS4_PATH does not cover', () => {
  assert.deepEqual(
    mergeAs4Path(
      [
        { type: 2, asns: [65001, 23456, 23456] },
        { type: 1, asns: [1, 2] },
      ],
      [{ type: 2, asns: [4200000001, 4200000002] }],
    ),
    [{ type: 2, asns: [65001, 23456, 4200000001, 4200000002] }],
  );
  // AS4_PATH longer than AS_PATH is ignored.
  assert.deepEqual(mergeAs4Path([{ type: 2, asns: [1] }], [{ type: 2, asns: [5, 6] }]), [
    { type: 2, asns: [1] },
  ]);
});
