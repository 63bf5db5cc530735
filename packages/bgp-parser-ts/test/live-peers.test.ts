/**
 * Captures UPDATEs from real BGP speakers (BIRD 2 and GoBGP), each in its own network
 * namespace, peering over a veth with a tiny BGP listener that uses this codec, running
 * in a second namespace. The captured messages are decoded, round-tripped byte-exactly,
 * and their prefixes/attributes compared with what the daemon was configured to announce.
 */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  connectVeth,
  Daemon,
  Netns,
  requireCommands,
  requireRoot,
  startBird,
  startGobgp,
} from '@tricolor/testkit';
import {
  communityToString,
  createContext,
  decodeMessage,
  effectiveAsPath,
  encodeMessage,
  getAttribute,
  negotiateContext,
  type OpenMessage,
  prefixToString,
  type UpdateMessage,
  updateRoutes,
} from '../src/index.js';
import { hex, toHexString } from './helpers.js';

const INDEX_URL = pathToFileURL(join(dirname(fileURLToPath(import.meta.url)), '..', 'src', 'index.js')).href;

/** The listener, run with `ip netns exec`: OPEN/KEEPALIVE exchange, then capture until all expected prefixes arrived. */
const LISTENER = `
import { createServer } from 'node:net';
import * as bgp from ${JSON.stringify(INDEX_URL)};
const [addr, myAs, bgpId, expectJson, timeoutMs] = process.argv.slice(2);
const expected = new Set(JSON.parse(expectJson));
const local = bgp.makeOpen({ as: Number(myAs), holdTime: 90, bgpId: bgp.ipv4FromString(bgpId), capabilities: [
  { kind: 'multiprotocol', afi: 1, safi: 1, reserved: 0 },
  { kind: 'multiprotocol', afi: 2, safi: 1, reserved: 0 },
  { kind: 'route-refresh' },
  { kind: 'four-octet-as', as: Number(myAs) },
] });
const captured = [];
let ctx = bgp.createContext();
const finish = (why) => {
  process.stdout.write(JSON.stringify({ why, local: bgp.toHex(bgp.encodeMessage(local)), messages: captured }) + '\\n');
  process.exit(0);
};
setTimeout(() => finish('timeout'), Number(timeoutMs)).unref();
const server = createServer((sock) => {
  const dec = new bgp.StreamDecoder(ctx);
  sock.write(bgp.encodeMessage(local));
  const keepalive = setInterval(() => sock.write(bgp.encodeKeepalive()), 10000);
  sock.on('close', () => clearInterval(keepalive));
  sock.on('error', () => {});
  sock.on('data', (chunk) => {
    let frames;
    try { frames = dec.push(chunk); } catch (e) { captured.push({ error: String(e) }); return finish('decode error'); }
    for (const f of frames) {
      captured.push(bgp.toHex(f));
      const m = bgp.decodeMessage(f, ctx);
      if (m.type === 'OPEN') {
        ctx = bgp.negotiateContext(local, m);
        dec.setContext(ctx);
        sock.write(bgp.encodeKeepalive());
      } else if (m.type === 'UPDATE') {
        for (const p of bgp.updateRoutes(m).announced) expected.delete(bgp.prefixToString(p));
        if (expected.size === 0) setTimeout(() => finish('complete'), 300);
      }
    }
  });
});
server.listen(179, addr, () => process.stdout.write('listening\\n'));
`;

interface Capture {
  why: string;
  local: string;
  messages: (string | { error: string })[];
}

function startListener(
  ns: Netns,
  dir: string,
  addr: string,
  expected: string[],
): { listener: Daemon; result: Promise<Capture>; ready: Promise<void> } {
  const script = join(dir, 'listener.mjs');
  writeFileSync(script, LISTENER);
  const listener = Daemon.spawn(
    ns,
    process.execPath,
    [script, addr, '65000', addr, JSON.stringify(expected), '30000'],
    'listener',
  );
  let readyResolve: () => void = () => {};
  const ready = new Promise<void>((r) => {
    readyResolve = r;
  });
  const result = new Promise<Capture>((resolve, reject) => {
    listener.child.stdout!.on('data', () => {
      const out = listener.logs();
      if (out.includes('listening\n')) readyResolve();
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line) as Capture);
    });
    listener.child.once('exit', (code) =>
      reject(new Error(`listener exited ${code} before reporting: ${listener.logs()}`)),
    );
  });
  return { listener, result, ready };
}

/**
 * `us` (the listener's side, <net>.1) and `them` (the daemon's, <net>.2) on a veth with IPv4
 * 10.<net>.0.x/24 and IPv6 2001:db8:<net>::x/64, a temp dir; all stopped and removed after.
 */
