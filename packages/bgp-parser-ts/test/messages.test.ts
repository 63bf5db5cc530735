import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  BgpDecodeError,
  type BgpMessageInput,
  createContext,
  type DecodeContext,
  decodeAttributes,
  decodeMessage,
  decodePrefixes,
  effectiveAggregator,
  effectiveAsPath,
  encodeMessage,
  encodeUpdate,
  forEachIPv4Prefix,
  getAttribute,
  ipv6FromString,
  isEndOfRib,
  isIPv6LinkLocal,
  isValidIPv4Host,
  isValidIPv6Host,
  makeOpen,
  messageToJson,
  mirrorContext,
  negotiateContext,
  nextHopLengths,
  openAs,
  openCapabilities,
  type PathAttribute,
  packIPv4Prefixes,
  parsePrefix,
  prefixToString,
  StreamDecoder,
  scanUpdate,
  shutdownData,
  type UpdateError,
  type UpdateMessage,
  updateRoutes,
  worstAction,
} from '../src/index.js';
import { hex, toHexString } from './helpers.js';
import { ip4, ipv4Update, sampleOpen, sampleUpdate } from './samples.js';

const MARKER = 'ff'.repeat(16);

/** Builds a raw message from a body hex string (length computed). */
function raw(type: number, bodyHex: string): Uint8Array {
  const body = hex(bodyHex);
  const m = new Uint8Array(19 + body.length);
  m.fill(0xff, 0, 16);
  m[16] = m.length >> 8;
  m[17] = m.length & 255;
  m[18] = type;
  m.set(body, 19);
  return m;
}

/** A raw UPDATE from withdrawn / attributes / nlri hex. */
function rawUpdate(withdrawn: string, attrs: string, nlri: string): Uint8Array {
  const w = withdrawn.length / 2;
  const a = attrs.length / 2;
  const h = (n: number) => n.toString(16).padStart(4, '0');
  return raw(2, `${h(w)}${withdrawn}${h(a)}${attrs}${nlri}`);
}

function decodeError(bytes: Uint8Array, ctx?: DecodeContext): BgpDecodeError {
  try {
    decodeMessage(bytes, ctx);
  } catch (e) {
    assert.ok(e instanceof BgpDecodeError, `expected BgpDecodeError, got ${e}`);
    return e;
  }
  assert.fail('expected a decode error');
}

function update(bytes: Uint8Array, ctx?: DecodeContext): UpdateMessage {
  const m = decodeMessage(bytes, ctx);
  assert.equal(m.type, 'UPDATE');
  return m as UpdateMessage;
}

const ORIGIN = '40010100';
const ASPATH_EMPTY = '40020000'.slice(0, 6);
const NEXTHOP = '400304c0000201';
const BASE_ATTRS = ORIGIN + ASPATH_EMPTY + NEXTHOP;

function roundTrip(m: BgpMessageInput, ctx: DecodeContext = createContext()) {
  const bytes = encodeMessage(m, ctx);
  const back = decodeMessage(bytes, ctx);
  assert.equal(toHexString(encodeMessage(back, ctx)), toHexString(bytes));
  return back;
}

describe('header (RFC 4271 §6.1)', () => {
  test('bad marker is 1/1', () => {
    const m = encodeMessage({ type: 'KEEPALIVE' });
    m[3] = 0;
    const e = decodeError(m);
    assert.deepEqual([e.code, e.subcode], [1, 1]);
  });
  test('bad length is 1/2 with the length field as data', () => {
    const m = hex(`${MARKER}001204`);
    const e = decodeError(m);
    assert.deepEqual([e.code, e.subcode, toHexString(e.data)], [1, 2, '0012']);
    const ka = hex(`${MARKER}00140400`);
    assert.deepEqual(toHexString(decodeError(ka).data), '0014');
    const big = raw(2, `0000${'00'.repeat(5000)}`);
    assert.deepEqual([decodeError(big).code, decodeError(big).subcode], [1, 2]);
  });
  test('bad type is 1/3 with the type as data', () => {
    const e = decodeError(hex(`${MARKER}001309`));
    assert.deepEqual([e.code, e.subcode, toHexString(e.data)], [1, 3, '09']);
  });
  test('extended message (RFC 8654): 65535-octet UPDATE only when negotiated, never for OPEN', () => {
    const ext = createContext({ extendedMessage: true });
    const u = ipv4Update(2000);
    assert.throws(() => encodeUpdate(u), RangeError);
    const bytes = encodeUpdate(u, ext);
    assert.ok(bytes.length > 4096);
    assert.deepEqual([decodeError(bytes).code, decodeError(bytes).subcode], [1, 2]);
    assert.equal(update(bytes, ext).nlri.length, 2000);
    const open = raw(1, `04fde900b4c0000201ff${'00'.repeat(4200)}`);
    assert.deepEqual([decodeError(open, ext).code, decodeError(open, ext).subcode], [1, 2]);
  });
  test('truncated buffer is 1/2', () => {
    const m = encodeMessage({ type: 'UPDATE', ...ipv4Update(3) });
    assert.equal(decodeError(m.subarray(0, m.length - 1)).subcode, 2);
  });
});

