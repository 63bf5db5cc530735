// What Prometheus reads from /metrics: the controllers' own metrics and the process metrics
// every Tricolor daemon serves (the dashboard's process row charts them per job).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort } from '@tricolor/testkit';
import { createMetrics } from '../src/metrics.js';
import { startHttp } from '../src/server.js';

test('/metrics serves the process metrics (process_*, nodejs_*) beside the controllers own', async () => {
  const metrics = createMetrics();
  metrics.isLeader.set(1);
  const port = await freePort();
  const [server] = await startHttp(
    [{ host: '127.0.0.1', port, health: false, metrics: true }],
    { live: () => true, notReady: () => undefined },
    metrics.registry,
  );
  try {
    const res = await fetch(`http://127.0.0.1:${port}/metrics`);
    assert.equal(res.status, 200);
    const body = await res.text();
    const value = (name: string) => Number(new RegExp(`^${name} (\\S+)$`, 'm').exec(body)?.[1]);
    assert.ok(value('process_cpu_seconds_total') > 0);
    assert.ok(value('process_resident_memory_bytes') > 0);
    assert.ok(value('process_open_fds') > 0);
    assert.ok(value('process_start_time_seconds') > 1.7e9);
    assert.ok(value('nodejs_heap_size_used_bytes') > 0);
    assert.ok(Number.isFinite(value('nodejs_eventloop_lag_p99_seconds')));
    assert.equal(value('tricolor_kube_controllers_is_leader'), 1);
    assert.equal(
      createMetrics(undefined, { processMetrics: false }).registry.getSingleMetric(
        'process_cpu_seconds_total',
      ),
      undefined,
    );
  } finally {
    await server!.close();
  }
});
