/**
 * The bird benchmarks run once at their smallest size (10 reflector clients, 10,000
 * routes): they must run to the end and print their summary table. Figures are not judged
 * here (timing belongs to `npm run bench`, not to tests).
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireCommands, requireRoot, runBenchSmoke } from '@tricolor/testkit';

const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'main.js');

test('bird benchmarks run to the end at smoke size', async (t) => {
  if (!requireRoot(t) || !requireCommands(t, 'ip', 'bird', 'birdc', 'gobgpd', 'gobgp')) return;
  const r = await runBenchSmoke(BENCH, { timeoutMs: 600_000 });
  assert.equal(r.code, 0, `${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}`);
  assert.equal(r.summaries.length, 1);
  const rows = r.summaries[0]!.rows.map((x) => x.row);
  for (const want of [
    'RR 10 clients, reflector waits: converge',
    'RR 10 clients, reflector waits: session drops',
    'RR 10 clients, reflector connects: converge',
    'full table 10,000: RIB only',
    'full table 10,000: into the kernel',
  ])
    assert.ok(rows.includes(want), `${want} in ${JSON.stringify(rows)}`);
});