describe('OPEN', () => {
  test('every capability round-trips and the 4-octet AS is found', () => {
    const back = roundTrip(sampleOpen());
    assert.equal(back.type, 'OPEN');
    if (back.type !== 'OPEN') return;
    assert.equal(back.myAs, 23456);
    assert.equal(openAs(back), 4200000001);
    assert.deepEqual(
      openCapabilities(back).map((c) => c.kind),
      [
        'multiprotocol',
        'multiprotocol',
        'route-refresh',
        'extended-next-hop',
        'extended-message',
        'graceful-restart',
        'four-octet-as',
        'add-path',
        'enhanced-route-refresh',
        'fqdn',
        'unknown',
      ],
    );
    assert.deepEqual(back, sampleOpen());
  });
  test('RFC 9072 extended optional parameters length round-trips', () => {
    const o = { ...sampleOpen(), extendedParams: true };
    const bytes = encodeMessage(o);
    assert.equal(bytes[28], 255);
    assert.equal(bytes[29], 255);
    assert.deepEqual(decodeMessage(bytes), o);
  });
  test('several capabilities in one parameter stay in one parameter', () => {
    const bytes = raw(1, '04fde900b4c00002010e020c010400010001410400000001');
    const o = decodeMessage(bytes);
    assert.equal(o.type, 'OPEN');
    if (o.type === 'OPEN') assert.equal(o.params.length, 1);
    assert.equal(toHexString(encodeMessage(o)), toHexString(bytes));
  });
  const cases: [string, string, number, string][] = [
    ['unsupported version', '03fde900b4c000020100', 1, '0004'],
    ['AS 0', '04000000b4c000020100', 2, ''],
    ['BGP identifier 0', '04fde900b40000000000', 3, ''],
    ['authentication parameter', '04fde900b4c000020103010100', 4, ''],
    ['hold time 1', '04fde90001c000020100', 6, ''],
    ['hold time 2', '04fde90002c000020100', 6, ''],
    ['malformed MP capability', '04fde900b4c0000201050203010203', 0, ''],
  ];
  for (const [name, body, subcode, data] of cases) {
    test(`${name} is 2/${subcode}`, () => {
      const e = decodeError(raw(1, body));
      assert.equal(e.code, 2);
      assert.equal(e.subcode, subcode);
      if (data) assert.equal(toHexString(e.data), data);
    });
  }
  test('hold time 0 and 3 are accepted', () => {
    assert.equal(decodeMessage(raw(1, '04fde90000c000020100')).type, 'OPEN');
    assert.equal(decodeMessage(raw(1, '04fde90003c000020100')).type, 'OPEN');
  });
  test('negotiateContext: 4-octet AS, extended message and add-path directions', () => {
    const local = sampleOpen();
    const remote = sampleOpen();
    const ctx = negotiateContext(local, remote);
    assert.equal(ctx.fourOctetAs, true);
    assert.equal(ctx.extendedMessage, true);
    assert.equal(ctx.addPath.get((1 << 8) | 1), 3);
    const recvOnly = {
      ...remote,
      params: remote.params.map((p) =>
        'capabilities' in p && p.capabilities[0]?.kind === 'add-path'
          ? {
              type: 2 as const,
              capabilities: [{ kind: 'add-path' as const, families: [{ afi: 1, safi: 1, mode: 1 }] }],
            }
          : p,
      ),
    };
    assert.equal(negotiateContext(local, recvOnly).addPath.get((1 << 8) | 1), 2);
    assert.equal(mirrorContext(negotiateContext(local, recvOnly)).addPath.get((1 << 8) | 1), 1);
  });
});

