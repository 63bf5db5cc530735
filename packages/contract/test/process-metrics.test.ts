import assert from 'node:assert/strict';
import { test } from 'node:test';
import * as prom from 'prom-client';
import { collectProcessMetrics } from '../src/index.js';

test('a daemon that has not collected garbage yet serves a GC count of zero for every kind', async () => {
  const registry = new prom.Registry();
  collectProcessMetrics(prom, registry);
  const text = await registry.metrics();
  for (const kind of ['minor', 'major', 'incremental', 'weakcb'])
    assert.match(text, new RegExp(`^nodejs_gc_duration_seconds_count\\{kind="${kind}"\\} \\d+$`, 'm'), kind);
  assert.match(text, /^process_resident_memory_bytes \d+/m);
  assert.match(text, /^nodejs_eventloop_lag_p99_seconds /m);
});

test('two daemons of one process each serve the process metrics from their own registry; a second call is a no-op', async () => {
  const felix = new prom.Registry();
  const bird = new prom.Registry();
  collectProcessMetrics(prom, felix);
  collectProcessMetrics(prom, bird);
  collectProcessMetrics(prom, bird);
  for (const registry of [felix, bird]) {
    const text = await registry.metrics();
    assert.match(text, /^process_resident_memory_bytes \d+/m);
    assert.equal(text.match(/^# TYPE process_cpu_user_seconds_total /gm)?.length, 1);
  }
});
