import assert from 'node:assert/strict';
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { felixLogger, LOG_BUFFER_BYTES } from '../src/log.js';
import { FelixMetrics } from '../src/metrics.js';

const value = async (m: FelixMetrics, name: string) =>
  (await m.registry.getSingleMetric(name)!.get()).values[0]?.value ?? 0;

test('felix logs JSON lines to its output; nothing counted while writes succeed', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'felix-log-'));
  const fd = openSync(join(dir, 'felix.log'), 'w');
  try {
    const m = new FelixMetrics({ processMetrics: false });
    const log = felixLogger({ level: 'info', node: 'n1', fd }, m);
    log.info({ endpoints: 3 }, 'first converge complete: ready');
    log.debug('not at this level');
    const lines = readFileSync(join(dir, 'felix.log'), 'utf8').trim().split('\n');
    assert.equal(lines.length, 1);
    assert.deepEqual(
      (({ name, node, endpoints, msg }) => ({ name, node, endpoints, msg }))(JSON.parse(lines[0]!)),
      { name: 'felix', node: 'n1', endpoints: 3, msg: 'first converge complete: ready' },
    );
    assert.equal(await value(m, 'felix_log_errors'), 0);
    assert.equal(await value(m, 'felix_logs_dropped'), 0);
  } finally {
    closeSync(fd);
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a full disk under the log: felix keeps running, counts the failed writes, then drops and counts lines', async () => {
  // /dev/full fails every write with ENOSPC, as a log file on a full disk does.
  const fd = openSync('/dev/full', 'w');
  try {
    const m = new FelixMetrics({ processMetrics: false });
    const log = felixLogger({ level: 'info', node: 'n1', fd }, m);
    log.error('dataplane apply failed; retrying');
    const first = await value(m, 'felix_log_errors');
    assert.ok(first >= 1, 'the failed write counted');
    assert.equal(await value(m, 'felix_logs_dropped'), 0, 'kept for the next attempt');
    // Past the buffer, lines are dropped rather than held without bound.
    const line = 'x'.repeat(10_000);
    const n = Math.ceil(LOG_BUFFER_BYTES / line.length) + 10;
    for (let i = 0; i < n; i++) log.warn(line);
    const errors = await value(m, 'felix_log_errors');
    const dropped = await value(m, 'felix_logs_dropped');
    assert.ok(dropped >= 10 && dropped < n, `dropped ${dropped} of ${n}`);
    // Each line that was kept was another failed attempt (dropped ones are not tried).
    assert.ok(errors >= first + n - dropped, `${errors} errors`);
  } finally {
    closeSync(fd);
  }
});
