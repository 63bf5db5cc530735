import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Netns, requireRoot } from '@tricolor/testkit';
import fc from 'fast-check';
import {
  BatchError,
  BatchSession,
  CommandError,
  ip,
  ipBatch,
  ipJson,
  jsonArraySplitter,
  lineSplitter,
  normalizeRoute,
  readRoutes,
  run,
  Spawner,
} from '../src/index.js';

test('run: stdout, stdin, exit codes; a failure names the command and carries its stderr', async () => {
  const { pid, ...cat } = await run('cat', [], { input: 'a\nb\n' });
  assert.deepEqual(cat, { stdout: 'a\nb\n', stderr: '', code: 0 });
  assert.ok(pid && pid !== process.pid, 'the command process id');
  const failed = await run('sh', ['-c', 'echo oops >&2; exit 3'], { allowFail: true });
  assert.deepEqual({ ...failed, pid: undefined }, { stdout: '', stderr: 'oops\n', code: 3, pid: undefined });
  await assert.rejects(run('sh', ['-c', 'echo nope >&2; exit 2']), (e: unknown) => {
    assert.ok(e instanceof CommandError);
    assert.equal(e.code, 2);
    assert.equal(e.stderr, 'nope\n');
    assert.match(e.message, /^sh -c .* exited 2: nope$/);
    return true;
  });
  const missing = await run('no-such-command-here', [], { allowFail: true });
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /ENOENT/);
  // A command that exits before reading its input: its status is reported, not EPIPE.
  const early = await run('true', [], { input: 'x'.repeat(1 << 20), allowFail: true });
  assert.equal(early.code, 0);
  // Streamed stdout arrives in pieces and is not kept.
  const pieces: string[] = [];
  const streamed = await run('seq', ['1', '20000'], { onStdout: (c) => pieces.push(c) });
  assert.equal(streamed.stdout, '');
  assert.equal(pieces.join('').split('\n').length, 20001);
});

test('line and JSON-array splitters give the same elements however the text is cut', () => {
  const items = fc.array(
    fc.record({
      dst: fc.string(),
      n: fc.integer(),
      flags: fc.array(fc.constantFrom('onlink', 'pervasive', '"{[]}\\')),
      nested: fc.option(fc.record({ a: fc.array(fc.string(), { maxLength: 3 }) }), { nil: undefined }),
    }),
    { maxLength: 8 },
  );
  fc.assert(
    fc.property(items, fc.array(fc.nat(), { maxLength: 10 }), (list, cuts) => {
      const text = `${JSON.stringify(list)}\n`;
      const at = [...new Set(cuts.map((c) => c % (text.length + 1)))].sort((a, b) => a - b);
      const chunks: string[] = [];
      let prev = 0;
      for (const c of [...at, text.length]) {
        chunks.push(text.slice(prev, c));
        prev = c;
      }
      const got: unknown[] = [];
      const s = jsonArraySplitter((t) => got.push(JSON.parse(t)));
      for (const c of chunks) s.push(c);
      s.end();
      assert.deepEqual(got, JSON.parse(text));
      const lines: string[] = [];
      const l = lineSplitter((x) => lines.push(x));
      for (const c of chunks) l.push(c);
      l.end();
      assert.deepEqual(lines, text.split('\n').slice(0, -1));
    }),
    { numRuns: 300 },
  );
  assert.throws(() => {
    const s = jsonArraySplitter(() => undefined);
    s.push('[{"a":1},{"b"');
    s.end();
  }, /truncated/);
});

test('ip -json route output is normalized: prefix lengths, default, multipath, onlink', () => {
  assert.deepEqual(normalizeRoute({ dst: '10.0.0.5', dev: 'cali1', scope: 'link', protocol: '80' }, 4), {
    family: 4,
    dst: '10.0.0.5/32',
    type: 'unicast',
    dev: 'cali1',
    scope: 'link',
    protocol: '80',
  });
  assert.deepEqual(normalizeRoute({ type: 'blackhole', dst: '10.0.1.0/26', protocol: '80' }, 4), {
    family: 4,
    dst: '10.0.1.0/26',
    type: 'blackhole',
    protocol: '80',
  });
  assert.equal(normalizeRoute({ dst: 'default', gateway: 'fe80::1', dev: 'eth0' }, 6).dst, '::/0');
  assert.deepEqual(
    normalizeRoute(
      {
        dst: '10.9.0.0/24',
        protocol: 'bird',
        nexthops: [
          { gateway: '192.168.1.2', dev: 'eth0', flags: ['onlink'] },
          { gateway: '192.168.1.3', dev: 'eth0' },
        ],
      },
      4,
    ).nexthops,
    [
      { via: '192.168.1.2', dev: 'eth0', onlink: true },
      { via: '192.168.1.3', dev: 'eth0' },
    ],
  );
});

