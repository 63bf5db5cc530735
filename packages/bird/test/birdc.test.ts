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
import { BIRD_JS, BIRDC_JS } from './helpers.js';

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
      [
        BIRD_JS,
        '--router-id',
        '10.66.0.1',
        '--no-listen',
        '--no-kernel',
        '--control',
        ctl,
        '--peer',
        '10.66.0.2,passive,name=upstream',
        ...exports,
      ],
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
});
