import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { formatIp } from '@tricolor/datastore';
import fc from 'fast-check';
import { type Case, parseCases } from '../src/netpol/case.js';
import { PODS } from '../src/netpol/layout.js';
import { modelContext } from '../src/netpol/model.js';
import { caseMismatches } from '../src/netpol/report.js';
import { runCase } from '../src/netpol/run-case.js';
import { REPO_ROOT } from '../src/paths.js';

// The 17 example cases on the in-memory model of the standard layout: every expectation must
// come out of @tricolor/policy's evaluator, for any addresses IPAM could have handed out.
const EXAMPLES = join(REPO_ROOT, 'e2e/netpol/examples');
const cases: Case[] = parseCases(
  readdirSync(EXAMPLES)
    .filter((f) => f.endsWith('.json'))
    .sort()
    .map((f) => ({ file: f, text: readFileSync(join(EXAMPLES, f), 'utf8') })),
);

/** 9 distinct addresses in 10.244.0.0/16 (the layout's pool), any of them. */
const podAddresses = fc
  .uniqueArray(fc.integer({ min: 1, max: 65534 }), { minLength: PODS.length, maxLength: PODS.length })
  .map(
    (offsets) =>
      new Map(PODS.map((p, i) => [p, formatIp({ family: 4, value: 0x0af40000n + BigInt(offsets[i]!) })])),
  );

test('the 17 examples are all there and all carry expectations', () => {
  assert.equal(cases.length, 17);
  for (const c of cases)
    assert.ok(
      c.steps.every((s) => s.probes.every((p) => p.expect)),
      c.name,
    );
});

test('every example expectation comes out of the evaluator, for any pod addresses and node spread', async () => {
  await fc.assert(
    fc.asyncProperty(podAddresses, fc.integer({ min: 2, max: 4 }), async (ips, nodes) => {
      for (const c of cases) {
        const result = await runCase(c, await modelContext(ips, nodes));
        assert.deepEqual(caseMismatches(result), [], `${c.name} with ${JSON.stringify([...ips])}`);
      }
    }),
    { numRuns: 15 },
  );
});

test('observations never depend on expect: stripping every expect observes the same', async () => {
  const ips = new Map(PODS.map((p, i) => [p, `10.244.${i}.${i + 10}`]));
  for (const c of cases) {
    const stripped: Case = {
      ...c,
      steps: c.steps.map((s) => ({ ...s, probes: s.probes.map(({ expect: _e, ...p }) => p) })),
    };
    const a = await runCase(c, await modelContext(ips));
    const b = await runCase(stripped, await modelContext(ips));
    assert.deepEqual(
      b.steps.map((s) => s.probes.map((p) => p.observed)),
      a.steps.map((s) => s.probes.map((p) => p.observed)),
    );
  }
});

test('the check can fail: one flipped expectation is found as exactly one mismatch', async () => {
  const c = cases.find((k) => k.name === 'docs-default-deny-ingress')!;
  const flipped: Case = structuredClone(c);
  const row = flipped.steps[0]!.probes[0]!.expect!['x/a']!;
  row['y/b'] = !row['y/b'];
  const result = await runCase(
    flipped,
    await modelContext(new Map(PODS.map((p, i) => [p, `10.244.1.${i + 1}`]))),
  );
  assert.deepEqual(
    caseMismatches(result).map((m) => [m.step, m.probe, m.from, m.to, m.expected]),
    [[1, 'TCP/80', 'x/a', 'y/b', true]],
  );
});
