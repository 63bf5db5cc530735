import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileSelector, parseSelector, SelectorError } from '../src/index.js';

test('selectors match labels like Calico selectors', () => {
  const labels = { role: 'rr', zone: 'eu-1', 'kubernetes.io/os': 'linux' };
  const cases: [string, boolean][] = [
    ['all()', true],
    ['', true],
    ["role == 'rr'", true],
    ["role != 'rr'", false],
    ['has(zone)', true],
    ['!has(zone)', false],
    ["zone in {'eu-1', 'eu-2'}", true],
    ["zone not in {'eu-1'}", false],
    ["missing not in {'x'}", true],
    ["zone starts with 'eu'", true],
    ["zone ends with '-2'", false],
    ["zone contains 'u-'", true],
    ["kubernetes.io/os == 'linux' && (role == 'x' || has(zone))", true],
    ["role == 'x' || role == 'y'", false],
    ["!(role == 'rr')", false],
  ];
  for (const [sel, want] of cases) assert.equal(compileSelector(sel)(labels), want, sel);
});

test('bad selectors fail with the position', () => {
  assert.throws(() => parseSelector('role == '), SelectorError);
  assert.throws(() => parseSelector("role = 'x'"), /unexpected "=" at 5/);
  assert.throws(() => parseSelector('has(x) &&'), SelectorError);
  assert.throws(() => parseSelector("(role == 'a'"), /expected '\)'/);
});