describe('UPDATE', () => {
  for (const four of [true, false]) {
    test(`every attribute round-trips (${four ? '4' : '2'}-octet AS)`, () => {
      const ctx = createContext({ fourOctetAs: four });
      const u = sampleUpdate(four);
      const back = roundTrip({ type: 'UPDATE', ...u }, ctx) as UpdateMessage;
      assert.deepEqual(back.errors, []);
      assert.deepEqual(back.withdrawn, u.withdrawn);
      assert.deepEqual(back.nlri, u.nlri);
      assert.deepEqual(back.attributes, u.attributes);
      assert.deepEqual(updateRoutes(back).announced.map(prefixToString), [
        '10.1.0.0/16',
        '10.2.3.0/24',
        '0.0.0.0/0',
        '10.9.9.9/32',
        '2001:db8:1::/48',
        '2001:db8:2::/64',
      ]);
      assert.deepEqual(updateRoutes(back).withdrawn.map(prefixToString), [
        '198.51.100.0/24',
        '2001:db8:3::/48',
      ]);
    });
  }
  test('RFC 6793: AS4_PATH and AS4_AGGREGATOR are merged on a 2-octet session', () => {
    const ctx = createContext({ fourOctetAs: false });
    const back = update(encodeUpdate(sampleUpdate(false), ctx), ctx);
    assert.deepEqual(effectiveAsPath(back, ctx), [
      { type: 2, asns: [4200000001, 65001] },
      { type: 1, asns: [64512, 64513] },
    ]);
    assert.deepEqual(effectiveAggregator(back, ctx), { as: 4200000001, address: ip4('192.0.2.9') });
    const json = messageToJson(back, 0, ctx) as { attributes: { asPath: unknown; asPathRaw: unknown } };
    assert.deepEqual(json.attributes.asPath, [
      { type: 'AS_SEQUENCE', asns: [4200000001, 65001] },
      { type: 'AS_SET', asns: [64512, 64513] },
    ]);
    assert.deepEqual(json.attributes.asPathRaw, [
      { type: 'AS_SEQUENCE', asns: [23456, 65001] },
      { type: 'AS_SET', asns: [64512, 64513] },
    ]);
  });
  test('add-path NLRI carry path identifiers', () => {
    const ctx = createContext({ addPath: 'all' });
    const back = update(encodeUpdate(ipv4Update(3, 0, true), ctx), ctx);
    assert.deepEqual(
      back.nlri.map((p) => p.pathId),
      [1, 2, 3],
    );
    assert.deepEqual(messageToJson(back, 0, ctx)['nlri'], [
      { prefix: '10.0.0.0/24', pathId: 1 },
      { prefix: '10.0.1.0/24', pathId: 2 },
      { prefix: '10.0.2.0/24', pathId: 3 },
    ]);
  });
  test('withdrawal-only UPDATE without attributes is clean; End-of-RIB is recognised', () => {
    const u = update(rawUpdate('18c63364', '', ''));
    assert.deepEqual(u.errors, []);
    assert.deepEqual(u.withdrawn.map(prefixToString), ['198.51.100.0/24']);
    assert.ok(isEndOfRib(update(rawUpdate('', '', ''))));
    assert.ok(isEndOfRib(update(rawUpdate('', '800f03000201', ''))));
  });

  const throwing: [string, Uint8Array, number, number][] = [
    ['withdrawn length overrun', raw(2, '0010180a0000'), 3, 1],
    ['attribute length overrun', raw(2, '0000ff00'), 3, 1],
    ['IPv4 prefix length 33', rawUpdate('', BASE_ATTRS, '210a000000ff'), 3, 10],
    ['NLRI prefix overruns', rawUpdate('', BASE_ATTRS, '180a00'), 3, 10],
    ['withdrawn prefix length 40', rawUpdate('280a000000ff', '', ''), 3, 10],
    [
      'duplicate MP_REACH_NLRI',
      rawUpdate('', `${ORIGIN}${ASPATH_EMPTY}800e0900010104c000020100800e0900010104c000020100`, ''),
      3,
      1,
    ],
    [
      'malformed MP_REACH_NLRI (next hop length 5)',
      rawUpdate('', `${ORIGIN}${ASPATH_EMPTY}800e0e00010105c00002010100180a0000`, ''),
      3,
      9,
    ],
    [
      'MP_REACH_NLRI prefix length 129',
      rawUpdate('', `800e1600020110${'20010db8'.padEnd(32, '0')}0081`, ''),
      3,
      9,
    ],
    ['MP_UNREACH_NLRI truncated', rawUpdate('', '800f020002', ''), 3, 9],
    ['MP_REACH_NLRI with wrong flags', rawUpdate('', '400e0800010104c000020100', ''), 3, 9],
    ['unrecognized well-known attribute', rawUpdate('', `${BASE_ATTRS}406301aa`, '180a0000'), 3, 2],
  ];
  for (const [name, bytes, code, subcode] of throwing) {
    test(`${name} → session reset ${code}/${subcode}`, () => {
      const e = decodeError(bytes);
      assert.deepEqual([e.code, e.subcode, e.action], [code, subcode, 'session-reset'], e.message);
    });
  }

  const soft: [string, string, string, 'treat-as-withdraw' | 'attribute-discard', number, string?][] = [
    ['ORIGIN value 3', `40010103${ASPATH_EMPTY}${NEXTHOP}`, '180a0000', 'treat-as-withdraw', 6, '40010103'],
    [
      'ORIGIN length 2',
      `4001020000${ASPATH_EMPTY}${NEXTHOP}`,
      '180a0000',
      'treat-as-withdraw',
      5,
      '4001020000',
    ],
    [
      'ORIGIN with optional flag',
      `80010100${ASPATH_EMPTY}${NEXTHOP}`,
      '180a0000',
      'treat-as-withdraw',
      4,
      '80010100',
    ],
    ['missing ORIGIN', `${ASPATH_EMPTY}${NEXTHOP}`, '180a0000', 'treat-as-withdraw', 3, '01'],
    ['missing NEXT_HOP', `${ORIGIN}${ASPATH_EMPTY}`, '180a0000', 'treat-as-withdraw', 3, '03'],
    [
      'NEXT_HOP 0.0.0.0',
      `${ORIGIN}${ASPATH_EMPTY}40030400000000`,
      '180a0000',
      'treat-as-withdraw',
      8,
      '40030400000000',
    ],
    ['NEXT_HOP length 3', `${ORIGIN}${ASPATH_EMPTY}400303c00002`, '180a0000', 'treat-as-withdraw', 5],
    ['AS_PATH segment type 7', `${ORIGIN}40020407010001${NEXTHOP}`, '180a0000', 'treat-as-withdraw', 11],
    ['AS_PATH overrun segment', `${ORIGIN}4002060202000000fd${NEXTHOP}`, '180a0000', 'treat-as-withdraw', 11],
    ['MED length 2', `${BASE_ATTRS}80040200ff`, '180a0000', 'treat-as-withdraw', 5],
    ['COMMUNITIES length 3', `${BASE_ATTRS}c00803010203`, '180a0000', 'treat-as-withdraw', 5],
    ['LARGE_COMMUNITY length 8', `${BASE_ATTRS}c020080000000100000002`, '180a0000', 'treat-as-withdraw', 5],
    ['ATOMIC_AGGREGATE length 1', `${BASE_ATTRS}40060100`, '180a0000', 'attribute-discard', 5],
    [
      'AGGREGATOR length 6 on a 4-octet session',
      `${BASE_ATTRS}c00706fde9c0000201`,
      '180a0000',
      'attribute-discard',
      5,
    ],
    [
      'AS4_PATH from a four-octet speaker',
      `${BASE_ATTRS}c01106020100000001`,
      '180a0000',
      'attribute-discard',
      0,
    ],
    [
      'duplicate COMMUNITIES',
      `${BASE_ATTRS}c00804fde90001c00804fde90002`,
      '180a0000',
      'attribute-discard',
      1,
    ],
  ];
  for (const [name, attrs, nlri, action, subcode, data] of soft) {
    test(`${name} → ${action} 3/${subcode}`, () => {
      const u = update(rawUpdate('180b0000', attrs, nlri));
      const e = u.errors.find((x) => x.subcode === subcode);
      assert.ok(e, `no 3/${subcode} in ${JSON.stringify(u.errors.map((x) => x.message))}`);
      assert.equal(e.action, action);
      assert.equal(e.code, 3);
      if (data) assert.equal(toHexString(e.data), data);
      assert.equal(u.action, action);
      // The routes are still reported: withdrawn ones, and announced ones to be treated as withdrawn.
      assert.deepEqual(u.withdrawn.map(prefixToString), ['11.0.0.0/24']);
      assert.deepEqual(u.nlri.map(prefixToString), ['10.0.0.0/24']);
      // Malformed input still re-encodes to the same octets.
      assert.equal(toHexString(encodeMessage(u)), toHexString(rawUpdate('180b0000', attrs, nlri)));
    });
  }
  test('duplicate attribute: the first one wins', () => {
    const u = update(rawUpdate('', `${BASE_ATTRS}c00804fde90001c00804fde90002`, '180a0000'));
    assert.deepEqual(getAttribute(u, 'communities')?.communities, [0xfde90001]);
  });
  test('attribute overrunning the attribute field → treat-as-withdraw, NLRI kept', () => {
    const u = update(rawUpdate('', `${BASE_ATTRS}c008ff01`, '180a0000'));
    assert.equal(u.action, 'treat-as-withdraw');
    assert.equal(u.errors[0]!.subcode, 1);
    assert.deepEqual(u.nlri.map(prefixToString), ['10.0.0.0/24']);
  });
  test('unknown optional transitive attribute is kept with its flags', () => {
    const u = update(rawUpdate('', `${BASE_ATTRS}e06303010203`, '180a0000'));
    const a = u.attributes.find((x) => x.kind === 'unknown');
    assert.deepEqual(a, { kind: 'unknown', code: 0x63, flags: 0xe0, data: new Uint8Array([1, 2, 3]) });
    assert.deepEqual(u.errors, []);
  });
  test('rawAttributes is the attribute field, identical for identical attribute sets', () => {
    const a = update(encodeUpdate(ipv4Update(3, 0)));
    const b = update(encodeUpdate(ipv4Update(5, 100)));
    assert.ok(a.rawAttributes.length > 0);
    assert.equal(toHexString(a.rawAttributes), toHexString(b.rawAttributes));
  });
});

