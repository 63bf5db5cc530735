import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { runBenchSmoke } from '@tricolor/testkit';

test('the IPAM bench runs to the end at its smallest size and prints its summary', async () => {
  const r = await runBenchSmoke(fileURLToPath(new URL('../bench/bench.js', import.meta.url)));
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summaries.length, 1);
  const rows = r.summaries[0]!.rows;
  assert.equal(rows.length, 9, r.stdout);
  const txn = rows.find((x) => x.row.includes('etcd transactions'))!;
  assert.ok(txn.figure >= 1, `a first address writes at least once: ${txn.figure}`);
});
