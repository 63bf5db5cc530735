import assert from 'node:assert/strict';
import { test } from 'node:test';
import pino from 'pino';
import { writeUntilDone } from '../src/node-status.js';

/** A logger that keeps what it was given. */
function recordingLog() {
  const lines: Record<string, unknown>[] = [];
  const log = pino(
    { level: 'warn' },
    { write: (s: string) => lines.push(JSON.parse(s) as Record<string, unknown>) },
  );
  return { log, lines };
}

test('a start-up write that fails (etcd timing out) is retried until it lands, each failure logged', async () => {
  const { log, lines } = recordingLog();
  let calls = 0;
  const got = await writeUntilDone(
    'the node address',
    async () => {
      calls++;
      if (calls < 3) throw new Error('14 UNAVAILABLE: etcdserver: request timed out');
      return 'written';
    },
    { log, initialDelayMs: 1 },
  );
  assert.equal(got, 'written');
  assert.equal(calls, 3);
  assert.equal(lines.length, 2);
  assert.equal(lines[0]!.msg, 'cannot write the node address; retrying');
  assert.match(String(lines[0]!.err), /request timed out/);
});

test('stopping felix ends the retries', async () => {
  const { log } = recordingLog();
  const stop = new AbortController();
  let calls = 0;
  const writing = writeUntilDone(
    'the node address',
    async () => {
      calls++;
      if (calls === 2) stop.abort();
      throw new Error('etcd away');
    },
    { log, initialDelayMs: 1, signal: stop.signal },
  );
  await assert.rejects(writing);
  const after = calls;
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(calls, after, 'no write after the stop');
});
