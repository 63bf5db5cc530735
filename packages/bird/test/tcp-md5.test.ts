/**
 * TCP MD5 (RFC 2385) without root: the tcp_md5sig layout, where passwords come from (flags,
 * config files, Secrets mounted as files) and two speakers on loopback signing their
 * session — a wrong password never gets one, a changed password re-keys the listener — and a
 * host without TCP MD5 refusing to start such a session (simulated through the seam).
 * Interop with BIRD 2 and GoBGP: tcp-md5-interop.test.ts.
 */
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { freePort, waitFor } from '@tricolor/testkit';
import { parseArgs } from '../src/config/cli.js';
import { resolvePassword } from '../src/config/password.js';
import type { PeerSpec } from '../src/config/types.js';
import { md5sigOption, tcpMd5Unavailable } from '../src/session/tcp-md5.js';
import { Speaker } from '../src/speaker.js';

const dir = mkdtempSync(join(tmpdir(), 'tb-md5-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const file = (name: string, content: string) => {
  const p = join(dir, name);
  writeFileSync(p, content, { mode: 0o600 });
  return p;
};

test('struct tcp_md5sig: the peer as sockaddr (IPv4 peers of IPv6 sockets v4-mapped), key length, key', () => {
  const key = Buffer.from('pw');
  const v4 = md5sigOption(4, '192.0.2.7', key);
  assert.equal(v4.length, 216);
  assert.deepEqual([...v4.subarray(0, 8)], [2, 0, 0, 0, 192, 0, 2, 7]);
  assert.equal(v4.readUInt16LE(130), 2);
  assert.equal(v4.subarray(136, 138).toString(), 'pw');
  const mapped = md5sigOption(6, '192.0.2.7', key);
  assert.equal(mapped.readUInt16LE(0), 10);
  assert.deepEqual([...mapped.subarray(8, 24)], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 255, 255, 192, 0, 2, 7]);
  const v6 = md5sigOption(6, '2001:db8::1', key);
  assert.deepEqual([...v6.subarray(8, 12)], [0x20, 0x01, 0x0d, 0xb8]);
  assert.equal(v6[23], 1);
  assert.equal(md5sigOption(4, '192.0.2.7', Buffer.alloc(0)).readUInt16LE(130), 0, 'no key: delete');
  assert.throws(() => md5sigOption(4, '2001:db8::1', key), /IPv6 peer .* cannot reach an IPv4 socket/);
});

test('passwords from --peer password-file=, a config file (password, passwordFile) and Secrets mounted as files', () => {
  const pw = file('pw', 's3cret\n');
  const [p] = parseArgs(['--router-id', '10.0.0.1', '--peer', `10.0.0.2,password-file=${pw}`]).config.peers;
  assert.equal(p!.password, 's3cret', 'one trailing newline is not part of the password');
  const cfg = file(
    'bird.json',
    JSON.stringify({
      routerId: '10.0.0.1',
      peers: [
        { address: '10.0.0.2', password: 'inline' },
        { address: '10.0.0.3', passwordFile: pw },
      ],
    }),
  );
  assert.deepEqual(
    parseArgs(['--config', cfg]).config.peers.map((x) => x.password),
    ['inline', 's3cret'],
  );
  const bad = (peers: unknown[]) =>
    parseArgs(['--config', file('bad.json', JSON.stringify({ routerId: '10.0.0.1', peers }))]);
  assert.throws(
    () => bad([{ address: '10.0.0.2', password: 'x'.repeat(81) }]),
    /^BirdConfigError: peers\[0\]\.password: is 81 bytes; TCP MD5 keys are at most 80$/,
  );
  assert.throws(
    () => bad([{ address: '10.0.0.2', password: 'a', passwordFile: pw }]),
    /peers\[0\]\.passwordFile: cannot be given together with password/,
  );
  assert.throws(
    () => parseArgs(['--router-id', '10.0.0.1', '--peer', `10.0.0.2,password-file=${join(dir, 'nope')}`]),
    /--peer password-file: cannot read the password: ENOENT/,
  );
  assert.throws(
    () => parseArgs(['--router-id', '10.0.0.1', '--peer', `10.0.0.2,password-file=${file('empty', '\n')}`]),
    /--peer password-file: is empty/,
  );
  // etcd mode: Calico's secretKeyRef, read from <dir>/<Secret>/<key> as a Secret volume lays it out.
  mkdirSync(join(dir, 'secrets', 'bgp'), { recursive: true });
  writeFileSync(join(dir, 'secrets', 'bgp', 'mesh'), 'mesh-pw');
  const ref = (key: string) => ({ secretKeyRef: { name: 'bgp', key } });
  assert.equal(resolvePassword('spec.nodeMeshPassword', ref('mesh'), join(dir, 'secrets')), 'mesh-pw');
  assert.equal(resolvePassword('spec.password', 'inline', join(dir, 'secrets')), 'inline');
  assert.throws(
    () => resolvePassword('spec.password', ref('tor'), join(dir, 'secrets')),
    /spec\.password\.secretKeyRef: cannot read the password: ENOENT/,
  );
});