describe('fast path', () => {
  test('scanUpdate + forEachIPv4Prefix / packIPv4Prefixes agree with the object decode', () => {
    for (const addPath of [false, true]) {
      const ctx = createContext({ addPath: addPath ? 'all' : undefined });
      const u = ipv4Update(50, 7, addPath);
      u.nlri.push(
        parsePrefix('0.0.0.0/0', addPath ? 9 : undefined),
        parsePrefix('192.0.2.128/25', addPath ? 9 : undefined),
      );
      const bytes = encodeUpdate(u, ctx);
      const lay = scanUpdate(bytes, 19, bytes.length);
      const objs = decodePrefixes(bytes, lay.nlriStart, lay.nlriEnd, 1, addPath);
      const seen: string[] = [];
      const n = forEachIPv4Prefix(bytes, lay.nlriStart, lay.nlriEnd, addPath, (a, len, id) => {
        seen.push(`${a}/${len}/${id}`);
      });
      assert.equal(n, 52);
      const expected = objs.map(
        (p) => `${new DataView(p.addr.buffer).getUint32(0)}/${p.len}/${p.pathId ?? 0}`,
      );
      assert.deepEqual(seen, expected);
      const out = new Uint32Array(52 * 3);
      assert.equal(packIPv4Prefixes(bytes, lay.nlriStart, lay.nlriEnd, addPath, out), 52);
      const stride = addPath ? 3 : 2;
      assert.deepEqual(
        Array.from(
          { length: 52 },
          (_, i) => `${out[i * stride]}/${out[i * stride + 1]}/${addPath ? out[i * stride + 2] : 0}`,
        ),
        expected,
      );
      assert.equal(
        toHexString(bytes.subarray(lay.attrStart, lay.attrEnd)),
        toHexString(update(bytes, ctx).rawAttributes),
      );
    }
  });
  test('scanUpdate finds MP_REACH/MP_UNREACH', () => {
    const bytes = encodeUpdate(sampleUpdate());
    const lay = scanUpdate(bytes, 19, bytes.length);
    assert.equal(lay.mpReach?.afi, 2);
    assert.equal(lay.mpReach!.nextHopEnd - lay.mpReach!.nextHopStart, 32);
    assert.equal(lay.mpUnreach?.afi, 2);
    assert.deepEqual(
      decodePrefixes(bytes, lay.mpReach!.nlriStart, lay.mpReach!.nlriEnd, 2, false).map(prefixToString),
      ['2001:db8:1::/48', '2001:db8:2::/64'],
    );
  });
  test('fast path rejects bad prefixes with the typed error', () => {
    const bad = hex('21ffffffffff');
    assert.throws(() => forEachIPv4Prefix(bad, 0, bad.length, false, () => {}), BgpDecodeError);
    assert.throws(() => packIPv4Prefixes(bad, 0, bad.length, false, new Uint32Array(8)), BgpDecodeError);
  });
});

