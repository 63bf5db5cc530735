import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { neighborEntriesNeeded, raiseNeighborThresholds } from '../src/neighbor-table.js';

test('40 nodes need more neighbor entries than the kernel allows by default (1,024)', () => {
  assert.ok(neighborEntriesNeeded(40, 0) > 1024);
  assert.ok(neighborEntriesNeeded(5, 1) < 128, 'small clusters need nothing raised');
  assert.equal(neighborEntriesNeeded(3, 2), 3 * 4 + 2 * 3 * 2);
});

test('thresholds are raised to fit the entries, never lowered', () => {
  const root = mkdtempSync(join(tmpdir(), 'neigh-'));
  try {
    const file = (family: string, n: number) =>
      join(root, 'net', family, 'neigh', 'default', `gc_thresh${n}`);
    for (const family of ['ipv4', 'ipv6']) {
      mkdirSync(join(root, 'net', family, 'neigh', 'default'), { recursive: true });
      writeFileSync(file(family, 1), '128\n');
      writeFileSync(file(family, 2), '512\n');
      writeFileSync(file(family, 3), family === 'ipv4' ? '1024\n' : '999999\n');
    }
    const raised = raiseNeighborThresholds(1640, root);
    assert.equal(readFileSync(file('ipv4', 1), 'utf8').trim(), '1640');
    assert.equal(readFileSync(file('ipv4', 3), 'utf8').trim(), '6560');
    assert.equal(readFileSync(file('ipv6', 3), 'utf8').trim(), '999999', 'a higher value is kept');
    assert.deepEqual(
      raised.map((r) => r.key),
      [
        'net.ipv4.neigh.default.gc_thresh1',
        'net.ipv4.neigh.default.gc_thresh2',
        'net.ipv4.neigh.default.gc_thresh3',
        'net.ipv6.neigh.default.gc_thresh1',
        'net.ipv6.neigh.default.gc_thresh2',
      ],
    );
    assert.deepEqual(raiseNeighborThresholds(1640, root), [], 'nothing to do the second time');
    writeFileSync(file('ipv4', 2), '512\n');
    assert.deepEqual(raiseNeighborThresholds(200, root), [], 'twice 200 fits under gc_thresh2 (512)');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
