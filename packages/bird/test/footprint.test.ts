/**
 * A standalone speaker (a route reflector configured from a file) uses no etcd and no HTTP,
 * so it must not load node:https, TLS or crypto: on a 500-client reflector they were
 * several MiB of its resident memory (README, "Route reflector with 500 clients"). They came
 * in through pure helpers of @tricolor/datastore, whose module once required node:https at
 * load. The real daemon runs with a preload that records Node.js's own modules at exit.
 */
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { waitFor } from '@tricolor/testkit';
import { query } from '../src/control/client.js';
import { BIRD_JS, offlineSpeakerArgs } from './helpers.js';

const dir = mkdtempSync(join(tmpdir(), 'tb-footprint-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('a standalone speaker loads neither node:https, TLS nor crypto', async () => {
  const preload = join(dir, 'record.mjs');
  const out = join(dir, 'modules.txt');
  const ctl = join(dir, 'bird.ctl');
  writeFileSync(
    preload,
    "import { writeFileSync } from 'node:fs';\n" +
      "process.on('exit', () => writeFileSync(process.env.RECORD_MODULES_TO, process.moduleLoadList.join('\\n')));\n",
  );
  const child = spawn(
    process.execPath,
    [
      '--import',
      pathToFileURL(preload).href,
      BIRD_JS,
      ...offlineSpeakerArgs(ctl, '10.66.0.2,passive,rr-client'),
    ],
    { stdio: 'ignore', env: { ...process.env, RECORD_MODULES_TO: out } },
  );
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  try {
    await waitFor(
      'control socket',
      async () => (await query(ctl, 'show status').catch(() => undefined)) !== undefined,
    );
  } finally {
    child.kill('SIGTERM');
  }
  assert.equal(await exited, 0, 'the speaker stops cleanly on SIGTERM');
  const loaded = readFileSync(out, 'utf8').split('\n');
  assert.ok(loaded.includes('NativeModule net'), 'the record holds the modules the speaker uses');
  for (const m of ['https', 'tls', 'crypto', 'http2'])
    assert.ok(!loaded.includes(`NativeModule ${m}`), `node:${m} was loaded`);
});
