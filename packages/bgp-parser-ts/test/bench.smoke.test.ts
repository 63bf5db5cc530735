import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runBenchSmoke } from '@tricolor/testkit';

const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'bench.js');

test('the codec bench runs to the end at its smallest size and prints its summary', async () => {
  const r = await runBenchSmoke(BENCH);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summaries.length, 1, r.stdout);
  const rows = r.summaries[0]!.rows;
  assert.ok(rows.length > 0);
  for (const row of rows) assert.ok(Number.isFinite(row.figure), `${row.row}: ${row.figure}`);
  // Correctness rows are not timing: the fuzz run raises only typed errors and round-trips.
  for (const row of rows.filter((x) => x.row.startsWith('fuzz') && x.target))
    assert.equal(row.verdict, 'met', row.row);
});
