import assert from 'node:assert/strict';
import { test } from 'node:test';
import { benchSizes, formatSummary, judge } from '../src/index.js';

test('a row is judged on its figure or on its ratio to the anchor, with how far it missed', () => {
  const fast = judge({ row: 'cold', figure: 3.2, unit: 's', target: { on: 'figure', op: '<=', value: 4 } });
  assert.equal(fast.verdict, 'met');
  const slow = judge({
    row: 'converge',
    figure: 3,
    unit: 's',
    anchor: { name: 'BIRD 2', figure: 1.5 },
    target: { on: 'ratio', op: '<=', value: 1.5 },
  });
  assert.equal(slow.ratio, 2);
  assert.equal(slow.verdict, 'missed');
  assert.equal(slow.by, 'by 33%');
  const throughput = judge({
    row: 'pod to pod',
    figure: 9,
    unit: 'Gbit/s',
    anchor: { name: 'node to node', figure: 10 },
    target: { on: 'ratio', op: '>=', value: 0.95 },
  });
  assert.equal(throughput.verdict, 'missed');
  const noAnchor = judge({ row: 'x', figure: 1, unit: 's', target: { on: 'ratio', op: '<=', value: 1 } });
  assert.equal(noAnchor.verdict, 'missed');
  assert.equal(judge({ row: 'y', figure: 1, unit: 's' }).verdict, 'no target');
});

test('the summary table has every column and one line per row', () => {
  const text = formatSummary('demo', [
    {
      row: 'a',
      figure: 1234,
      unit: 'ms',
      anchor: { name: 'BIRD', figure: 617 },
      target: { on: 'ratio', op: '<=', value: 1.5 },
    },
    { row: 'b', figure: 0.5, unit: 's', target: { on: 'figure', op: '<', value: 1 } },
  ]);
  const lines = text.trim().split('\n');
  assert.match(lines[2]!, /\| row +\| figure +\| anchor \(same run\) +\| ratio +\| target +\| result +\|/);
  assert.match(
    lines[4]!,
    /\| a +\| 1,234 ms \| 617 ms \(BIRD\) +\| 2.00x \| ratio <= 1.50 \| missed \(by 33%\) \|/,
  );
  assert.match(lines[5]!, /\| b +\| 0.50 s +\| — +\| — +\| < 1 s +\| met +\|/);
});

test('bench sizes: defaults, an override from the environment, the smallest in smoke mode', () => {
  const saved = { ...process.env };
  try {
    delete process.env.TRICOLOR_BENCH_SMOKE;
    assert.deepEqual(benchSizes([100, 1000]), [100, 1000]);
    process.env.X_SIZES = '5, 7';
    assert.deepEqual(benchSizes([100, 1000], 'X_SIZES'), [5, 7]);
    process.env.X_SIZES = 'many';
    assert.throws(() => benchSizes([1], 'X_SIZES'), /X_SIZES: expected comma-separated positive integers/);
    process.env.TRICOLOR_BENCH_SMOKE = '1';
    assert.deepEqual(benchSizes([1000, 100], 'X_SIZES'), [100]);
  } finally {
    process.env = saved;
  }
});
