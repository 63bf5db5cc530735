/**
 * Session edge cases on real sockets in namespaces, against BIRD 2 and a scriptable raw
 * peer (test/raw-peer.ts): connection collisions while Established (RFC 4271 §6.8) and
 * peer restarts seen on the OPEN of a new connection (RFC 4724), the messages that follow
 * an OPEN in the same read, and connect attempts abandoned by the connect-retry timer.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import {
  connectVeth,
  type Daemon,
  Netns,
  requireCommands,
  requireRoot,
  startBird,
  waitFor,
} from '@tricolor/testkit';
import { learned, protocols, RawPeer, routes, startOurs, waitEstablished } from './helpers.js';

const US = '10.65.0.1';
const THEM = '10.65.0.2';

interface Scene {
  us: Netns;
  them: Netns;
  dir: string;
  daemons: Daemon[];
  raws: RawPeer[];
}

async function scene(hint: string, body: (s: Scene) => Promise<void>): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `tb-${hint}-`));
  const us = await Netns.create('us');
  const them = await Netns.create('them');
  const s: Scene = { us, them, dir, daemons: [], raws: [] };
  try {
    await connectVeth(us, `${US}/24`, them, `${THEM}/24`);
    await body(s);
  } catch (e) {
    for (const d of s.daemons) process.stderr.write(`--- ${d.name}\n${d.logs().slice(-4000)}\n`);
    for (const r of s.raws) process.stderr.write(`--- raw peer\n${r.logs().slice(-4000)}\n`);
    throw e;
  } finally {
    for (const r of s.raws) await r.stop();
    for (const d of s.daemons) await d.stop('SIGKILL');
    await us.destroy();
    await them.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function ours(s: Scene, ...peer: string[]): Promise<string> {
  const o = await startOurs(s.us, s.dir, 'us', [
    '--router-id',
    US,
    '--as',
    '64512',
    '--listen',
    US,
    ...peer,
    '--export',
    '10.91.9.0/24',
    '--no-kernel',
    '--connect-delay',
    '0',
    '--log-level',
    'debug',
  ]);
  s.daemons.push(o.d);
  return o.ctl;
}

function raw(s: Scene): RawPeer {
  const r = RawPeer.start(s.them);
  s.raws.push(r);
  return r;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const OPEN = (id: string, restarting?: boolean, as = 64512) => ({
  open: { as, id, hold: 30, ...(restarting === undefined ? {} : { restarting }) },
});
// ORIGIN IGP, empty AS_PATH, NEXT_HOP 10.65.0.2, LOCAL_PREF 100; NLRI 10.91.1.0/24.
const ATTRS = '40010100' + '400200' + '4003040a410002' + '40050400000064';
const UPDATE = `0000${(ATTRS.length / 2).toString(16).padStart(4, '0')}${ATTRS}180a5b01`;

/** An UPDATE body (hex) from its withdrawn routes, attributes and NLRI (hex each). */
function updateHex(withdrawn: string, attrs: string, nlri: string): string {
  const len = (h: string) => (h.length / 2).toString(16).padStart(4, '0');
  return `${len(withdrawn)}${withdrawn}${len(attrs)}${attrs}${nlri}`;
}
const A_ORIGIN = '40010100';
const A_PATH_EMPTY = '400200';
const A_NEXT_HOP = '4003040a410002';
const A_LOCAL_PREF_300 = '4005040000012c';
const NLRI_1 = '180a5b01'; // 10.91.1.0/24
const NLRI_2 = '180a5b02'; // 10.91.2.0/24

/** The raw peer connects as `as` and reaches Established with our speaker (passive towards it). */
async function establishedRaw(s: Scene, as = 64512): Promise<{ r: RawPeer; ctl: string }> {
  const ctl = await ours(s, '--peer', `${THEM}:${as},passive`);
  const r = raw(s);
  r.cmd({ op: 'connect', conn: 'c1', host: US, port: 179, local: THEM });
  await r.wait('c1 up', (e) => e.ev === 'connected' && e.conn === 'c1');
  r.cmd({ op: 'send', conn: 'c1', msgs: [OPEN(THEM, undefined, as), { keepalive: true }] });
  await waitEstablished(ctl, 1);
  return { r, ctl };
}

