import assert from 'node:assert/strict';
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { Netns, requireRoot } from '@tricolor/testkit';
import fc from 'fast-check';
import {
  decodeRoute,
  encodeRouteWrite,
  errorOf,
  NLM_F_ACK,
  NLM_F_CREATE,
  NLM_F_REPLACE,
  RTM_DELROUTE,
  RTM_NEWROUTE,
  splitMessages,
} from '../src/netlink-routes.js';

const PROTO = 12;
const devices = new Map([
  ['eth0', 2],
  ['eth1', 3],
]);
const byIndex = (i: number) => [...devices].find(([, n]) => n === i)?.[0] ?? `#${i}`;

/** A message as the socket sends it, read back the way replies are read. */
function roundTrip(w: Parameters<typeof encodeRouteWrite>[0], ack = false) {
  const [m] = splitMessages(encodeRouteWrite(w, PROTO, 7, ack, (d) => devices.get(d)));
  return { m: m!, route: decodeRoute(m!.data, byIndex) };
}

test('a route written over rtnetlink: replace with the speaker’s protocol, on-link next hop, read back as written', () => {
  const { m, route } = roundTrip({ prefix: '10.1.0.0/26', hops: [{ via: '192.0.2.1', dev: 'eth0' }] }, true);
  assert.equal(m.type, RTM_NEWROUTE);
  assert.equal(m.seq, 7);
  assert.equal(
    m.flags & (NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK),
    NLM_F_CREATE | NLM_F_REPLACE | NLM_F_ACK,
  );
  assert.deepEqual(route, {
    family: 4,
    dst: '10.1.0.0/26',
    type: 'unicast',
    protocol: '12',
    protocolNumber: 12,
    table: 254,
    dev: 'eth0',
    via: '192.0.2.1',
    onlink: true,
  });
});

test('ECMP, IPv6, and an IPv4 route through an IPv6 next hop (RTA_VIA) survive the round trip', () => {
  const ecmp = roundTrip({
    prefix: '10.2.0.0/24',
    hops: [
      { via: '192.0.2.1', dev: 'eth0' },
      { via: '192.0.2.2', dev: 'eth1' },
    ],
  }).route;
  assert.deepEqual(ecmp.nexthops, [
    { via: '192.0.2.1', dev: 'eth0', onlink: true },
    { via: '192.0.2.2', dev: 'eth1', onlink: true },
  ]);
  assert.equal(ecmp.via, undefined);
  const v6 = roundTrip({ prefix: 'fd00:10::/122', hops: [{ via: 'fe80::1', dev: 'eth1' }] }).route;
  assert.deepEqual([v6.family, v6.dst, v6.via, v6.dev], [6, 'fd00:10::/122', 'fe80::1', 'eth1']);
  const v4v6 = roundTrip({ prefix: '10.3.0.0/24', hops: [{ via: 'fe80::2', dev: 'eth0' }] }).route;
  assert.deepEqual([v4v6.family, v4v6.via], [4, 'fe80::2']);
});

test('a removal matches any scope and type of our protocol, as ip route del does; no next hop, no ACK unless asked', () => {
  const { m } = roundTrip({ prefix: '10.1.0.0/26' });
  assert.equal(m.type, RTM_DELROUTE);
  assert.equal(m.flags & NLM_F_ACK, 0);
  assert.deepEqual([m.data[5], m.data[6], m.data[7]], [PROTO, 255, 0]);
});

test('any IPv4 or IPv6 prefix reads back as written', () => {
  const prefix = (bytes: number) =>
    fc
      .tuple(fc.uint8Array({ minLength: bytes, maxLength: bytes }), fc.integer({ min: 0, max: bytes * 8 }))
      .map(([a, len]) => {
        // Host bits clear, as a route's prefix has them.
        for (let bit = len; bit < bytes * 8; bit++) a[bit >> 3]! &= ~(0x80 >> (bit & 7));
        return { a: Buffer.from(a), len };
      });
  fc.assert(
    fc.property(fc.oneof(prefix(4), prefix(16)), ({ a, len }) => {
      const text =
        a.length === 4
          ? [...a].join('.')
          : new URL(`http://[${a.toString('hex').replace(/(.{4})(?!$)/g, '$1:')}]`).hostname.slice(1, -1);
      const { route } = roundTrip({
        prefix: `${text}/${len}`,
        hops: [{ via: a.length === 4 ? '192.0.2.1' : 'fe80::1', dev: 'eth0' }],
      });
      assert.equal(route.dst, `${text}/${len}`);
    }),
  );
});

