// Calico's Felix Grafana dashboards read Tricolor's felix: every metric name they query is
// served with the type the query needs, is a policy gauge (served with felix's policy
// enforcement, then with its type), or is listed with the reason it cannot apply.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { FelixMetrics } from '../src/metrics.js';

interface CalicoList {
  sources: unknown[];
  metrics: Record<string, string>;
  policy: Record<string, string>;
  notApplicable: Record<string, string>;
}

const list = JSON.parse(
  readFileSync(new URL('../../test/fixtures/calico-felix-dashboard-metrics.json', import.meta.url), 'utf8'),
) as CalicoList;

test("every metric of Calico's Felix dashboards is served with its type, or cannot apply for a stated reason", async () => {
  const served = new Map(
    (await new FelixMetrics().registry.getMetricsAsJSON()).map((m) => [m.name, String(m.type)]),
  );
  assert.equal(list.sources.length, 2);
  const missing: string[] = [];
  for (const [name, type] of Object.entries(list.metrics)) {
    if (!served.has(name)) missing.push(name);
    else
      assert.equal(
        served.get(name),
        type,
        `${name} is a ${served.get(name)}, Calico's dashboards read a ${type}`,
      );
  }
  assert.deepEqual(missing, [], 'not served');
  for (const [name, type] of Object.entries(list.policy)) {
    assert.ok(!(name in list.metrics) && !(name in list.notApplicable), `${name} is listed twice`);
    if (served.has(name)) assert.equal(served.get(name), type, `${name}: Calico's dashboards read a ${type}`);
  }
  for (const [name, why] of Object.entries(list.notApplicable)) {
    assert.ok(!(name in list.metrics), `${name} is listed both ways`);
    assert.ok(why.length > 20, `${name}: say why it cannot apply`);
    assert.ok(!served.has(name), `${name} is served: list it under metrics`);
  }
});
