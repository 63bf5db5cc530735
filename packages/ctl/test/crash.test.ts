import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { configFromEnv, Datastore } from '@tricolor/datastore';
import { type HookPoint, Ipam } from '@tricolor/ipam';
import { EtcdServer } from '@tricolor/testkit';
import { ctl, uniquePrefix } from './helpers.js';

let etcd: EtcdServer;
before(async () => {
  etcd = await EtcdServer.start();
});
after(async () => {
  await etcd.destroy();
});

const WORKER = fileURLToPath(new URL('./fixtures/crash-worker.js', import.meta.url));
const POINTS: HookPoint[] = [
  'claim:block-chosen',
  'claim:confirmed',
  'assign:block-written',
  'release:block-written',
  'release:block-written',
  'assign:block-written',
];

/** Runs a worker; kills it after `killAfterMs` unless it kills itself first. Resolves with its output and signal. */
function worker(args: object, killAfterMs?: number): Promise<{ out: string; signal: string | null }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [WORKER, JSON.stringify(args)], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    child.stdout.on('data', (c: Buffer) => {
      out += c.toString();
    });
    const timer =
      killAfterMs === undefined ? undefined : setTimeout(() => child.kill('SIGKILL'), killAfterMs);
    child.on('close', (_code, signal) => {
      clearTimeout(timer);
      resolve({ out, signal });
    });
  });
}

test('processes SIGKILLed at random points leave no duplicate; `ipam check --repair` restores consistency', async (t) => {
  const prefix = uniquePrefix();
  const ds = Datastore.connect(configFromEnv({}, { endpoints: [etcd.endpoint], prefix }));
  const ipam = new Ipam(ds);
  try {
    // Small /28 blocks: a claim every 16 addresses, so kills often land inside a claim.
    const setup = await ctl(
      etcd.endpoint,
      prefix,
      ['apply', '-f', '-'],
      [
        '{"kind":"IPPool","metadata":{"name":"p"},"spec":{"cidr":"10.50.0.0/16","blockSize":28}}',
        ...['c0', 'c1', 'c2'].map((n) => `{"kind":"Node","metadata":{"name":"${n}"},"spec":{}}`),
      ].join('\n---\n'),
    );
    assert.equal(setup.code, 0, setup.stderr);
    const allocated = new Map<string, string>(); // handle → ip
    const released = new Set<string>(); // handles whose release started
    const random = (() => {
      let s = 12345;
      return () => {
        s = (s * 1103515245 + 12345) % 2 ** 31;
        return s / 2 ** 31;
      };
    })();
    let killed = 0;
    for (let round = 0; round < 4; round++) {
      const runs = Array.from({ length: 6 }, (_, w) => {
        const node = `c${w % 3}`;
        const base = { endpoint: etcd.endpoint, prefix, node, handlePrefix: `r${round}-w${w}` };
        return w % 2 === 0
          ? worker(base, 300 + Math.floor(random() * 900))
          : worker({
              ...base,
              crashAt: POINTS[(round + w) % POINTS.length],
              crashAfter: 1 + Math.floor(random() * 12),
            });
      });
      for (const r of await Promise.all(runs)) {
        if (r.signal === 'SIGKILL') killed++;
        for (const line of r.out.split('\n')) {
          const [op, handle, ip] = line.split(' ');
          if (op === 'A') allocated.set(handle!, ip!);
          else if (op === 'r') released.add(handle!);
        }
      }
    }
    assert.ok(killed >= 18, `${killed} of 24 workers were killed mid-way`);

    // No duplicate: every address a worker got and never started to release is still
    // allocated to that handle, and no two such handles share one.
    const kept = [...allocated].filter(([h]) => !released.has(h));
    assert.ok(kept.length > 100, `${kept.length} surviving allocations`);
    assert.equal(new Set(kept.map(([, ip]) => ip)).size, kept.length, 'an address was handed out twice');
    for (const [h, ip] of kept) assert.deepEqual(await ipam.ipsByHandle(h), [ip], `handle ${h}`);

    const before = await ctl(etcd.endpoint, prefix, ['ipam', 'check', '--leak-grace', '0', '-o', 'json']);
    const dirty = JSON.parse(before.stdout) as { ok: boolean; problems: { kind: string }[] };
    assert.equal(before.code, dirty.ok ? 0 : 6);
    assert.ok(!dirty.ok, 'crashes between writes left something to repair');
    const kinds = new Set(dirty.problems.map((p) => p.kind));
    for (const k of kinds)
      assert.ok(['orphan-handle', 'handle-mismatch', 'pending-affinity'].includes(k), `unexpected ${k}`);

    const counts: Record<string, number> = {};
    for (const p of dirty.problems) counts[p.kind] = (counts[p.kind] ?? 0) + 1;
    t.diagnostic(
      `killed ${killed}/24 workers; ${kept.length} surviving allocations; before repair: ${JSON.stringify(counts)}`,
    );
    const repair = await ctl(etcd.endpoint, prefix, [
      'ipam',
      'check',
      '--leak-grace',
      '0',
      '--repair',
      '-o',
      'json',
    ]);
    assert.equal(repair.code, 0, repair.stdout + repair.stderr);
    const res = JSON.parse(repair.stdout) as { ok: boolean; actions: string[]; failures: string[] };
    assert.equal(res.ok, true);
    assert.deepEqual(res.failures, []);
    assert.ok(res.actions.length >= dirty.problems.length);
    const after = await ctl(etcd.endpoint, prefix, ['ipam', 'check', '--leak-grace', '0', '-o', 'json']);
    assert.equal(after.code, 0, after.stdout);
    assert.equal(JSON.parse(after.stdout).ok, true);
    for (const [h, ip] of kept) assert.deepEqual(await ipam.ipsByHandle(h), [ip], `repair kept ${h}`);

    // Allocation works afterwards and never collides with a surviving address.
    const keptIps = new Set(kept.map(([, ip]) => ip));
    for (let i = 0; i < 30; i++) {
      const a = await ctl(etcd.endpoint, prefix, [
        'ipam',
        'assign',
        '--node',
        `c${i % 3}`,
        '--handle',
        `after-${i}`,
        '-o',
        'json',
      ]);
      assert.equal(a.code, 0, a.stderr);
      const [ip] = JSON.parse(a.stdout).ips as string[];
      assert.ok(!keptIps.has(ip!), `${ip} handed out twice`);
      keptIps.add(ip!);
    }
    const final = await ctl(etcd.endpoint, prefix, ['ipam', 'check', '--leak-grace', '0']);
    assert.equal(final.code, 0, final.stdout);
  } finally {
    ds.close();
  }
});
