/**
 * Our speaker only, several nodes on one L2 segment (standalone mode): a 3-node full mesh
 * and a 4-node cluster through a route reflector; faults: hold-timer expiry of a frozen
 * peer, graceful restart of a peer, a kernel route deleted by hand, malformed UPDATEs
 * from a raw TCP peer.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DEFAULT_BGP_CONFIGURATION, validateNode } from '@tricolor/datastore';
import {
  connectVeth,
  Daemon,
  Netns,
  requireCommands,
  requireRoot,
  Segment,
  waitFor,
} from '@tricolor/testkit';
import { peersFromResources } from '../src/config/etcd.js';
import { query } from '../src/control/client.js';
import {
  kernelRoutes,
  learned,
  protocols,
  type RouteRow,
  routes,
  startOurs,
  waitEstablished,
} from './helpers.js';

const addr = (i: number) => `10.61.0.${i}`;
const block = (i: number) => `10.244.${i}.0/26`;
/** A `proto bird` route left over from before a restart, announced by nobody. */
const STRAY = '10.244.99.0/26';

interface Node {
  ns: Netns;
  i: number;
  d: Daemon;
  ctl: string;
  args: string[];
}

/** n nodes on one segment in a temp dir; `body` fills `nodes`; everything is killed and removed after. */
async function withCluster(
  n: number,
  hint: string,
  body: (nss: Netns[], dir: string, nodes: Node[]) => Promise<void>,
) {
  const dir = mkdtempSync(join(tmpdir(), `tb-${hint}-`));
  const seg = await Segment.create('lan');
  const nss: Netns[] = [];
  const nodes: Node[] = [];
  try {
    for (let i = 1; i <= n; i++) {
      const ns = await Netns.create(`n${i}`);
      nss.push(ns);
      await seg.attach(ns, `${addr(i)}/24`);
    }
    await body(nss, dir, nodes);
  } finally {
    for (const x of nodes) if (x) await x.d.stop('SIGKILL');
    for (const ns of nss) await ns.destroy();
    await seg.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
}

/** Our speaker's arguments for node i: its address as router id and listener, AS 64512, its block exported. */
const nodeArgs = (i: number, peers: string[], extra: string[]) => [
  '--router-id',
  addr(i),
  '--as',
  '64512',
  '--listen',
  addr(i),
  ...peers,
  '--export',
  block(i),
  ...extra,
];

/** Kernel of node i has exactly the other nodes' blocks via their owner, none of its own. */
async function meshConverged(nodes: Node[], present: number[]): Promise<boolean> {
  for (const x of nodes) {
    if (!present.includes(x.i)) continue;
    const k = await kernelRoutes(x.ns);
    for (const y of present) {
      if (y === x.i) {
        if (k.has(block(y))) return false;
      } else if (k.get(block(y)) !== addr(y)) return false;
    }
    for (const p of k.keys()) if (!present.some((y) => block(y) === p)) return false;
  }
  return true;
}

describe('cluster', { concurrency: false }, () => {
  test('3-node full mesh; hold timer expiry; graceful restart; kernel drift repair', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip')) return;
    await withCluster(3, 'mesh', async (nss, dir, nodes) => {
      const start = async (i: number, extra: string[] = []) => {
        // Mesh rule: both sides connect (a restarting node's connections collide with its peers').
        const peers = [1, 2, 3].filter((j) => j !== i).flatMap((j) => ['--peer', addr(j)]);
        const args = nodeArgs(i, peers, [
          '--hold-time',
          '3',
          '--connect-retry',
          '1',
          '--reconcile',
          '1',
          '--restart-time',
          '30',
          ...extra,
        ]);
        const { d, ctl } = await startOurs(nss[i - 1]!, dir, `n${i}`, args);
        const node = { ns: nss[i - 1]!, i, d, ctl, args };
        nodes[i - 1] = node;
        return node;
      };
      await start(1);
      await start(2);
      await start(3, ['--no-graceful-restart']);
      for (const x of nodes) await waitEstablished(x.ctl, 2);
      await waitFor('mesh kernel routes', () => meshConverged(nodes, [1, 2, 3]));

      // Kernel route deleted by hand: restored by the read-back.
      await nodes[0]!.ns.exec('ip', ['route', 'del', block(2)]);
      await waitFor(
        'deleted route restored',
        async () => (await kernelRoutes(nodes[0]!.ns)).get(block(2)) === addr(2),
      );

      // Node 3 freezes (no keepalives): hold timer expiry (3 s) removes its routes everywhere.
      nodes[2]!.d.signal('SIGSTOP');
      await waitFor('node 3 routes gone after hold expiry', () => meshConverged(nodes, [1, 2]), 20_000);
      const p1 = await protocols(nodes[0]!.ctl);
      assert.match(p1.find((p) => p.address === addr(3))!.lastError, /Hold Timer Expired/i);
      nodes[2]!.d.signal('SIGKILL');
      await nodes[2]!.d.stop('SIGKILL');

      // Node 2 restarts gracefully: node 1 keeps its routes (stale) while it is away...
      await nodes[1]!.d.stop('SIGTERM');
      await waitFor('node 1 holds node 2 routes as stale', async () => {
        const r = (await routes(nodes[0]!.ctl)).find((x) => x.prefix === block(2));
        return r?.paths[0]?.stale === true;
      });
      assert.equal(
        (await kernelRoutes(nodes[0]!.ns)).get(block(2)),
        addr(2),
        'route stays installed during the restart',
      );
      // ... and node 2 kept its own kernel routes (forwarding state preserved) and restarts with the R bit.
      assert.equal((await kernelRoutes(nodes[1]!.ns)).get(block(1)), addr(1));
      const n2 = await start(2);
      await waitEstablished(n2.ctl, 1);
      await waitFor('stale cleared after End-of-RIB', async () => {
        const r = (await routes(nodes[0]!.ctl)).find((x) => x.prefix === block(2));
        return r?.paths[0]?.stale === false;
      });
      await waitFor('mesh converged again without node 3', async () => {
        const l = await learned(nodes[1]!.ctl);
        return l.get(block(1)) === addr(1) && (await kernelRoutes(nodes[1]!.ns)).get(block(1)) === addr(1);
      });
    });
  });

  test("graceful restart (SIGKILL, SIGTERM): the routes the peers re-send never leave the restarted node's kernel", async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip')) return;
    await withCluster(3, 'gr', async (nss, dir, nodes) => {
      const start = async (i: number) => {
        rmSync(join(dir, `n${i}.ctl`), { force: true }); // wait for the new daemon's socket
        const peers = [1, 2, 3].filter((j) => j !== i).flatMap((j) => ['--peer', addr(j)]);
        const args = nodeArgs(i, peers, ['--connect-retry', '1', '--restart-time', '30']);
        const { d, ctl } = await startOurs(nss[i - 1]!, dir, `n${i}`, args);
        nodes[i - 1] = { ns: nss[i - 1]!, i, d, ctl, args };
      };
      for (const i of [1, 2, 3]) await start(i);
      for (const x of nodes) await waitEstablished(x.ctl, 2);
      await waitFor('mesh kernel routes', () => meshConverged(nodes, [1, 2, 3]));
      // Every change to node 1's routes, as the kernel reports it.
      const monitor = Daemon.spawn(nss[0]!, 'ip', ['-4', 'monitor', 'route'], 'ip monitor');
      try {
        for (const [round, sig] of (['SIGKILL', 'SIGTERM', 'SIGKILL', 'SIGTERM'] as const).entries()) {
          await nodes[0]!.d.stop(sig);
          // A route of ours that nobody announces any more: the sweep after the restart removes it.
          await nss[0]!.exec('ip', [
            'route',
            'replace',
            STRAY,
            'via',
            addr(2),
            'dev',
            'eth0',
            'proto',
            'bird',
            'onlink',
          ]);
          await start(1);
          await waitFor(
            `round ${round + 1} (${sig}): graceful restart finished`,
            () => /graceful restart finished/.test(nodes[0]!.d.logs()),
            40_000,
          );
          await new Promise((r) => setTimeout(r, 1500)); // a swept route would come back within this
          const deleted = monitor
            .logs()
            .split('\n')
            .filter((l) => /^Deleted 10\.244\.[23]\.0\/26/.test(l));
          assert.deepEqual(
            deleted,
            [],
            `round ${round + 1} (${sig}): peers' routes deleted from node 1's kernel`,
          );
          await waitFor(
            `round ${round + 1}: stray route swept`,
            async () => !(await kernelRoutes(nss[0]!)).has(STRAY),
          );
          assert.ok(await meshConverged(nodes, [1, 2, 3]), `round ${round + 1}: mesh converged`);
        }
      } finally {
        await monitor.stop('SIGKILL');
      }
    });
  });

  test("kernel drift repaired from the kernel's route announcements, not the periodic pass: a deleted or replaced route is back at once", async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip')) return;
    await withCluster(2, 'drift', async (nss, dir, nodes) => {
      for (const i of [1, 2]) {
        const peers = ['--peer', addr(3 - i)];
        // The periodic read-back every 60 s: a repair within seconds can only come from the events.
        const args = nodeArgs(i, peers, ['--connect-retry', '1', '--reconcile', '60']);
        const { d, ctl } = await startOurs(nss[i - 1]!, dir, `n${i}`, args);
        nodes[i - 1] = { ns: nss[i - 1]!, i, d, ctl, args };
      }
      for (const x of nodes) await waitEstablished(x.ctl, 1);
      await waitFor('mesh kernel routes', () => meshConverged(nodes, [1, 2]));
      // The kernel's own timestamps of every change to node 1's routes.
      const monitor = Daemon.spawn(nss[0]!, 'ip', ['-ts', '-4', 'monitor', 'route'], 'ip monitor');
      const stamp = (re: RegExp, after = 0): number | undefined => {
        for (const l of monitor.logs().split('\n')) {
          const m = /^\[(\S+)\] (.*)$/.exec(l);
          if (!m || !re.test(m[2]!)) continue;
          const ms = Date.parse(`${m[1]!.slice(0, 23)}Z`) + Number(m[1]!.slice(23, 26)) / 1000;
          if (ms > after) return ms;
        }
        return undefined;
      };
      const ours = new RegExp(`^${block(2).replace(/\./g, '\\.')} via ${addr(2)} dev eth0 proto bird onlink`);
      try {
        await new Promise((r) => setTimeout(r, 300));
        const repair = async (what: string, args: string[], gone: RegExp) => {
          await nss[0]!.exec('ip', args);
          const t0 = await waitFor(`${what}: seen`, () => stamp(gone));
          const t1 = await waitFor(`${what}: repaired`, () => stamp(ours, t0), 5000);
          const ms = t1 - t0;
          t.diagnostic(`${what}: our route back ${ms.toFixed(1)} ms after the change (kernel timestamps)`);
          assert.ok(ms < 2000, `${what}: repaired after ${ms} ms`);
          assert.equal((await kernelRoutes(nss[0]!)).get(block(2)), addr(2));
          return t1;
        };
        await repair(
          'route deleted',
          ['route', 'del', block(2)],
          new RegExp(`^Deleted ${block(2).replace(/\./g, '\\.')}`),
        );
        // Replaced by a route that is not ours (another protocol, another next hop).
        await repair(
          'route replaced',
          ['route', 'replace', block(2), 'via', addr(2), 'dev', 'eth0', 'onlink', 'proto', 'static'],
          new RegExp(`^${block(2).replace(/\./g, '\\.')} .*proto static`),
        );
      } finally {
        await monitor.stop('SIGKILL');
      }
    });
  });

  test("readiness (the chart's probe, GET /readiness): all peers while the node starts, then one Established peer is enough", async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'curl')) return;
    await withCluster(3, 'ready', async (nss, dir, nodes) => {
      const start = async (i: number, extra: string[] = []) => {
        rmSync(join(dir, `n${i}.ctl`), { force: true });
        const peers = [1, 2, 3].filter((j) => j !== i).flatMap((j) => ['--peer', addr(j)]);
        const args = nodeArgs(i, peers, [
          '--connect-retry',
          '1',
          '--hold-time',
          '3',
          '--no-kernel',
          ...extra,
        ]);
        // The DaemonSet's setting: /readiness on 127.0.0.1:9098 (inside each node's namespace).
        process.env.BIRD_HEALTHPORT = '9098';
        try {
          const { d, ctl } = await startOurs(nss[i - 1]!, dir, `n${i}`, args);
          nodes[i - 1] = { ns: nss[i - 1]!, i, d, ctl, args };
        } finally {
          delete process.env.BIRD_HEALTHPORT;
        }
      };
      const readiness = async (i: number) => {
        const url = 'http://127.0.0.1:9098/readiness';
        const r = await nss[i - 1]!.exec('curl', ['-s', '-m', '2', '-w', '\n%{http_code}', url], {
          allowFail: true,
        });
        const lines = r.stdout.trimEnd().split('\n');
        const code = lines.pop();
        return { code, body: lines.join('\n') };
      };
      // Strict for 10 minutes: only a complete mesh ends node 1's start, however loaded the machine.
      await start(1, ['--readiness-strict', '600']);
      await waitFor('node 1 health endpoint', async () => (await readiness(1)).code === '503');
      // Node 2 comes: node 1 has a session, but while it starts it waits for every peer.
      await start(2);
      await waitEstablished(nodes[0]!.ctl, 1);
      const r1 = await readiness(1);
      assert.equal(r1.code, '503', `a starting node with one of two peers: ${r1.body}`);
      assert.match(r1.body, /peer 10\.61\.0\.3 is/);
      await start(3);
      for (const i of [1, 2, 3])
        await waitFor(`node ${i} ready`, async () => (await readiness(i)).code === '200');
      // Node 3 dies: once the hold timer (3 s) took its sessions down, nodes 1 and 2 stay ready.
      await nodes[2]!.d.stop('SIGKILL');
      await waitFor('node 3 down on node 1', async () =>
        (await protocols(nodes[0]!.ctl)).some((p) => p.address === addr(3) && p.state !== 'Established'),
      );
      for (const i of [1, 2]) {
        const r = await readiness(i);
        assert.equal(r.code, '200', `node ${i} with one dead peer: ${r.body}`);
      }
      // Node 2 dies too: node 1 has no Established peer left.
      await nodes[1]!.d.stop('SIGKILL');
      await waitFor(
        'node 1 not ready without any peer',
        async () => (await readiness(1)).code === '503',
        15_000,
      );
      assert.match((await readiness(1)).body, /no peer Established/);
      // Node 2 starts again next to the dead node 3: ready once its strict time (2 s) is over.
      await start(2, ['--readiness-strict', '2']);
      await waitFor(
        'node 2 ready beside a dead node',
        async () => (await readiness(2)).code === '200',
        20_000,
      );
      assert.equal((await readiness(1)).code, '200');
    });
  });

  test('mesh of 10 nodes starting in a burst (highest address first, connect-retry 60 s): every session up within seconds of the last start', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip')) return;
    const n = 10;
    await withCluster(n, 'burst', async (nss, dir, nodes) => {
      // The peers each node's etcd mode would derive (config/etcd.ts), written as a config file.
      const resources = Array.from({ length: n }, (_, k) =>
        validateNode({
          kind: 'Node',
          apiVersion: 'tricolor.dev/v1',
          metadata: { name: `node-${k + 1}` },
          spec: { bgp: { ipv4Address: `${addr(k + 1)}/24` } },
        }),
      );
      const configure = (i: number) => {
        const file = join(dir, `burst${i}.json`);
        writeFileSync(
          file,
          JSON.stringify({
            routerId: addr(i),
            as: 64512,
            listen: addr(i),
            peers: peersFromResources(`node-${i}`, resources, DEFAULT_BGP_CONFIGURATION, []),
            exports: [block(i)],
            kernel: false,
            connectRetry: 60,
          }),
        );
        return file;
      };
      const start = async (i: number) => {
        rmSync(join(dir, `burst${i}.ctl`), { force: true }); // wait for the new daemon's socket
        const { d, ctl } = await startOurs(nss[i - 1]!, dir, `burst${i}`, ['--config', configure(i)]);
        nodes[i - 1] = { ns: nss[i - 1]!, i, d, ctl, args: [] };
      };
      const meshed = async (what: string) => {
        const t0 = performance.now();
        let waiting: string[] = [];
        try {
          await waitFor(
            what,
            async () => {
              waiting = [];
              for (const x of nodes)
                for (const p of await protocols(x.ctl))
                  if (p.state !== 'Established') waiting.push(`${addr(x.i)}→${p.address} ${p.state}`);
              return waiting.length === 0;
            },
            20_000,
          );
        } catch (e) {
          throw new Error(`${(e as Error).message}; not Established: ${waiting.join(', ')}`);
        }
        t.diagnostic(`${what}: ${((performance.now() - t0) / 1000).toFixed(1)} s after the last start`);
      };
      // One after the other, highest address first: every node's first attempts are refused.
      for (let i = n; i >= 1; i--) await start(i);
      await meshed('full mesh, nodes started one by one');
      // All at once: both connections of every pair collide; one survives, no session drops.
      for (const x of nodes) await x.d.stop('SIGKILL');
      await Promise.all(nodes.map((x) => start(x.i)));
      await meshed('full mesh, nodes started together');
      await new Promise((r) => setTimeout(r, 2000));
      for (const x of nodes)
        for (const p of await protocols(x.ctl))
          assert.deepEqual(
            [p.address, p.state, p.establishedTotal],
            [p.address, 'Established', 1],
            `on ${addr(x.i)}`,
          );
    });
  });

  test('4 nodes through a route reflector: reflected routes in every kernel, withdrawals reflected', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip')) return;
    await withCluster(4, 'rr', async (nss, dir, nodes) => {
      const rrPeers = [2, 3, 4].flatMap((j) => ['--peer', `${addr(j)},passive,rr-client`]);
      for (const i of [1, 2, 3, 4]) {
        const peers = i === 1 ? rrPeers : ['--peer', addr(1)];
        const extra = i === 1 ? ['--cluster-id', '244.0.0.1'] : [];
        const args = nodeArgs(i, peers, ['--connect-retry', '1', '--no-graceful-restart', ...extra]);
        const { d, ctl } = await startOurs(nss[i - 1]!, dir, `rr${i}`, args);
        nodes.push({ ns: nss[i - 1]!, i, d, ctl, args });
      }
      await waitEstablished(nodes[0]!.ctl, 3);
      await waitFor('reflected routes in every kernel', () => meshConverged(nodes, [1, 2, 3, 4]));
      // Reflected paths carry ORIGINATOR_ID/CLUSTER_LIST; the RR is not the next hop.
      const l3 = await learned(nodes[2]!.ctl);
      assert.equal(l3.get(block(4)), addr(4));
      // What the reflector shows of it (tricolor-birdc's views): what node 2 announced, what
      // node 2 is sent (the other blocks, next hops unchanged), where a packet to node 4 goes.
      const rr = nodes[0]!.ctl;
      const name2 = `peer_${addr(2).replace(/\./g, '_')}`;
      const from2 = (await query(rr, 'show route', ['protocol', name2])) as RouteRow[];
      assert.deepEqual(
        from2.map((r) => [r.prefix, r.paths[0]!.best]),
        [[block(2), true]],
      );
      const to2 = (await query(rr, 'show route', ['export', name2])) as RouteRow[];
      assert.deepEqual(
        to2.map((r) => [r.prefix, r.paths[0]!.nextHop]),
        [
          [block(1), addr(1)],
          [block(3), addr(3)],
          [block(4), addr(4)],
        ],
      );
      const via = (await query(rr, 'show route', ['for', '10.244.4.9'])) as RouteRow[];
      assert.deepEqual(
        via.map((r) => [r.prefix, r.paths[0]!.from]),
        [[block(4), `peer_${addr(4).replace(/\./g, '_')}`]],
      );
      // Node 4 leaves: its block is withdrawn from 2 and 3 through the reflector.
      await nodes[3]!.d.stop('SIGTERM');
      await waitFor('withdrawal reflected', () => meshConverged(nodes, [1, 2, 3]));
    });
  });

  test('malformed UPDATEs from a raw TCP peer: treat-as-withdraw, then a NOTIFICATION; the daemon lives on', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip')) return;
    const dir = mkdtempSync(join(tmpdir(), 'tb-raw-'));
    const us = await Netns.create('us');
    const them = await Netns.create('raw');
    let ours: Daemon | undefined;
    try {
      await connectVeth(us, '10.62.0.1/24', them, '10.62.0.2/24');
      const o = await startOurs(us, dir, 'us', [
        '--router-id',
        '10.62.0.1',
        '--as',
        '64512',
        '--listen',
        '10.62.0.1',
        '--peer',
        '10.62.0.2,passive',
        '--no-graceful-restart',
        '--no-kernel',
      ]);
      ours = o.d;
      const codec = pathToFileURL(
        join(dirname(fileURLToPath(import.meta.resolve('bgp-parser-ts'))), 'index.js'),
      ).href;
      const script = join(dir, 'raw.mjs');
      writeFileSync(
        script,
        `import { connect } from 'node:net';
import * as bgp from ${JSON.stringify(codec)};
const s = connect({ host: '10.62.0.1', port: 179, localAddress: '10.62.0.2' });
const dec = new bgp.StreamDecoder();
const say = (o) => process.stdout.write(JSON.stringify(o) + '\\n');
const hex = (h) => Buffer.from(h.replace(/\\s/g, ''), 'hex');
const marker = 'ffffffffffffffffffffffffffffffff';
const msg = (type, body) => { const b = hex(body); const len = 19 + b.length; return Buffer.concat([hex(marker), Buffer.from([len >> 8, len & 255, type]), b]); };
s.on('connect', () => s.write(bgp.encodeMessage(bgp.makeOpen({ as: 64512, holdTime: 30, bgpId: bgp.ipv4FromString('10.62.0.2'), capabilities: [{ kind: 'four-octet-as', as: 64512 }] }))));
s.on('data', (c) => { for (const f of dec.push(c)) { const m = bgp.decodeMessage(f); say({ type: m.type, code: m.code, subcode: m.subcode });
  if (m.type === 'OPEN') s.write(bgp.encodeKeepalive()); } });
s.on('close', () => say({ type: 'closed' }));
process.stdin.on('data', (d) => { for (const line of d.toString().trim().split('\\n')) { const [t, body] = line.split(' '); s.write(msg(Number(t), body)); } });
`,
      );
      const raw = spawn('ip', ['netns', 'exec', them.name, process.execPath, script], {
        stdio: ['pipe', 'pipe', 'inherit'],
      });
      const seen: { type: string; code?: number; subcode?: number }[] = [];
      raw.stdout.on('data', (d: Buffer) => {
        for (const l of d.toString().trim().split('\n')) if (l) seen.push(JSON.parse(l));
      });
      try {
        await waitEstablished(o.ctl, 1);
        // A good UPDATE: ORIGIN IGP, AS_PATH empty, NEXT_HOP 10.62.0.2, LOCAL_PREF 100; NLRI 10.90.1.0/24 and 10.90.2.0/24.
        const attrs = '40010100 400200 4003040a3e0002 400504 00000064'.replace(/ /g, '');
        const good = `0000${(attrs.length / 2).toString(16).padStart(4, '0')}${attrs}180a5a01180a5a02`;
        raw.stdin.write(`2 ${good}\n`);
        await waitFor('good routes learned', async () => (await learned(o.ctl)).size === 2);
        // ORIGIN value 7 (malformed, 3/6): treat-as-withdraw for 10.90.1.0/24, session stays up.
        const badAttrs = '40010107 400200 4003040a3e0002'.replace(/ /g, '');
        raw.stdin.write(`2 0000${(badAttrs.length / 2).toString(16).padStart(4, '0')}${badAttrs}180a5a01\n`);
        await waitFor('treat-as-withdraw applied', async () => {
          const l = await learned(o.ctl);
          return !l.has('10.90.1.0/24') && l.has('10.90.2.0/24');
        });
        assert.equal((await protocols(o.ctl))[0]!.state, 'Established');
        assert.ok(!seen.some((m) => m.type === 'NOTIFICATION'));
        // Prefix length 33 in the NLRI: no NLRI can be trusted → NOTIFICATION 3/10 (session reset).
        raw.stdin.write(`2 0000${(attrs.length / 2).toString(16).padStart(4, '0')}${attrs}210a5a0300ff\n`);
        await waitFor('NOTIFICATION 3/10', () =>
          seen.some((m) => m.type === 'NOTIFICATION' && m.code === 3 && m.subcode === 10),
        );
        await waitFor('routes of the reset session removed', async () => (await learned(o.ctl)).size === 0);
        assert.ok(ours.alive, 'daemon still running');
        assert.match((await protocols(o.ctl))[0]!.lastError, /sent .*Invalid Network Field/i);
      } catch (e) {
        process.stderr.write(`${ours.logs().slice(-4000)}\n${JSON.stringify(seen)}\n`);
        throw e;
      } finally {
        raw.kill('SIGKILL');
      }
    } finally {
      await ours?.stop();
      await us.destroy();
      await them.destroy();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