describe('NOTIFICATION, KEEPALIVE, ROUTE-REFRESH', () => {
  test('shutdown communication (RFC 8203/9003)', () => {
    const n = roundTrip({ type: 'NOTIFICATION', code: 6, subcode: 2, data: shutdownData('maintenance ✓') });
    assert.equal(n.type === 'NOTIFICATION' && n.shutdownMessage, 'maintenance ✓');
    const long = shutdownData('x'.repeat(300));
    assert.equal(long[0], 255);
    const bad = decodeMessage(raw(3, '0602ff41'));
    assert.equal(bad.type === 'NOTIFICATION' && bad.shutdownMessage, undefined);
  });
  test('KEEPALIVE', () => {
    assert.deepEqual(roundTrip({ type: 'KEEPALIVE' }), { type: 'KEEPALIVE' });
    assert.deepEqual(messageToJson({ type: 'KEEPALIVE' }, 19), {
      type: 'KEEPALIVE',
      length: 19,
      action: 'none',
    });
  });
  test('ROUTE-REFRESH subtypes and 7/1 on a bad length', () => {
    for (const subtype of [0, 1, 2]) {
      assert.deepEqual(roundTrip({ type: 'ROUTE-REFRESH', afi: 2, subtype, safi: 1 }), {
        type: 'ROUTE-REFRESH',
        afi: 2,
        subtype,
        safi: 1,
      });
    }
    const e = decodeError(raw(5, '0001000100'));
    assert.deepEqual([e.code, e.subcode, e.data.length], [7, 1, 24]);
  });
});

