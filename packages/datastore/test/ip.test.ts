import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { canonicalCidr, cidrContains, cidrsOverlap, formatIp, parseCidr, parseIp } from '../src/index.js';

test('IPv4 and IPv6 addresses parse and print canonically', () => {
  assert.equal(formatIp(parseIp('10.244.38.174')!), '10.244.38.174');
  assert.equal(parseIp('256.1.1.1'), undefined);
  assert.equal(parseIp('01.1.1.1'), undefined, 'leading zeros are ambiguous (octal) and refused');
  assert.equal(formatIp(parseIp('2001:DB8:0:0:1:0:0:1')!), '2001:db8::1:0:0:1');
  assert.equal(formatIp(parseIp('::ffff:192.0.2.1')!), '::ffff:c000:201');
  assert.equal(formatIp(parseIp('::')!), '::');
  assert.equal(parseIp('1::2::3'), undefined);
  assert.equal(parseIp('1:2:3:4:5:6:7:8:9'), undefined);
});

test('every IPv6 address survives print and parse', () => {
  fc.assert(
    fc.property(fc.bigInt({ min: 0n, max: (1n << 128n) - 1n }), (v) => {
      assert.equal(parseIp(formatIp({ family: 6, value: v }))!.value, v);
    }),
  );
});

test('CIDRs: strict host bits, containment and overlap', () => {
  assert.equal(parseCidr('10.0.0.0/33'), undefined);
  assert.equal(parseCidr('10.0.0.1/24', { strict: true }), undefined);
  assert.equal(canonicalCidr('10.0.0.1/24'), '10.0.0.0/24');
  const pool = parseCidr('10.244.0.0/16')!;
  assert.ok(cidrContains(pool, parseCidr('10.244.3.64/26')!));
  assert.ok(!cidrContains(pool, parseCidr('10.245.0.0/26')!));
  assert.ok(cidrsOverlap(parseCidr('10.0.0.0/8')!, parseCidr('10.1.0.0/16')!));
  assert.ok(!cidrsOverlap(parseCidr('10.0.0.0/16')!, parseCidr('10.1.0.0/16')!));
  assert.ok(!cidrsOverlap(parseCidr('::/0')!, parseCidr('10.0.0.0/8')!), 'families never overlap');
});