async function withPeers(
  hint: string,
  net: number,
  body: (s: {
    us: Netns;
    them: Netns;
    dir: string;
    stopAfter: (d: { stop(): Promise<void> }) => void;
  }) => Promise<void>,
): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), `bgp-${hint}-`));
  const us = await Netns.create('bgpme');
  const them = await Netns.create(hint);
  const daemons: { stop(): Promise<void> }[] = [];
  try {
    await connectVeth(us, [`10.${net}.0.1/24`, `2001:db8:${net}::1/64`], them, [
      `10.${net}.0.2/24`,
      `2001:db8:${net}::2/64`,
    ]);
    await body({ us, them, dir, stopAfter: (d) => daemons.unshift(d) });
  } finally {
    for (const d of daemons) await d.stop();
    await them.destroy();
    await us.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Decodes a capture with the context negotiated from both OPENs; every message must round-trip. */
function analyse(cap: Capture) {
  assert.ok(
    cap.messages.every((m) => typeof m === 'string'),
    `listener error: ${JSON.stringify(cap.messages)}`,
  );
  const frames = (cap.messages as string[]).map(hex);
  const local = decodeMessage(hex(cap.local)) as OpenMessage;
  const remote = decodeMessage(frames[0]!, createContext()) as OpenMessage;
  assert.equal(remote.type, 'OPEN');
  const ctx = negotiateContext(local, remote);
  const updates: UpdateMessage[] = [];
  for (const f of frames) {
    const m = decodeMessage(f, ctx);
    assert.equal(toHexString(encodeMessage(m, ctx)), toHexString(f), `${m.type} does not round-trip`);
    if (m.type === 'UPDATE') {
      assert.deepEqual(m.errors, [], 'UPDATE from a real peer has errors');
      updates.push(m);
    }
  }
  const announced = new Map<string, UpdateMessage>();
  for (const u of updates) for (const p of updateRoutes(u).announced) announced.set(prefixToString(p), u);
  return { remote, ctx, updates, announced };
}

const V4 = ['192.0.2.0/24', '198.51.100.0/25'];
const V6 = ['2001:db8:100::/48', '2001:db8:200::/56'];

describe('live peers', { concurrency: false }, () => {
  test('BIRD 2 announces its static routes to our codec', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'bird', 'birdc')) return;
    await withPeers('bird', 99, async ({ us, them, dir, stopAfter }) => {
      const l = startListener(us, dir, '10.99.0.1', [...V4, ...V6]);
      stopAfter(l.listener);
      await l.ready;
      const filter =
        'filter { bgp_community.add((65000,100)); bgp_large_community.add((4200000001,1,2)); accept; }';
      const bird = await startBird(them, {
        dir,
        config: `router id 10.99.0.2;
protocol device {}
protocol static s4 { ipv4; ${V4.map((p) => `route ${p} blackhole;`).join(' ')} }
protocol static s6 { ipv6; ${V6.map((p) => `route ${p} blackhole;`).join(' ')} }
protocol bgp up {
  local 10.99.0.2 as 4200000001;
  neighbor 10.99.0.1 as 65000;
  connect delay time 1;
  start delay time 1;
  ipv4 { import none; export ${filter}; };
  ipv6 { import none; export ${filter}; next hop address 2001:db8:99::2; };
}
`,
      });
      stopAfter(bird);
      const cap = await l.result;
      assert.equal(cap.why, 'complete', `BIRD did not announce everything: ${cap.why}`);
      const { remote, ctx, announced } = analyse(cap);
      assert.equal(ctx.fourOctetAs, true);
      assert.equal(remote.myAs, 23456);
      assert.deepEqual([...announced.keys()].sort(), [...V4, ...V6].sort());
      for (const p of [...V4, ...V6]) {
        const u = announced.get(p)!;
        assert.deepEqual(effectiveAsPath(u, ctx), [{ type: 2, asns: [4200000001] }], p);
        assert.ok(
          getAttribute(u, 'communities')?.communities.map(communityToString).includes('65000:100'),
          p,
        );
        assert.deepEqual(getAttribute(u, 'large-communities')?.communities, [[4200000001, 1, 2]], p);
        assert.equal(getAttribute(u, 'origin')?.origin, 0);
      }
      const v6 = announced.get(V6[0]!)!;
      assert.equal(getAttribute(v6, 'mp-reach')?.afi, 2);
    });
  });

  test('GoBGP announces routes added over its API to our codec', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'gobgpd', 'gobgp')) return;
    const v4 = ['203.0.113.0/24', '198.51.100.128/25'];
    const v6 = ['2001:db8:300::/48'];
    await withPeers('gobgp', 98, async ({ us, them, dir, stopAfter }) => {
      const l = startListener(us, dir, '10.98.0.1', [...v4, ...v6]);
      stopAfter(l.listener);
      await l.ready;
      const peer = await startGobgp(them, {
        dir,
        toml: `[global.config]
  as = 4200000002
  router-id = "10.98.0.2"
  port = -1
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.98.0.1"
    peer-as = 65000
  [neighbors.timers.config]
    connect-retry = 1
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv6-unicast"
`,
      });
      stopAfter(peer);
      for (const p of v4) {
        await peer.gobgp([
          'global',
          'rib',
          'add',
          '-a',
          'ipv4',
          p,
          'community',
          '65000:200',
          'large-community',
          '4200000002:3:4',
        ]);
      }
      for (const p of v6) {
        await peer.gobgp([
          'global',
          'rib',
          'add',
          '-a',
          'ipv6',
          p,
          'nexthop',
          '2001:db8:98::2',
          'community',
          '65000:200',
          'large-community',
          '4200000002:3:4',
        ]);
      }
      const cap = await l.result;
      assert.equal(cap.why, 'complete', `GoBGP did not announce everything: ${cap.why}`);
      const { ctx, announced } = analyse(cap);
      assert.equal(ctx.fourOctetAs, true);
      assert.deepEqual([...announced.keys()].sort(), [...v4, ...v6].sort());
      for (const p of [...v4, ...v6]) {
        const u = announced.get(p)!;
        assert.deepEqual(effectiveAsPath(u, ctx), [{ type: 2, asns: [4200000002] }], p);
        assert.deepEqual(
          getAttribute(u, 'communities')?.communities.map(communityToString),
          ['65000:200'],
          p,
        );
        assert.deepEqual(getAttribute(u, 'large-communities')?.communities, [[4200000002, 3, 4]], p);
      }
    });
  });
});
