/**
 * The e2e bench runs once at its smallest size: it must run to the end and print its
 * summary table. Figures are not judged here (timing belongs to `npm run bench`).
 */
import assert from 'node:assert/strict';
import { dirname, join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireCommands, requireRoot, runBenchSmoke } from '@tricolor/testkit';

const BENCH = join(dirname(fileURLToPath(import.meta.url)), '..', 'bench', 'main.js');

test('e2e bench runs to the end at smoke size', async (t) => {
  if (!requireRoot(t) || !requireCommands(t, 'ip', 'ping', 'etcd', 'iperf3', 'ethtool')) return;
  const r = await runBenchSmoke(BENCH, { timeoutMs: 600_000 });
  assert.equal(r.code, 0, `${r.stderr.slice(-4000)}\n${r.stdout.slice(-2000)}`);
  assert.equal(r.summaries.length, 1);
  // The MTU checks are behaviour, not timing: a wrong MTU is a bug at any load.
  for (const row of r.summaries[0]!.rows.filter((x) => x.row.includes('MTU and DF-ping')))
    assert.equal(row.figure, 0, `${row.row}: see stderr\n${r.stderr.slice(-3000)}`);
  const rows = r.summaries[0]!.rows.map((x) => x.row);
  for (const want of [
    'CNI ADD, one pod at a time, p50 (5)',
    'CNI ADD p99 (10 pods)',
    'ADD on node-1 → reply on node-2 p99 (2)',
    'direct (mesh): TCP pod↔pod across nodes, median of 1',
    'VXLAN: TCP pod↔pod across nodes, median of 1',
    'VXLAN: MTU and DF-ping checks failed',
    'VXLAN: TCP pod↔pod against the bare kernel VXLAN pair, median of 1',
    'TCP pod↔pod across nodes with 10 policies, 50 remote endpoints, median of 1',
    '3 nodes, full mesh: every node has every block',
    '3 nodes, 2 route reflectors: new pod answers every other node p99 (2)',
    '3 nodes, 2 route reflectors: felix + bird RSS per node idle, max',
    '3 nodes, full mesh, one process: felix + bird RSS per node idle, max',
    '3 nodes, full mesh, one process: felix + bird PSS per node, median',
  ])
    assert.ok(rows.includes(want), `${want} in ${JSON.stringify(rows)}`);
});