test('ip -batch writes and route reads, inside a namespace (nsenter)', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await Netns.create('linux');
  const netns = `/var/run/netns/${ns.name}`;
  try {
    await ipBatch(
      [
        'link add veth-a type veth peer name veth-b',
        'link set veth-a up',
        'addr add 192.0.2.1/24 dev veth-a',
        'route add blackhole 10.50.0.0/26 proto 80',
        'route add 10.60.0.0/24 via 192.0.2.9 dev veth-a onlink proto 12',
        'route add blackhole fd00:50::/64 proto 80',
      ],
      { netns },
    );
    const all = await readRoutes({ netns });
    assert.ok(all.some((r) => r.dst === '10.50.0.0/26' && r.type === 'blackhole' && r.protocol === '80'));
    assert.ok(all.some((r) => r.family === 6 && r.dst === 'fd00:50::/64'));
    const bird = await readRoutes({ netns, family: 4, proto: 'bird' });
    assert.deepEqual(bird, [
      {
        family: 4,
        dst: '10.60.0.0/24',
        type: 'unicast',
        dev: 'veth-a',
        via: '192.0.2.9',
        onlink: true,
        protocol: 'bird',
      },
    ]);
    assert.equal(
      (await ipJson<{ ifname: string }>(['link', 'show', 'veth-a'], { netns }))[0]?.ifname,
      'veth-a',
    );
    // -force: the good lines are applied, the failure is reported with ip's message.
    await assert.rejects(
      ipBatch(
        ['route add blackhole 10.70.0.0/26', 'route del 10.99.0.0/24', 'route add blackhole 10.71.0.0/26'],
        {
          netns,
          force: true,
        },
      ),
      (e: unknown) => e instanceof CommandError && /No such process/.test(e.stderr),
    );
    const after = await ip(['route', 'show', 'type', 'blackhole'], { netns });
    assert.match(after, /10\.70\.0\.0\/26/);
    assert.match(after, /10\.71\.0\.0\/26/);
  } finally {
    await ns.destroy();
  }
});

test('a batch session: one ip process for many batches, failures named by line, a fresh process after one', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await Netns.create('sess');
  const netns = `/var/run/netns/${ns.name}`;
  const s = new BatchSession('ip', netns);
  try {
    await s.run(['link add veth-s type veth peer name veth-t', 'route add blackhole 10.80.0.0/26']);
    // Batches given at once run in order, each told apart.
    const [a, b] = await Promise.allSettled([
      s.run(['route add blackhole 10.80.1.0/26']),
      s.run([
        'route add blackhole 10.80.2.0/26',
        'route del 10.99.0.0/24',
        'route add blackhole 10.80.3.0/26',
      ]),
    ]);
    assert.equal(a.status, 'fulfilled');
    assert.equal(b.status, 'rejected');
    const err = (b as PromiseRejectedResult).reason as BatchError;
    assert.ok(err instanceof BatchError);
    assert.deepEqual(err.failures, ['line 2: RTNETLINK answers: No such process']);
    const routes = await ip(['route', 'show', 'type', 'blackhole'], { netns });
    for (const p of ['10.80.0.0', '10.80.1.0', '10.80.2.0', '10.80.3.0']) assert.match(routes, new RegExp(p));
    // After the failure the next batch runs in a fresh process, and works.
    await s.run(['neigh replace 10.80.9.9 lladdr ee:ee:ee:00:00:09 dev veth-s nud permanent']);
    assert.match(
      await ip(['neigh', 'show', 'dev', 'veth-s'], { netns }),
      /10\.80\.9\.9 lladdr ee:ee:ee:00:00:09 PERMANENT/,
    );
    const br = new BatchSession('bridge', netns);
    await assert.rejects(br.run(['fdb del 00:11:22:33:44:55 dev lo']), BatchError);
    br.close();
  } finally {
    s.close();
    await ns.destroy();
  }
});

