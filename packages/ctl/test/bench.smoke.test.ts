import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runBenchSmoke } from '@tricolor/testkit';

test('the apply-input bench runs to the end at its smallest size and prints its summary', async () => {
  const r = await runBenchSmoke(fileURLToPath(new URL('../bench/apply-input.js', import.meta.url)));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summaries.length, 1);
  assert.ok(r.summaries[0]!.rows.length >= 6, r.stdout);
});
