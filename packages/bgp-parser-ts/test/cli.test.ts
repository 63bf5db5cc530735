import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createContext, encodeMessage, encodeUpdate, shutdownData } from '../src/index.js';
import { toHexString } from './helpers.js';
import { ipv4Update, sampleOpen, sampleUpdate } from './samples.js';

const CLI = join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'cli', 'bgp-decode.js');

function cli(args: string[], input?: string) {
  const r = spawnSync(process.execPath, [CLI, ...args], { input, encoding: 'utf8' });
  return {
    code: r.status,
    out: r.stdout
      .trim()
      .split('\n')
      .filter(Boolean)
      .map((l) => JSON.parse(l)),
    err: r.stderr,
  };
}

test('bgp-decode prints one JSON line per hex message (spaces and colons ignored)', () => {
  const open = toHexString(encodeMessage(sampleOpen()));
  const upd = toHexString(encodeUpdate(sampleUpdate()));
  const spaced = upd.replace(/(..)/g, '$1 ');
  const colons = toHexString(encodeMessage({ type: 'KEEPALIVE' })).replace(/(..)(?!$)/g, '$1:');
  const notif = toHexString(
    encodeMessage({ type: 'NOTIFICATION', code: 6, subcode: 2, data: shutdownData('bye') }),
  );
  const rr = toHexString(encodeMessage({ type: 'ROUTE-REFRESH', afi: 2, subtype: 1, safi: 1 }));
  const { code, out } = cli([], [open, spaced, '', colons, notif, rr, 'ffff00', 'zz'].join('\n'));
  assert.equal(code, 0);
  assert.equal(out.length, 7);
  assert.equal(out[0].type, 'OPEN');
  assert.equal(out[0].bgpId, '192.0.2.1');
  assert.equal(out[0].myAs, 23456);
  assert.deepEqual(out[0].capabilities[6], { code: 65, name: 'four-octet-as', as: 4200000001 });
  const u = out[1];
  assert.equal(u.type, 'UPDATE');
  assert.deepEqual(u.withdrawn, ['198.51.100.0/24']);
  assert.deepEqual(u.nlri, ['10.1.0.0/16', '10.2.3.0/24', '0.0.0.0/0', '10.9.9.9/32']);
  assert.equal(u.attributes.origin, 'igp');
  assert.deepEqual(u.attributes.asPath, [
    { type: 'AS_SEQUENCE', asns: [4200000001, 65001] },
    { type: 'AS_SET', asns: [64512, 64513] },
  ]);
  assert.equal(u.attributes.nextHop, '192.0.2.1');
  assert.equal(u.attributes.med, 50);
  assert.equal(u.attributes.localPref, 200);
  assert.equal(u.attributes.atomicAggregate, true);
  assert.deepEqual(u.attributes.aggregator, { as: 4200000001, address: '192.0.2.9' });
  assert.deepEqual(u.attributes.communities, ['65001:100', '65535:65281']);
  assert.deepEqual(u.attributes.largeCommunities, ['4200000001:1:2']);
  assert.deepEqual(u.attributes.extendedCommunities, ['0002fde900000001']);
  assert.equal(u.attributes.originatorId, '192.0.2.7');
  assert.deepEqual(u.attributes.clusterList, ['192.0.2.8', '192.0.2.10']);
  assert.deepEqual(u.attributes.mpReach, {
    afi: 2,
    safi: 1,
    nextHops: ['2001:db8::1', 'fe80::1'],
    nlri: ['2001:db8:1::/48', '2001:db8:2::/64'],
  });
  assert.deepEqual(u.attributes.mpUnreach, { afi: 2, safi: 1, withdrawn: ['2001:db8:3::/48'] });
  assert.deepEqual(u.attributes.unknown, [{ typeCode: 99, flags: 0xe0, hex: '010203' }]);
  assert.deepEqual(u.errors, []);
  assert.equal(u.action, 'none');
  assert.equal(out[0].action, 'none');
  assert.deepEqual(out[2], { type: 'KEEPALIVE', length: 19, action: 'none' });
  assert.equal(out[3].type, 'NOTIFICATION');
  assert.equal(out[3].shutdownMessage, 'bye');
  assert.deepEqual(out[4], {
    type: 'ROUTE-REFRESH',
    length: 23,
    afi: 2,
    safi: 1,
    subtype: 1,
    action: 'none',
  });
  assert.equal(out[5].error.code, 1);
  assert.equal(out[5].action, 'session-reset');
  assert.equal(out[6].error.message, 'input is not hex');
});