test('bad input: a prefix that is not one, a device that does not exist', () => {
  assert.throws(
    () => encodeRouteWrite({ prefix: '10.1.0.0/33' }, PROTO, 1, false, () => 1),
    /bad prefix 10\.1\.0\.0\/33/,
  );
  assert.throws(() => encodeRouteWrite({ prefix: 'nope' }, PROTO, 1, false, () => 1), /bad prefix nope/);
  assert.throws(
    () =>
      encodeRouteWrite(
        { prefix: '10.0.0.0/8', hops: [{ via: '192.0.2.1', dev: 'gone0' }] },
        PROTO,
        1,
        false,
        () => undefined,
      ),
    /Cannot find device "gone0"/,
  );
});

test('a datagram of several messages splits on 4-byte boundaries; an error reply carries its errno', () => {
  const err = Buffer.alloc(36);
  err.writeUInt32LE(36, 0);
  err.writeUInt16LE(2, 4);
  err.writeUInt32LE(9, 8);
  err.writeInt32LE(-3, 16);
  const both = Buffer.concat([encodeRouteWrite({ prefix: '10.0.0.0/8' }, PROTO, 8, false, () => 1), err]);
  const [a, b] = splitMessages(both);
  assert.equal(a!.seq, 8);
  assert.deepEqual([b!.seq, errorOf(b!)], [9, 3]);
  assert.throws(() => splitMessages(both.subarray(0, 20)), /netlink: message length/);
});

/** The route socket in a namespace, through route-socket-driver.ts. */
class Driver {
  private readonly child: ChildProcessWithoutNullStreams;
  private readonly replies: AsyncIterator<string>;
  constructor(ns: Netns) {
    const script = fileURLToPath(new URL('./route-socket-driver.js', import.meta.url));
    this.child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, script]);
    this.child.stderr.pipe(process.stderr);
    this.replies = createInterface({ input: this.child.stdout })[Symbol.asyncIterator]();
  }
  async ask<T>(request: object): Promise<T> {
    this.child.stdin.write(`${JSON.stringify(request)}\n`);
    const { value, done } = await this.replies.next();
    assert.ok(!done, 'the driver ended');
    const reply = JSON.parse(value) as { ok?: T; error?: string };
    if (reply.error !== undefined) throw new Error(reply.error);
    return reply.ok as T;
  }
  async close(): Promise<void> {
    this.child.stdin.end();
    await once(this.child, 'exit');
  }
}

interface WriteResult {
  written: number;
  failures: { write: { prefix: string }; code: string }[];
}

