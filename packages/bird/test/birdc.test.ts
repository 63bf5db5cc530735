/**
 * tricolor-birdc against a running speaker (no namespace needed: no BGP listener, no
 * kernel), through a pipe the way operators run it (`tricolor-birdc ... | jq`).
 */
import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { waitFor } from '@tricolor/testkit';
import { parse as parseYaml } from 'yaml';
import { BIRD_JS, BIRDC_JS, offlineSpeakerArgs } from './helpers.js';

/** Runs birdc with its stdout on a pipe that is read slowly (a consumer like `less` or `jq`). */
function birdc(args: string[], slowMs = 0): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIRDC_JS, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    if (slowMs) {
      child.stdout.pause();
      setTimeout(() => child.stdout.resume(), slowMs);
    }
    child.stdout.on('data', (d: Buffer) => out.push(d));
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.on('error', reject);
    child.on('close', (code) =>
      resolve({ code: code ?? 1, stdout: Buffer.concat(out).toString(), stderr: err }),
    );
  });
}

describe('tricolor-birdc', () => {
  const dir = mkdtempSync(join(tmpdir(), 'tb-birdc-'));
  const ctl = join(dir, 'bird.ctl');
  let daemon: ChildProcess | undefined;
  const exports: string[] = [];
  for (let i = 0; i < 3000; i++) exports.push('--export', `10.${100 + (i >> 8)}.${i & 255}.0/24`);

  before(async () => {
    daemon = spawn(
      process.execPath,
      [BIRD_JS, ...offlineSpeakerArgs(ctl, '10.66.0.2,passive,name=upstream'), ...exports],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    );
    await waitFor(
      'control socket',
      async () => (await birdc(['--control', ctl, 'show', 'status'])).code === 0,
    );
  });
  after(async () => {
    daemon?.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  test('large output through a slow pipe arrives whole', async () => {
    const r = await birdc(['--control', ctl, 'show', 'route', '-o', 'json'], 500);
    assert.equal(r.code, 0, r.stderr);
    assert.ok(r.stdout.length > 65536, `only ${r.stdout.length} bytes`);
    const routes = JSON.parse(r.stdout) as unknown[];
    assert.equal(routes.length, 3000);
  });

  test('a reader that goes away early (| head) ends the output quietly', async () => {
    const child = spawn(process.execPath, [BIRDC_JS, '-s', ctl, 'show', 'route'], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let err = '';
    child.stderr.on('data', (d: Buffer) => {
      err += d.toString();
    });
    child.stdout.once('data', () => child.stdout.destroy());
    const code = await new Promise<number | null>((r) => child.on('close', r));
    assert.equal(code, 0, err);
    assert.equal(err, '');
  });

  test('show protocols all: timers, capabilities, counters, last error, as text, JSON and YAML', async () => {
    const json = await birdc(['-s', ctl, '-o', 'json', 'show', 'protocols', 'all', 'upstream']);
    assert.equal(json.code, 0, json.stderr);
    const [p] = JSON.parse(json.stdout) as {
      name: string;
      state: string;
      timers: { configuredHoldTime: number; connectRetry: number };
      capabilities: { local: string[]; neighbor: string[] };
      messages: { received: Record<string, number>; sent: Record<string, number> };
      lastError: string;
    }[];
    assert.equal(p!.name, 'upstream');
    assert.equal(p!.state, 'Active');
    assert.equal(p!.timers.configuredHoldTime, 90);
    assert.ok(p!.capabilities.local.includes('Route refresh'), p!.capabilities.local.join('; '));
    assert.ok(p!.capabilities.local.includes('4-octet AS numbers'));
    assert.ok(p!.capabilities.local.some((c) => c.startsWith('Graceful restart')));
    assert.deepEqual(p!.capabilities.neighbor, []);
    assert.deepEqual(Object.keys(p!.messages.received), [
      'open',
      'update',
      'notification',
      'keepalive',
      'refresh',
    ]);
    const yaml = await birdc(['-s', ctl, 'show', 'protocols', 'all', '-o', 'yaml']);
    assert.equal(parseYaml(yaml.stdout)[0].name, 'upstream');
    const text = await birdc(['-s', ctl, 'show', 'protocols', 'all', 'upstream']);
    for (const want of [
      'BGP state:',
      'Neighbor address:',
      'Hold timer:',
      'Local capabilities',
      'Neighbor capabilities',
      'Messages',
    ])
      assert.ok(text.stdout.includes(want), `${want} in\n${text.stdout}`);
  });

  test('show route for ADDR (longest match), count, protocol and export of a peer; -o yaml everywhere', async () => {
    const hit = JSON.parse(
      (await birdc(['-s', ctl, 'show', 'route', 'for', '10.101.5.77', '-o', 'json'])).stdout,
    );
    assert.deepEqual(
      hit.map((r: { prefix: string }) => r.prefix),
      ['10.101.5.0/24'],
    );
    const miss = await birdc(['-s', ctl, 'show', 'route', 'for', '192.0.2.1']);
    assert.equal(miss.code, 0);
    assert.equal(miss.stdout, '');
    const count = parseYaml((await birdc(['-s', ctl, 'show', 'route', 'count', '-o', 'yaml'])).stdout);
    assert.equal(count.networks, 3000);
    assert.equal(count.routes, 3000);
    assert.match(
      (await birdc(['-s', ctl, 'show', 'route', 'count'])).stdout,
      /^3000 routes for 3000 networks/,
    );
    assert.deepEqual(
      JSON.parse((await birdc(['-s', ctl, '-o', 'json', 'show', 'route', 'protocol', 'upstream'])).stdout),
      [],
    );
    assert.deepEqual(
      JSON.parse((await birdc(['-s', ctl, '-o', 'json', 'show', 'route', 'export', 'upstream'])).stdout),
      [],
    );
    const st = parseYaml((await birdc(['-s', ctl, 'show', 'status', '-o', 'yaml'])).stdout);
    assert.equal(st.routerId, '10.66.0.1');
  });

  test('bad commands and names get a clear error', async () => {
    const unknown = await birdc(['-s', ctl, 'show', 'bogus']);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "show bogus"/);
    const noPeer = await birdc(['-s', ctl, 'show', 'route', 'export', 'nope']);
    assert.equal(noPeer.code, 1);
    assert.match(noPeer.stderr, /no protocol "nope"/);
    const badAddr = await birdc(['-s', ctl, 'show', 'route', 'for', 'x.y']);
    assert.match(badAddr.stderr, /is not an address/);
    const badOut = await birdc(['-s', ctl, '-o', 'xml', 'show', 'status']);
    assert.equal(badOut.code, 2);
    assert.match(badOut.stderr, /-o: "xml" is not one of table, json, yaml/);
  });
});