describe('StreamDecoder', () => {
  const msgs = [
    encodeMessage(sampleOpen()),
    encodeMessage({ type: 'KEEPALIVE' }),
    encodeUpdate(sampleUpdate()),
    encodeUpdate(ipv4Update(300)),
    encodeMessage({ type: 'ROUTE-REFRESH', afi: 1, subtype: 0, safi: 1 }),
  ];
  const stream = Buffer.concat(msgs);
  test('one octet at a time', () => {
    const d = new StreamDecoder();
    const frames: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) frames.push(...d.push(stream.subarray(i, i + 1)));
    assert.deepEqual(frames.map(toHexString), msgs.map(toHexString));
    assert.equal(d.buffered, 0);
  });
  test('all messages in one chunk, and random chunking', () => {
    assert.deepEqual(new StreamDecoder().push(stream).map(toHexString), msgs.map(toHexString));
    for (let seed = 1; seed < 30; seed++) {
      const d = new StreamDecoder();
      const out: string[] = [];
      let i = 0;
      while (i < stream.length) {
        const n = 1 + ((seed * 7919 + i * 31) % 700);
        out.push(...d.push(stream.subarray(i, i + n)).map(toHexString));
        i += n;
      }
      assert.deepEqual(out, msgs.map(toHexString));
    }
    assert.deepEqual(
      new StreamDecoder().pushMessages(stream).map((m) => m.type),
      ['OPEN', 'KEEPALIVE', 'UPDATE', 'UPDATE', 'ROUTE-REFRESH'],
    );
  });
  test('a bad marker fails the stream with 1/1, and keeps failing', () => {
    const d = new StreamDecoder();
    d.push(stream.subarray(0, 10));
    const openLen = msgs[0]!.length;
    const bad = Buffer.from(stream.subarray(10, openLen + 19));
    bad[openLen + 3 - 10] = 0; // inside the KEEPALIVE's marker
    assert.throws(
      () => d.push(bad),
      (e: unknown) => e instanceof BgpDecodeError && e.code === 1 && e.subcode === 1,
    );
    assert.throws(() => d.push(stream), BgpDecodeError);
  });
  test('extended message limit follows the context', () => {
    const big = encodeUpdate(ipv4Update(2000), createContext({ extendedMessage: true }));
    assert.throws(() => new StreamDecoder().push(big), BgpDecodeError);
    const d = new StreamDecoder();
    d.setContext(createContext({ extendedMessage: true }));
    assert.equal(d.push(big).length, 1);
  });
});

