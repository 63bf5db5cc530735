// `tricolorctl node status` against real bird daemons: two tricolor-bird speakers peer over
// loopback (no root, no kernel routes); ctl reads one's control socket as an operator would.
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { freePort, run, waitFor } from '@tricolor/testkit';
import { MAIN } from './helpers.js';

const BIRD = fileURLToPath(new URL('./cli/bird.js', import.meta.resolve('@tricolor/bird')));

let dir: string;
const daemons: { child: ChildProcess; log: string[] }[] = [];

function startBird(args: string[]) {
  const child = spawn(process.execPath, [BIRD, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const d = { child, log: [] as string[] };
  child.stdout?.on('data', (b: Buffer) => d.log.push(b.toString()));
  child.stderr?.on('data', (b: Buffer) => d.log.push(b.toString()));
  daemons.push(d);
  return d;
}

const nodeStatus = (args: string[], env: NodeJS.ProcessEnv = {}) =>
  run(process.execPath, [MAIN, 'node', 'status', ...args], {
    allowFail: true,
    // No etcd anywhere: node status must not need it.
    env: { ...process.env, ETCD_ENDPOINTS: 'http://127.0.0.1:9', ...env },
  });

before(async () => {
  dir = mkdtempSync(join(tmpdir(), 'ctl-node-status-'));
  const [pa, pb] = [await freePort('127.0.0.1'), await freePort('127.0.0.2')];
  const common = ['--as', '64512', '--no-kernel', '--hold-time', '9', '--keepalive', '3'];
  startBird([
    '--router-id',
    '10.0.0.1',
    '--listen',
    `127.0.0.1:${pa}`,
    '--control',
    join(dir, 'a.ctl'),
    '--peer',
    `127.0.0.2,port=${pb},name=Mesh_127_0_0_2`,
    '--export',
    '10.244.1.0/26',
    ...common,
  ]);
  startBird([
    '--router-id',
    '10.0.0.2',
    '--listen',
    `127.0.0.2:${pb}`,
    '--control',
    join(dir, 'b.ctl'),
    '--peer',
    `127.0.0.1,port=${pa},passive,name=Node_127_0_0_1`,
    '--export',
    '10.244.2.0/26',
    ...common,
  ]);
  // Established on both sides and each side's block sent: what the assertions read. (Over
  // loopback the receiver treats the routes as withdrawn — a 127/8 next hop is no host
  // address, RFC 7606 — so what is received is not waited for.)
  const settled = async (sock: string) => {
    const r = await nodeStatus(['--control', join(dir, sock), '-o', 'json']);
    if (r.code !== 0) return false;
    const peers = (JSON.parse(r.stdout) as { peers: { state: string; prefixesSent: number }[] }).peers;
    return peers.length === 1 && peers[0]!.state === 'Established' && peers[0]!.prefixesSent === 1;
  };
  await waitFor(
    'the two speakers to establish and exchange their blocks',
    async () => (await settled('a.ctl')) && (await settled('b.ctl')),
    30_000,
    300,
  ).catch((e: Error) => {
    throw new Error(`${e.message}\n${daemons.map((d) => d.log.join('').slice(-2000)).join('\n---\n')}`);
  });
});

after(async () => {
  for (const d of daemons) d.child.kill('SIGTERM');
  await Promise.all(
    daemons.map((d) => (d.child.exitCode === null ? new Promise((r) => d.child.once('exit', r)) : undefined)),
  );
  rmSync(dir, { recursive: true, force: true });
});

test("node status: this node's BGP sessions as calicoctl prints them, and where they come from", async () => {
  const a = await nodeStatus(['--control', join(dir, 'a.ctl')]);
  assert.equal(a.code, 0, a.stderr);
  const lines = a.stdout.split('\n');
  assert.match(lines[0]!, /^Tricolor bird is running: router id 10\.0\.0\.1, AS 64512, up \d+s$/);
  assert.equal(lines[1], `(read from bird's control socket ${join(dir, 'a.ctl')})`);
  assert.equal(lines[3], 'IPv4 BGP status');
  assert.match(lines[4]!, /^PEER ADDRESS\s+PEER TYPE\s+STATE\s+SINCE\s+INFO$/);
  assert.match(
    lines[5]!,
    /^127\.0\.0\.2\s+node-to-node mesh\s+up\s+\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \(\d+[smh]\S*\)\s+Established$/,
  );
  assert.deepEqual(lines.slice(7, 9), ['IPv6 BGP status', 'No IPv6 peers found.']);

  // BIRD_CONTROL names the socket (as for tricolor-birdc); the other side sees a node-specific peer.
  const b = await nodeStatus(['-o', 'wide'], { BIRD_CONTROL: join(dir, 'b.ctl') });
  assert.equal(b.code, 0, b.stderr);
  assert.match(b.stdout, /router id 10\.0\.0\.2/);
  assert.match(b.stdout, /IMPORTED\s+EXPORTED\s+UPDATES IN\/OUT/);
  assert.match(
    b.stdout,
    /127\.0\.0\.1\s+node specific\s+up\s.*Established\s+Node_127_0_0_1\s+64512\s+10\.0\.0\.1\s+9\s+\d+\s+1\s+\d+\/\d+\n/,
  );

  const j = await nodeStatus(['--control', join(dir, 'a.ctl'), '-o', 'json']);
  const data = JSON.parse(j.stdout) as {
    source: string;
    status: { routerId: string };
    peers: { address: string; state: string; prefixesSent: number }[];
  };
  assert.equal(data.source, join(dir, 'a.ctl'));
  assert.equal(data.status.routerId, '10.0.0.1');
  assert.deepEqual(
    data.peers.map((p) => [p.address, p.state, p.prefixesSent]),
    [['127.0.0.2', 'Established', 1]],
  );
  const y = await nodeStatus(['-s', join(dir, 'a.ctl'), '-o', 'yaml']);
  assert.match(y.stdout, /^source: /);
});

test('node status without a bird says where it looked and what to do (exit 1)', async () => {
  const r = await nodeStatus(['--control', join(dir, 'nobody.ctl')]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /node status: cannot reach the daemon at .*nobody\.ctl: connect ENOENT .* — is bird running on this node\? --control PATH or BIRD_CONTROL names its socket/,
  );
  const extra = await nodeStatus(['--control', join(dir, 'a.ctl'), 'extra']);
  assert.equal(extra.code, 1);
  assert.match(extra.stderr, /node status: unexpected argument extra/);
});
