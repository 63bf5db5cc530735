import assert from 'node:assert/strict';
import { test } from 'node:test';
import { matches, parseSelector, type SelectorNode } from '@tricolor/datastore';
import fc from 'fast-check';
import { canonicalize, canonicalSelector, prefixSelector, printSelector, selectorId } from '../src/index.js';

const label = fc.constantFrom('a', 'b', 'app', 'tricolor.dev/namespace');
const value = fc.constantFrom('x', 'y', 'z', '');
const selector: fc.Arbitrary<SelectorNode> = fc.letrec<{ node: SelectorNode }>((tie) => ({
  node: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant<SelectorNode>({ op: 'all' }),
    label.map((l): SelectorNode => ({ op: 'has', label: l })),
    fc.record({ op: fc.constantFrom('==', '!=' as const), label, value }) as fc.Arbitrary<SelectorNode>,
    fc.record({
      op: fc.constantFrom('in', 'not in' as const),
      label,
      values: fc.array(value, { maxLength: 3 }),
    }) as fc.Arbitrary<SelectorNode>,
    tie('node').map((arg): SelectorNode => ({ op: 'not', arg })),
    fc.record({
      op: fc.constantFrom('and', 'or' as const),
      args: fc.array(tie('node'), { minLength: 2, maxLength: 3 }),
    }) as fc.Arbitrary<SelectorNode>,
  ),
})).node;
const labels = fc.dictionary(label, value, { maxKeys: 4 });

test('the printer round-trips through the parser', () => {
  fc.assert(
    fc.property(selector, (s) => {
      assert.deepEqual(parseSelector(printSelector(s)), JSON.parse(JSON.stringify(normalizeShape(s))));
    }),
  );
});

// The parser builds flat &&/|| lists; a printed nested same-operator list reads back flat.
function normalizeShape(s: SelectorNode): SelectorNode {
  if (s.op === 'not') return { op: 'not', arg: normalizeShape(s.arg) };
  if (s.op === 'and' || s.op === 'or') {
    const args = s.args.map(normalizeShape).flatMap((a) => (a.op === s.op ? a.args : [a]));
    return { op: s.op, args };
  }
  return s;
}

test('canonical form keeps the meaning, is idempotent, and equal selectors print equal', () => {
  fc.assert(
    fc.property(selector, labels, (s, l) => {
      const c = canonicalize(s);
      assert.equal(matches(c, l), matches(s, l));
      assert.equal(printSelector(canonicalize(parseSelector(printSelector(c)))), printSelector(c));
    }),
  );
  assert.equal(
    canonicalSelector("b == 'x' && a == 'y'"),
    canonicalSelector("(a == 'y') && b == 'x' && all()"),
  );
  assert.equal(canonicalSelector("app in {'b', 'a', 'b'}"), 'app in {"a", "b"}');
  assert.equal(canonicalSelector('!!has(a)'), 'has(a)');
  assert.equal(canonicalSelector("a == 'x' || all()"), 'all()');
  assert.equal(canonicalSelector(''), 'all()');
  assert.equal(canonicalSelector("(a == 'x' || b == 'y') && has(c)"), '(a == "x" || b == "y") && has(c)');
  assert.equal(selectorId(canonicalSelector("b == 'x' && a == 'y'")), selectorId('a == "y" && b == "x"'));
  assert.match(selectorId('all()'), /^s:[A-Za-z0-9_-]{22}$/);
  assert.notEqual(selectorId('has(a)'), selectorId('has(b)'));
});

test('namespace selectors are rewritten to the prefixed labels endpoints carry; all() = in some namespace', () => {
  const p = (s: string) => printSelector(canonicalize(prefixSelector(parseSelector(s), 'pcns.')));
  assert.equal(p("ns == 'x' && !has(team)"), '!has(pcns.team) && pcns.ns == "x"');
  assert.equal(p('all()'), 'has(tricolor.dev/namespace)');
  assert.equal(
    p("kubernetes.io/metadata.name in {'x', 'y'}"),
    'pcns.kubernetes.io/metadata.name in {"x", "y"}',
  );
});