describe('RFC 7606 classification API', () => {
  test('a session reset carries every error of the UPDATE and the UPDATE as decoded (RFC 7606 §5.2, §6)', () => {
    // Withdrawals and a malformed ORIGIN: nothing is announced, so no treat-as-withdraw.
    const bytes = rawUpdate('180b0000', `40010105${ASPATH_EMPTY}`, '');
    const e = decodeError(bytes);
    assert.deepEqual([e.code, e.subcode, toHexString(e.data), e.rule], [3, 6, '40010105', 'RFC 7606 §5.2']);
    assert.deepEqual(
      e.errors.map((x) => [x.action, x.subcode, x.rule]),
      [
        ['treat-as-withdraw', 6, 'RFC 7606 §7.1'],
        ['session-reset', 6, 'RFC 7606 §5.2'],
      ],
    );
    assert.deepEqual(e.update?.withdrawn.map(prefixToString), ['11.0.0.0/24']);
    assert.equal(toHexString(encodeMessage(e.update!)), toHexString(bytes));
  });
  test('decodeAttributes looks at every attribute before it throws', () => {
    const attrs: PathAttribute[] = [];
    const errors: UpdateError[] = [];
    const field = hex(`40010105406301aa${NEXTHOP}`);
    assert.throws(
      () => decodeAttributes(field, 0, field.length, createContext(), attrs, errors),
      (e: unknown) => e instanceof BgpDecodeError && e.subcode === 2 && e.errors.length === 2,
    );
    assert.deepEqual(
      errors.map((x) => x.action),
      ['treat-as-withdraw', 'session-reset'],
    );
    assert.equal(getAttribute({ attributes: attrs }, 'next-hop')?.nextHop, ip4('192.0.2.1'));
  });
  test('worstAction ranks the RFC 7606 §2 approaches', () => {
    const e = (action: UpdateError['action']) => ({
      action,
      code: 3,
      subcode: 0,
      data: new Uint8Array(0),
      message: '',
    });
    assert.equal(worstAction([]), undefined);
    assert.equal(worstAction([e('attribute-discard'), e('treat-as-withdraw')]), 'treat-as-withdraw');
    assert.equal(worstAction([e('afi-safi-disable'), e('treat-as-withdraw')]), 'afi-safi-disable');
    assert.equal(
      worstAction([e('afi-safi-disable'), e('session-reset'), e('attribute-discard')]),
      'session-reset',
    );
  });
  test('scanUpdate: overrun with NLRI is left to treat-as-withdraw, without NLRI it resets', () => {
    const withNlri = rawUpdate('', `${BASE_ATTRS}c00808fde90001`, '180a0000');
    const lay = scanUpdate(withNlri, 19, withNlri.length);
    assert.equal(lay.attributeOverrun, true);
    assert.equal(lay.nlriEnd - lay.nlriStart, 4);
    assert.equal(update(withNlri).action, 'treat-as-withdraw');
    const without = rawUpdate('180b0000', `${ORIGIN}400206`, '');
    assert.throws(
      () => scanUpdate(without, 19, without.length),
      (e: unknown) => e instanceof BgpDecodeError && e.subcode === 1 && e.rule === 'RFC 7606 §5.2',
    );
    const twice = rawUpdate('', '800f03000201800f03000201', '');
    assert.throws(
      () => scanUpdate(twice, 19, twice.length),
      (e: unknown) => e instanceof BgpDecodeError && e.subcode === 1 && e.rule === 'RFC 7606 §3.g',
    );
  });
  test('negotiateContext: policy options, and RFC 8950 next hops from the local capability', () => {
    const local = sampleOpen(); // advertises IPv4 unicast with IPv6 next hops
    const ctx = negotiateContext(local, sampleOpen(), { peerType: 'external', enforceFirstAs: 65001 });
    assert.equal(ctx.peerType, 'external');
    assert.equal(ctx.enforceFirstAs, 65001);
    assert.deepEqual([...(ctx.extendedNextHop ?? [])], [[(1 << 8) | 1, [2]]]);
    assert.deepEqual(nextHopLengths(1, 1, ctx), [4, 16, 32]);
    assert.deepEqual(nextHopLengths(2, 1, ctx), [16, 32]);
    const plain = negotiateContext(makeOpen({ as: 65001, holdTime: 90, bgpId: 1, capabilities: [] }), local);
    assert.deepEqual(nextHopLengths(1, 1, plain), [4]);
    // Unknown negotiation (a capture): RFC 8950 next hops for IPv4 NLRI, RDs for VPN families.
    assert.deepEqual(nextHopLengths(1, 1), [4, 16, 32]);
    assert.deepEqual(nextHopLengths(1, 128), [12, 24, 48]);
    assert.deepEqual(nextHopLengths(2, 128), [24, 48]);
    assert.equal(nextHopLengths(25, 70), undefined);
  });
  test('createContext rejects a bad peer type or first AS', () => {
    assert.throws(() => createContext({ peerType: 'ibgp' as never }), /peerType "ibgp"/);
    assert.throws(() => createContext({ enforceFirstAs: 0 }), /enforceFirstAs 0/);
    assert.throws(
      () => createContext({ extendedNextHop: { 'ipv9-unicast': [1] } }),
      /unknown address family/,
    );
  });
  test('RFC 7607: AS 0 in the four-octet AS capability is Bad Peer AS (2/2)', () => {
    const o = makeOpen({ as: 0, holdTime: 90, bgpId: 1, capabilities: [{ kind: 'four-octet-as', as: 0 }] });
    const e = decodeError(encodeMessage({ ...o, myAs: 65001 }));
    assert.deepEqual([e.code, e.subcode], [2, 2]);
  });
  test('valid host addresses (RFC 4271 §6.3)', () => {
    for (const a of [
      '0.0.0.0',
      '0.1.2.3',
      '127.0.0.1',
      '224.0.0.5',
      '239.255.255.255',
      '240.0.0.1',
      '255.255.255.255',
    ])
      assert.equal(isValidIPv4Host(ip4(a)), false, a);
    for (const a of ['1.0.0.0', '10.0.0.1', '169.254.1.1', '192.0.2.1', '223.255.255.254'])
      assert.equal(isValidIPv4Host(ip4(a)), true, a);
    for (const a of ['::', '::1', 'ff02::1', '::ffff:127.0.0.1', '::ffff:0.0.0.0'])
      assert.equal(isValidIPv6Host(ipv6FromString(a)), false, a);
    for (const a of ['2001:db8::1', 'fe80::1', '::ffff:192.0.2.1', '::2', '64:ff9b::c000:201'])
      assert.equal(isValidIPv6Host(ipv6FromString(a)), true, a);
    assert.equal(isIPv6LinkLocal(ipv6FromString('febf::1')), true);
    assert.equal(isIPv6LinkLocal(ipv6FromString('fec0::1')), false);
  });
  test('the JSON form of an error names its action, rule, data and family', () => {
    const u = update(
      rawUpdate('', `${BASE_ATTRS}800e1000020104c00002010030${'20010db80001'}`, '180a0000'),
      createContext({ afiSafiDisable: true }),
    );
    assert.equal(u.action, 'afi-safi-disable');
    const j = messageToJson(u, 0) as { action: string; errors: Record<string, unknown>[] };
    assert.equal(j.action, 'afi-safi-disable');
    assert.deepEqual(
      { ...j.errors[0], message: undefined },
      {
        action: 'afi-safi-disable',
        code: 3,
        subcode: 9,
        message: undefined,
        data: '800e1000020104c0000201003020010db80001',
        typeCode: 14,
        afi: 2,
        safi: 1,
        rule: 'RFC 7606 §7.11',
      },
    );
  });
});