/** A speaker on 127.0.0.<n> peering with 127.0.0.<m>, no kernel, no control socket. */
function speaker(n: number, port: number, peers: PeerSpec[]): Speaker {
  const { config } = parseArgs([
    '--router-id',
    `127.0.0.${n}`,
    '--listen',
    `127.0.0.${n}:${port}`,
    '--no-kernel',
    '--connect-delay',
    '0',
    '--connect-retry',
    '1',
    '--no-graceful-restart',
    '--log-level',
    'silent',
  ]);
  return new Speaker({ ...config, controlPath: undefined, peers });
}

const state = (sp: Speaker) => sp.protocols().map((p) => p.state);

test('two speakers on loopback: signed both ways; a wrong password gets no session; a changed one re-keys', async (t) => {
  const why = tcpMd5Unavailable();
  if (why) {
    t.skip(`TCP MD5 is not available here: ${why}`);
    process.stderr.write(`SKIPPED: TCP MD5 is not available here: ${why}\n`);
    return;
  }
  const [pa, pb] = [await freePort('127.0.0.1'), await freePort('127.0.0.2')];
  const toB = (password: string): PeerSpec => ({ address: '127.0.0.2', port: pb, password });
  const toA = (password: string): PeerSpec => ({
    address: '127.0.0.1',
    port: pa,
    password,
    localAddress: '127.0.0.2',
  });
  const a = speaker(1, pa, [toB('right')]);
  const b = speaker(2, pb, [toA('wrong')]);
  try {
    await a.start();
    await b.start();
    // Both connect every second, both are refused by the other's kernel.
    await new Promise((r) => setTimeout(r, 3000));
    assert.deepEqual([...state(a), ...state(b)].includes('Established'), false);
    b.setPeers([toA('right')]);
    await waitFor(
      'the session, signed',
      () => state(a)[0] === 'Established' && state(b)[0] === 'Established',
    );
    // A new password on both sides: the old session ends, the new keys bring it back.
    a.setPeers([toB('rotated')]);
    b.setPeers([toA('rotated')]);
    await waitFor(
      'the session with the new password',
      () => state(a)[0] === 'Established' && state(b)[0] === 'Established',
    );
  } finally {
    await a.stop({ graceful: false });
    await b.stop({ graceful: false });
  }
});

test('a host without TCP MD5: a configured password stops the start, a live one is not started (never unsigned)', async () => {
  const port = await freePort('127.0.0.3');
  const connects: string[] = [];
  const peer = createServer((s) => {
    connects.push(s.remoteAddress ?? '');
    s.destroy();
  });
  await new Promise<void>((r) => peer.listen(port, '127.0.0.3', r));
  const noMd5 = {
    unavailable: () => 'this kernel has no TCP MD5 support (CONFIG_TCP_MD5SIG)',
    setListenerPassword: () => assert.fail('no key may be set'),
  };
  const spec: PeerSpec = { address: '127.0.0.3', port, password: 'pw' };
  const make = (peers: PeerSpec[]) => {
    const base = speaker(1, 1790, peers);
    return new Speaker({ ...base.cfg, listen: undefined }, { tcpMd5: noMd5 });
  };
  try {
    await assert.rejects(
      make([{ address: '127.0.0.9' }, spec]).start(),
      /^BirdConfigError: peers\[1\]\.password: peer 127\.0\.0\.3 asks for TCP MD5 \(RFC 2385\), which is not available here: this kernel has no TCP MD5 support \(CONFIG_TCP_MD5SIG\)$/,
    );
    const sp = make([]);
    await sp.start();
    try {
      sp.setPeers([spec]);
      await new Promise((r) => setTimeout(r, 2500));
      const [p] = sp.protocols();
      assert.equal(p!.state, 'Idle');
      assert.match(
        p!.lastError,
        /peer 127\.0\.0\.3 \(peer_127_0_0_3\) has a password but its session cannot be signed: .*CONFIG_TCP_MD5SIG.*not started/,
      );
      assert.deepEqual(connects, [], 'no unsigned connection was made');
      assert.match(sp.readiness().reasons.join(), /peer 127\.0\.0\.3 is Idle/);
    } finally {
      await sp.stop({ graceful: false });
    }
  } finally {
    peer.close();
  }
});