async function session(ctl: string) {
  const p = (await protocols(ctl))[0]!;
  return { state: p.state, establishedTotal: p.establishedTotal };
}

describe('sessions', { concurrency: false }, () => {
  test('BIRD 2 Established: a bare TCP connection and a colliding OPEN from its address leave the session up', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'bird', 'birdc')) return;
    await scene('bare', async (s) => {
      const ctl = await ours(s, '--peer', THEM);
      const bird = await startBird(s.them, {
        dir: s.dir,
        config: `router id ${THEM};
protocol device {}
protocol static { ipv4; route 10.91.2.0/24 blackhole; }
protocol bgp ours { local ${THEM} as 64512; neighbor ${US} as 64512; hold time 30;
  connect delay time 1; connect retry time 2; ipv4 { import all; export all; }; }
`,
      });
      s.daemons.push(bird.daemon);
      await waitEstablished(ctl, 1);
      await waitFor('BIRD Established', async () =>
        /Established/.test(await bird.birdc('show protocols ours')),
      );
      const r = raw(s);
      // A TCP connection from the peer's address that never sends an OPEN: not a restart.
      r.cmd({ op: 'connect', conn: 'bare', host: US, port: 179, local: THEM });
      await r.wait('bare connection up', (e) => e.ev === 'connected' && e.conn === 'bare');
      await sleep(3000);
      assert.deepEqual(await session(ctl), { state: 'Established', establishedTotal: 1 });
      assert.match(await bird.birdc('show protocols ours'), /Established/);
      // An OPEN on a new connection while the old one answers: a collision, the new one gets Cease 6/7.
      r.cmd({ op: 'connect', conn: 'c2', host: US, port: 179, local: THEM });
      await r.wait('c2 up', (e) => e.ev === 'connected' && e.conn === 'c2');
      r.cmd({ op: 'send', conn: 'c2', msgs: [OPEN(THEM)] });
      const n = await r.wait('Cease on c2', (e) => e.conn === 'c2' && e.type === 'NOTIFICATION');
      assert.deepEqual([n.code, n.subcode], [6, 7]);
      await r.wait('c2 closed', (e) => e.ev === 'closed' && e.conn === 'c2');
      assert.deepEqual(await session(ctl), { state: 'Established', establishedTotal: 1 });
      assert.match(await bird.birdc('show protocols ours'), /Established/);
      assert.equal((await learned(ctl)).get('10.91.2.0/24'), THEM);
    });
  });

  test('peer restart: an OPEN on a new connection replaces a session whose connection is dead, or that declares a restart', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'iptables')) return;
    await scene('restart', async (s) => {
      const ctl = await ours(s, '--peer', `${THEM},passive`);
      const r = raw(s);
      r.cmd({ op: 'connect', conn: 'c1', host: US, port: 179, local: THEM });
      const c1 = await r.wait('c1 up', (e) => e.ev === 'connected' && e.conn === 'c1');
      r.cmd({ op: 'send', conn: 'c1', msgs: [OPEN(THEM)] });
      await r.wait('our OPEN on c1', (e) => e.conn === 'c1' && e.type === 'OPEN');
      r.cmd({ op: 'send', conn: 'c1', msgs: [{ keepalive: true }] });
      await waitEstablished(ctl, 1);
      // The peer "rebooted": its kernel answers anything on the old connection with a reset.
      await s.them.exec('iptables', [
        '-A',
        'INPUT',
        '-p',
        'tcp',
        '-s',
        US,
        '--sport',
        '179',
        '--dport',
        String(c1.port),
        '-j',
        'REJECT',
        '--reject-with',
        'tcp-reset',
      ]);
      r.cmd({ op: 'connect', conn: 'c2', host: US, port: 179, local: THEM });
      await r.wait('c2 up', (e) => e.ev === 'connected' && e.conn === 'c2');
      r.cmd({ op: 'send', conn: 'c2', msgs: [OPEN(THEM), { keepalive: true }] });
      await r.wait('our KEEPALIVE on c2', (e) => e.conn === 'c2' && e.type === 'KEEPALIVE');
      await waitFor('Established again on c2', async () => {
        const x = await session(ctl);
        return x.state === 'Established' && x.establishedTotal === 2;
      });
      assert.equal(r.got('c2', 'NOTIFICATION').length, 0);
      // A restart declared in the OPEN (graceful restart, R bit) replaces a live connection at once.
      r.cmd({ op: 'connect', conn: 'c3', host: US, port: 179, local: THEM });
      await r.wait('c3 up', (e) => e.ev === 'connected' && e.conn === 'c3');
      r.cmd({ op: 'send', conn: 'c3', msgs: [OPEN(THEM, true), { keepalive: true }] });
      await r.wait('c2 closed by us', (e) => e.ev === 'closed' && e.conn === 'c2');
      await waitFor('Established on c3', async () => {
        const x = await session(ctl);
        return x.state === 'Established' && x.establishedTotal === 3;
      });
      assert.equal(r.got('c3', 'NOTIFICATION').length, 0);
    });
  });

  test('collision won by the new connection: the KEEPALIVE read together with its OPEN is not lost', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip')) return;
    await scene('collide', async (s) => {
      const r = raw(s);
      r.cmd({ op: 'listen', host: THEM, port: 179 });
      await r.wait('listening', (e) => e.ev === 'listening');
      const ctl = await ours(s, '--peer', THEM);
      // We connect and send our OPEN; the peer answers nothing on that connection (OpenSent)...
      const in1 = await r.wait('our connection', (e) => e.ev === 'accepted');
      await r.wait('our OPEN', (e) => e.conn === in1.conn && e.type === 'OPEN');
      // ... and opens its own with a higher BGP identifier: OPEN and KEEPALIVE in one write.
      r.cmd({ op: 'connect', conn: 'c2', host: US, port: 179, local: THEM });
      await r.wait('c2 up', (e) => e.ev === 'connected' && e.conn === 'c2');
      r.cmd({ op: 'send', conn: 'c2', msgs: [OPEN('10.65.0.9'), { keepalive: true }] });
      const cease = await r.wait(
        'Cease on our connection',
        (e) => e.conn === in1.conn && e.type === 'NOTIFICATION',
      );
      assert.deepEqual([cease.code, cease.subcode], [6, 7]);
      await waitEstablished(ctl, 1, 10_000);
      r.cmd({ op: 'send', conn: 'c2', msgs: [{ update: UPDATE }] });
      await waitFor('route learned on c2', async () => (await learned(ctl)).get('10.91.1.0/24') === THEM);
      assert.equal(r.got('c2', 'NOTIFICATION').length, 0);
      assert.deepEqual(await session(ctl), { state: 'Established', establishedTotal: 1 });
    });
  });

  test('connect attempts abandoned by the connect-retry timer never complete later', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'iptables')) return;
    await scene('zombie', async (s) => {
      const r = raw(s);
      r.cmd({ op: 'listen', host: THEM, port: 179 });
      await r.wait('listening', (e) => e.ev === 'listening');
      // SYNs are dropped: every attempt hangs until connect-retry (1 s) abandons it.
      const rule = ['INPUT', '-p', 'tcp', '--dport', '179', '--syn', '-j', 'DROP'];
      await s.them.exec('iptables', ['-A', ...rule]);
      await ours(s, '--peer', THEM, '--connect-retry', '1');
      await sleep(3500);
      await s.them.exec('iptables', ['-D', ...rule]);
      await r.wait('a connection', (e) => e.ev === 'accepted');
      await sleep(4000);
      const accepted = r.events.filter((e) => e.ev === 'accepted').map((e) => e.conn!);
      const silent = accepted.filter((c) => r.got(c, 'OPEN').length === 0);
      assert.deepEqual(silent, [], `connections that carried no OPEN (abandoned attempts): ${silent}`);
      assert.equal(accepted.length, 1);
    });
  });

  /**
   * Our connect hangs (the peer's host drops our SYNs; connect-retry 60 s) and the peer's own
   * connection `c2` arrives meanwhile. `letThrough` lifts the drop: the kernel's SYN
   * retransmit then completes our attempt, unless we gave it up.
   */
  async function crossing(s: Scene) {
    const r = raw(s);
    r.cmd({ op: 'listen', host: THEM, port: 179 });
    await r.wait('listening', (e) => e.ev === 'listening');
    const rule = ['INPUT', '-p', 'tcp', '--dport', '179', '--syn', '-j', 'DROP'];
    await s.them.exec('iptables', ['-A', ...rule]);
    const ctl = await ours(s, '--peer', THEM, '--connect-retry', '60');
    await waitFor('our attempt connecting', async () => (await session(ctl)).state === 'Connect');
    r.cmd({ op: 'connect', conn: 'c2', host: US, port: 179, local: THEM });
    await r.wait('c2 up', (e) => e.ev === 'connected' && e.conn === 'c2');
    const letThrough = () => s.them.exec('iptables', ['-D', ...rule]);
    return { r, ctl, letThrough };
  }

  test('the peer connects while our attempt is still connecting: the attempt is kept until that connection sends its OPEN', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'iptables')) return;
    await scene('cross', async (s) => {
      const { r, ctl, letThrough } = await crossing(s);
      // c2 carries nothing yet...
      await r.wait('our OPEN on c2', (e) => e.conn === 'c2' && e.type === 'OPEN');
      // ... and our attempt gets through. Both sides now hold two connections, as when two
      // speakers start together; this peer keeps ours and drops its own, as a peer whose
      // accept ran first does.
      await letThrough();
      const ourConn = await r.wait('our attempt accepted', (e) => e.ev === 'accepted', 10_000);
      r.cmd({ op: 'close', conn: 'c2' });
      r.cmd({ op: 'send', conn: ourConn.conn, msgs: [OPEN('10.65.0.0'), { keepalive: true }] });
      await waitEstablished(ctl, 1, 10_000);
      assert.deepEqual(await session(ctl), { state: 'Established', establishedTotal: 1 });
      assert.equal(r.got(ourConn.conn!, 'NOTIFICATION').length, 0);
    });
  });

  test('the OPEN on the peer’s connection comes before our attempt connects: the session goes on there and the attempt is given up', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'iptables')) return;
    await scene('cross-open', async (s) => {
      const { r, ctl, letThrough } = await crossing(s);
      r.cmd({ op: 'send', conn: 'c2', msgs: [OPEN('10.65.0.0'), { keepalive: true }] });
      await waitEstablished(ctl, 1, 10_000);
      // Our SYN would get through now (retransmitted at 1 s, 3 s, 7 s): none may arrive.
      await letThrough();
      await sleep(8000);
      assert.deepEqual(
        r.events.filter((e) => e.ev === 'accepted'),
        [],
        'the abandoned attempt reached the peer',
      );
      assert.deepEqual(await session(ctl), { state: 'Established', establishedTotal: 1 });
      assert.equal(r.got('c2', 'NOTIFICATION').length, 0);
    });
  });

  test('RFC 4271 §6.3: an unrecognized well-known attribute (flags 0x40, type 240) earns NOTIFICATION 3/2', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip')) return;
    await scene('wk240', async (s) => {
      const { r, ctl } = await establishedRaw(s);
      const attrs = A_ORIGIN + A_PATH_EMPTY + A_NEXT_HOP + '40f00101';
      r.cmd({ op: 'send', conn: 'c1', msgs: [{ update: updateHex('', attrs, NLRI_1) }] });
      const n = await r.wait('NOTIFICATION', (e) => e.conn === 'c1' && e.type === 'NOTIFICATION');
      assert.deepEqual([n.code, n.subcode], [3, 2]);
      assert.equal((await learned(ctl)).size, 0);
    });
  });

  test('RFC 7606 §5.2: withdrawals with clean attributes withdraw; withdrawals whose attributes are malformed reset the session (3/6)', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip')) return;
    await scene('wd52', async (s) => {
      const { r, ctl } = await establishedRaw(s);
      const good = A_ORIGIN + A_PATH_EMPTY + A_NEXT_HOP;
      r.cmd({ op: 'send', conn: 'c1', msgs: [{ update: updateHex('', good, NLRI_1 + NLRI_2) }] });
      await waitFor('both routes learned', async () => (await learned(ctl)).size === 2);
      // Only withdrawals, with well-formed attributes beside them: a withdrawal, the session stays.
      r.cmd({ op: 'send', conn: 'c1', msgs: [{ update: updateHex(NLRI_2, A_ORIGIN + A_PATH_EMPTY, '') }] });
      await waitFor('10.91.2.0/24 withdrawn', async () => !(await learned(ctl)).has('10.91.2.0/24'));
      assert.equal((await session(ctl)).state, 'Established');
      // Only withdrawals, with ORIGIN 5: nothing to treat as withdrawn, so the session is reset.
      r.cmd({ op: 'send', conn: 'c1', msgs: [{ update: updateHex(NLRI_1, '40010105' + A_PATH_EMPTY, '') }] });
      const n = await r.wait('NOTIFICATION', (e) => e.conn === 'c1' && e.type === 'NOTIFICATION');
      assert.deepEqual([n.code, n.subcode], [3, 6]);
      const p = (await protocols(ctl))[0]!;
      assert.match(p.lastError, /ORIGIN/);
    });
  });

  test("RFC 7606 by peer type: an external peer's LOCAL_PREF is discarded and its confederation segments are treat-as-withdraw", async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip')) return;
    await scene('ebgp', async (s) => {
      const { r, ctl } = await establishedRaw(s, 65001);
      const path = (segments: string) =>
        `4002${(segments.length / 2).toString(16).padStart(2, '0')}${segments}`;
      const seq = '02010000fde9'; // AS_SEQUENCE 65001
      // LOCAL_PREF 300 from an external peer: attribute discard, the route is learned without it.
      r.cmd({
        op: 'send',
        conn: 'c1',
        msgs: [{ update: updateHex('', A_ORIGIN + path(seq) + A_NEXT_HOP + A_LOCAL_PREF_300, NLRI_1) }],
      });
      await waitFor('route learned', async () => (await learned(ctl)).has('10.91.1.0/24'));
      const row = (await routes(ctl)).find((x) => x.prefix === '10.91.1.0/24')!;
      assert.notEqual(
        (row.paths[0] as { localPref?: number }).localPref,
        300,
        'LOCAL_PREF 300 from eBGP ignored',
      );
      // AS_CONFED_SEQUENCE (3) from an external peer: malformed AS_PATH, the route is withdrawn.
      r.cmd({
        op: 'send',
        conn: 'c1',
        msgs: [{ update: updateHex('', A_ORIGIN + path(`03010000fdea${seq}`) + A_NEXT_HOP, NLRI_1) }],
      });
      await waitFor('route treated as withdrawn', async () => !(await learned(ctl)).has('10.91.1.0/24'));
      assert.equal(r.got('c1', 'NOTIFICATION').length, 0);
      assert.equal((await session(ctl)).state, 'Established');
    });
  });
});
