import assert from 'node:assert/strict';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { requireCommands, requireLinkKind, requireRoot, runBenchSmoke } from '@tricolor/testkit';

const BENCH = fileURLToPath(new URL('../bench/bench.js', import.meta.url));

test('the dataplane bench runs to the end at its smallest sizes and prints its summary', async (t) => {
  if (
    !requireRoot(t) ||
    !requireCommands(t, 'iptables-nft-restore', 'ipset', 'bridge') ||
    !requireLinkKind(t, 'vxlan')
  )
    return;
  const r = await runBenchSmoke(BENCH);
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.summaries.length, 1, r.stdout);
  const rows = r.summaries[0]!.rows.map((x) => x.row);
  assert.ok(
    rows.some((x) => x.startsWith('1 endpoints from cold')),
    rows.join('\n'),
  );
  assert.ok(
    rows.some((x) => x.includes('during the refresh reads')),
    rows.join('\n'),
  );
  assert.ok(
    rows.some((x) => x.includes('remote nodes (VXLAN)')),
    rows.join('\n'),
  );
  for (const policyRow of ['policy cold start', 'one policy changed', 'one remote endpoint relabelled'])
    assert.ok(
      rows.some((x) => x.startsWith(policyRow)),
      `${policyRow}:\n${rows.join('\n')}`,
    );
});