test('a Spawner runs commands in its helper process with the same contract as run()', async () => {
  const sp = new Spawner();
  try {
    const { pid, ...cat } = await sp.run('cat', [], { input: 'x\ny\n' });
    assert.deepEqual(cat, { stdout: 'x\ny\n', stderr: '', code: 0 });
    // The command's own process (felix tells its iptables commits apart by it), not the helper's.
    assert.ok(pid && pid !== process.pid, 'the command process id');
    await assert.rejects(sp.run('sh', ['-c', 'echo no >&2; exit 4']), (e: unknown) => {
      assert.ok(e instanceof CommandError);
      assert.equal(e.code, 4);
      assert.equal(e.stderr, 'no\n');
      return true;
    });
    assert.equal((await sp.run('no-such-command-here', [], { allowFail: true })).code, 127);
    // Streamed, and several at once.
    const pieces: string[] = [];
    const [streamed, other] = await Promise.all([
      sp.run('seq', ['1', '20000'], { onStdout: (c) => pieces.push(c) }),
      sp.run('echo', ['hello']),
    ]);
    assert.equal(streamed.stdout, '');
    assert.equal(pieces.join('').split('\n').length, 20001);
    assert.equal(other.stdout, 'hello\n');
  } finally {
    sp.close();
  }
});

test('a Spawner below its helperAboveRss runs commands from this process; niceness is applied either way', async () => {
  // The parent of the command tells where it was started from.
  const parentAndNice = ['-c', 'sleep 0.2; echo "$PPID $(cut -d" " -f19 /proc/$$/stat)"'];
  const inProcess = new Spawner({ helperAboveRss: Number.MAX_SAFE_INTEGER });
  const helper = new Spawner();
  try {
    await inProcess.ready();
    const [ppid, nice] = (await inProcess.run('sh', parentAndNice, { nice: 7 })).stdout.trim().split(' ');
    assert.equal(Number(ppid), process.pid, 'started by this process');
    assert.equal(Number(nice), 7, 'niced');
    const [hppid, hnice] = (await helper.run('sh', parentAndNice, { nice: 5 })).stdout.trim().split(' ');
    assert.notEqual(Number(hppid), process.pid, 'started by the helper');
    assert.equal(Number(hnice), 5, 'niced by the helper');
    assert.equal(
      (await helper.run('sh', ['-c', 'cut -d" " -f19 /proc/$$/stat'])).stdout.trim(),
      '0',
      'not niced unless asked',
    );
  } finally {
    inProcess.close();
    helper.close();
  }
});

test('a batch session hands over to a fresh ip process every 32,768 lines, keeping the lines in order', async (t) => {
  if (!requireRoot(t)) return;
  const ns = await Netns.create('handover');
  const netns = `/var/run/netns/${ns.name}`;
  const s = new BatchSession('ip', netns);
  const ipsIn = async () =>
    Number(
      (
        await run('pgrep', ['-c', '-f', `net=${netns} ip -force -batch`], { allowFail: true })
      ).stdout.trim() || 0,
    );
  try {
    const route = (i: number) => `10.${90 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}/32`;
    // 5 batches of 10,000 given at once: every route added, then the first 20,000 deleted
    // again by the last two batches, which land in the next process.
    const add = (from: number) =>
      Array.from({ length: 10_000 }, (_, k) => `route add blackhole ${route(from + k)}`);
    const del = (from: number) =>
      Array.from({ length: 10_000 }, (_, k) => `route del blackhole ${route(from + k)}`);
    await Promise.all([
      s.run(add(0)),
      s.run(add(10_000)),
      s.run(add(20_000)),
      s.run(add(30_000)),
      s.run(del(0)),
      s.run(del(10_000)),
    ]);
    const left = (await ip(['route', 'show', 'type', 'blackhole'], { netns })).trim().split('\n');
    assert.equal(left.length, 20_000, 'the deletions ran after the additions');
    assert.ok(
      left.every((l) => l.startsWith('blackhole 10.90.')) &&
        !left.some((l) => l === `blackhole ${route(5).replace('/32', '')}`),
    );
    assert.ok((await ipsIn()) <= 1, 'the first process has exited');
  } finally {
    s.close();
    await ns.destroy();
  }
});