test('routes written, read back, removed and looked up over rtnetlink in a namespace; the kernel agrees', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await Netns.create('rtnl');
  const driver = new Driver(ns);
  try {
    await ns.exec('ip', ['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
    for (const d of ['va', 'vb']) await ns.exec('ip', ['link', 'set', d, 'up']);
    await ns.exec('ip', ['addr', 'add', '192.0.2.10/24', 'dev', 'va']);
    const r = await driver.ask<WriteResult>({
      op: 'write',
      protocol: PROTO,
      writes: [
        { prefix: '10.1.0.0/26', hops: [{ via: '198.51.100.1', dev: 'va' }] },
        { prefix: '10.2.0.0/26', hops: [{ via: '198.51.100.2', dev: 'gone0' }] },
        { prefix: 'nope' },
        { prefix: '10.3.0.0/26' },
        {
          prefix: '10.4.0.0/26',
          hops: [
            { via: '198.51.100.1', dev: 'va' },
            { via: '198.51.100.2', dev: 'vb' },
          ],
        },
        { prefix: 'fd00:10::/122', hops: [{ via: 'fe80::1', dev: 'vb' }] },
      ],
    });
    assert.equal(r.written, 6);
    assert.deepEqual(
      r.failures.map((f) => [f.write.prefix, f.code]),
      [
        ['10.2.0.0/26', 'ENODEV'],
        ['nope', 'EINVAL'],
        ['10.3.0.0/26', 'ESRCH'],
      ],
      'each failure named by its write; the writes after them still go',
    );
    const v4 = await ns.ipJson<
      { dst: string; gateway?: string; dev?: string; flags: string[]; nexthops?: unknown[] }[]
    >(['route', 'show', 'proto', 'bird']);
    assert.deepEqual(
      v4.map((x) => [x.dst, x.gateway, x.dev, x.nexthops?.length]),
      [
        ['10.1.0.0/26', '198.51.100.1', 'va', undefined],
        ['10.4.0.0/26', undefined, undefined, 2],
      ],
    );
    assert.deepEqual(v4[0]!.flags, ['onlink'], 'on-link: the next hop is not in any subnet here');
    const v6 = await ns.ipJson<{ dst: string; gateway: string; dev: string }[]>([
      '-6',
      'route',
      'show',
      'proto',
      'bird',
    ]);
    assert.deepEqual(
      v6.map((x) => [x.dst, x.gateway, x.dev]),
      [['fd00:10::/122', 'fe80::1', 'vb']],
    );
    const read = await driver.ask<
      { dst: string; via?: string; dev?: string; nexthops?: { via: string; dev: string }[] }[]
    >({
      op: 'routes',
      protocol: PROTO,
    });
    assert.deepEqual(
      read.map((x) => [x.dst, x.via ?? x.nexthops?.map((h) => `${h.via}@${h.dev}`).join(' '), x.dev]),
      [
        ['10.1.0.0/26', '198.51.100.1', 'va'],
        ['10.4.0.0/26', '198.51.100.1@va 198.51.100.2@vb', undefined],
        ['fd00:10::/122', 'fe80::1', 'vb'],
      ],
    );
    assert.deepEqual(await driver.ask({ op: 'get', address: '192.0.2.77' }), { dev: 'va' });
    assert.deepEqual(await driver.ask({ op: 'get', address: '10.1.0.5' }), { dev: 'va' });
    assert.deepEqual(await driver.ask({ op: 'get', address: '203.0.113.1' }), { dev: null }, 'unreachable');
    // A device created after the socket read the links is found on a second look.
    await ns.exec('ip', ['link', 'add', 'vc', 'type', 'veth', 'peer', 'name', 'vd']);
    for (const d of ['vc', 'vd']) await ns.exec('ip', ['link', 'set', d, 'up']);
    const late = await driver.ask<WriteResult>({
      op: 'write',
      protocol: PROTO,
      writes: [{ prefix: '10.5.0.0/26', hops: [{ via: '198.51.100.3', dev: 'vc' }] }],
    });
    assert.deepEqual(late.failures, []);
    const removed = await driver.ask<WriteResult>({
      op: 'write',
      protocol: PROTO,
      writes: ['10.1.0.0/26', '10.4.0.0/26', '10.5.0.0/26', 'fd00:10::/122'].map((prefix) => ({ prefix })),
    });
    assert.deepEqual(removed.failures, []);
    assert.equal((await ns.exec('ip', ['route', 'show', 'proto', 'bird'])).stdout, '');
  } finally {
    await driver.close();
    await ns.destroy();
  }
});

test('thousands of routes in many datagrams: every one in the kernel, the one failure named by its prefix', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await Netns.create('rtnl-many');
  const driver = new Driver(ns);
  try {
    await ns.exec('ip', ['link', 'add', 'va', 'type', 'veth', 'peer', 'name', 'vb']);
    for (const d of ['va', 'vb']) await ns.exec('ip', ['link', 'set', d, 'up']);
    const r = await driver.ask<WriteResult>({
      op: 'generate',
      count: 5000,
      via: '198.51.100.1',
      dev: 'va',
      protocol: PROTO,
      removeMissing: 3001,
    });
    assert.equal(r.written, 5001);
    assert.deepEqual(
      r.failures.map((f) => [f.write.prefix, f.code]),
      [['19.255.255.0/24', 'ESRCH']],
    );
    const lines = (await ns.exec('ip', ['route', 'show', 'proto', 'bird'])).stdout.trim().split('\n');
    assert.equal(lines.length, 5000);
    assert.equal(lines.at(-1)?.trim(), '20.19.135.0/24 via 198.51.100.1 dev va onlink');
    assert.equal((await driver.ask<unknown[]>({ op: 'routes', protocol: PROTO })).length, 5000);
  } finally {
    await driver.close();
    await ns.destroy();
  }
});