test('bgp-decode --two-octet-as, --add-path and a file argument', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bgp-decode-'));
  try {
    const two = createContext({ fourOctetAs: false });
    const ap = createContext({ addPath: 'all' });
    const file = join(dir, 'in.hex');
    writeFileSync(file, `${toHexString(encodeUpdate(sampleUpdate(false), two))}\n`);
    const r = cli(['--two-octet-as', file]);
    assert.equal(r.code, 0);
    assert.deepEqual(r.out[0].attributes.asPath[0], { type: 'AS_SEQUENCE', asns: [4200000001, 65001] });
    assert.deepEqual(r.out[0].attributes.asPathRaw[0], { type: 'AS_SEQUENCE', asns: [23456, 65001] });
    const line = toHexString(encodeUpdate(ipv4Update(2, 0, true), ap));
    for (const flag of ['all', 'ipv4-unicast,ipv6-unicast']) {
      const a = cli(['--add-path', flag], line);
      assert.deepEqual(a.out[0].nlri, [
        { prefix: '10.0.0.0/24', pathId: 1 },
        { prefix: '10.0.1.0/24', pathId: 2 },
      ]);
    }
    // Missing attributes make a treat-as-withdraw UPDATE; errors are listed.
    const bad = toHexString(encodeUpdate({ withdrawn: [], attributes: [], nlri: ipv4Update(1).nlri }));
    const b = cli([], bad);
    assert.equal(b.out[0].errors[0].action, 'treat-as-withdraw');
    assert.equal(b.out[0].errors[0].subcode, 3);
    assert.equal(cli([join(dir, 'missing.hex')]).code, 1);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('bgp-decode: session options, the action of each message, and bad options', () => {
  // LOCAL_PREF: kept from an internal peer, discarded from an external one (RFC 7606 §7.5).
  const withLp = toHexString(
    encodeUpdate({
      ...ipv4Update(1),
      attributes: [...ipv4Update(1).attributes, { kind: 'local-pref', flags: 0x40, localPref: 200 }],
    }),
  );
  assert.equal(cli([], withLp).out[0].action, 'none');
  const ext = cli(['--peer-type', 'external'], withLp).out[0];
  assert.equal(ext.action, 'attribute-discard');
  assert.equal(ext.errors[0].rule, 'RFC 7606 §7.5');
  assert.equal(ext.attributes.localPref, undefined);
  // A session reset prints the NOTIFICATION and every error of the UPDATE.
  const reset = cli([], `${'ff'.repeat(16)}0022020004180b0000000740010105400200`).out[0];
  assert.equal(reset.action, 'session-reset');
  assert.deepEqual([reset.error.code, reset.error.subcode, reset.error.data], [3, 6, '40010105']);
  assert.equal(reset.error.rule, 'RFC 7606 §5.2');
  assert.deepEqual(
    reset.errors.map((e: { action: string }) => e.action),
    ['treat-as-withdraw', 'session-reset'],
  );
  const help = spawnSync(process.execPath, [CLI, '--help'], { encoding: 'utf8' });
  assert.equal(help.status, 0);
  assert.match(help.stdout, /--peer-type/);
  for (const bad of [
    ['--bogus'],
    ['--peer-type', 'ibgp'],
    ['--enforce-first-as', '0'],
    ['--add-path', 'ipv9-x'],
    ['a', 'b'],
  ]) {
    const r = spawnSync(process.execPath, [CLI, ...bad], { input: '', encoding: 'utf8' });
    assert.equal(r.status, 2, `${bad.join(' ')}: ${r.stderr}`);
    assert.ok(r.stderr.length > 0);
  }
});
