// The chaos run's pure parts: a seed fixes the schedule; every kind comes once before any
// twice; one fault at a time; losses are charged to the window they fall in; budgets judge.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FaultResult } from '../src/chaos/fault.js';
import { MALFORMED_CASES, matches } from '../src/chaos/malformed-cases.js';
import { Rng } from '../src/chaos/random.js';
import { attribute, buildReport, formatReport } from '../src/chaos/report.js';
import { FAULT_KINDS, FAULTS, planSchedule } from '../src/chaos/schedule.js';
import type { FinalCheck } from '../src/chaos/verify.js';

test('a seed fixes the schedule; every kind once before any twice; windows do not overlap', () => {
  const a = planSchedule(new Rng(42), 30 * 60_000, 3, 3);
  const b = planSchedule(new Rng(42), 30 * 60_000, 3, 3);
  assert.deepEqual(a, b, 'same seed, same schedule');
  assert.notDeepEqual(planSchedule(new Rng(43), 30 * 60_000, 3, 3), a);
  const firstRound = a.slice(0, FAULT_KINDS.length).map((p) => p.kind);
  assert.deepEqual([...firstRound].sort(), [...FAULT_KINDS].sort(), 'the first round holds every kind once');
  for (let i = 1; i < a.length; i++)
    assert.ok(a[i]!.atMs >= a[i - 1]!.atMs + FAULTS[a[i - 1]!.kind].typicalMs, 'one fault at a time');
  for (const p of a) {
    assert.ok(p.target >= 0 && p.target < 3);
    if (p.kind === 'etcd-quorum-loss') assert.equal(p.holdMs, 20_000, 'quorum is lost for 20 s');
  }
  const last = a.at(-1)!;
  assert.ok(last.atMs + FAULTS[last.kind].typicalMs <= 30 * 60_000, 'nothing planned past the end');
  const only = planSchedule(new Rng(1), 5 * 60_000, 3, 3, ['felix-sigkill', 'bird-sigterm']);
  assert.ok(only.length > 4 && only.every((p) => p.kind === 'felix-sigkill' || p.kind === 'bird-sigterm'));
});

const fault = (kind: FaultResult['kind'], startedAt: number, settledAt: number): FaultResult => ({
  kind,
  target: 'node-1',
  startedAt,
  healedAt: settledAt - 1,
  settledAt,
  details: {},
  violations: [],
  findings: [],
});

const cleanFinal: FinalCheck = {
  repair: { exit: 0, output: '' },
  duplicates: [],
  leaked: [],
  ghosts: [],
  leftovers: [],
  livePods: [],
  counts: { allocations: 4, endpoints: 4, livePods: 4, gonePods: 2 },
};

test('a lost probe is charged to the fault whose window holds its send time, else to "none"', () => {
  const f1 = fault('felix-sigkill', 1000, 2000);
  const f2 = fault('drift-pod-route', 3000, 4000);
  const by = attribute(
    [f1, f2],
    [
      { from: 'a', to: 'b', at: 1500 },
      { from: 'a', to: 'b', at: 2500 },
      { from: 'b', to: 'a', at: 3000 },
    ],
  );
  assert.equal(by.get(f1)?.length, 1);
  assert.equal(by.get(f2)?.length, 1);
  assert.equal(by.get('none')?.length, 1);
});

test('budgets: a zero-loss fault that lost a probe is missed, drift losses are only reported', () => {
  const base = {
    seed: 7,
    options: { minutes: 2, nodes: 3, podsPerNode: 2 },
    startedAt: new Date(0),
    chaosMs: 120_000,
    probes: { sent: 100, received: 97, lost: 3 },
    churn: [],
    final: cleanFinal,
    quietLosses: [],
    unestablished: [],
  };
  const drift = fault('drift-pod-route', 3000, 4000);
  drift.details.repairMs = 800;
  const ok = buildReport({
    ...base,
    faults: [fault('felix-sigkill', 1000, 2000), drift],
    losses: [{ from: 'a', to: 'b', at: 3500 }],
  });
  assert.equal(ok.ok, true, formatReport(ok));
  assert.equal(ok.kinds.find((k) => k.kind === 'drift-pod-route')?.lost, 1);
  assert.equal(ok.kinds.find((k) => k.kind === 'drift-pod-route')?.slowestRepairMs, 800);
  const bad = buildReport({
    ...base,
    faults: [fault('felix-sigkill', 1000, 2000)],
    losses: [{ from: 'a', to: 'b', at: 1500 }],
  });
  assert.equal(bad.ok, false);
  const missed = bad.budgets.filter((b) => !b.met).map((b) => b.name);
  assert.deepEqual(missed, ['0 probes lost: felix-sigkill']);
  const text = formatReport(bad);
  assert.match(text, /felix-sigkill +1 +1 +1 +1/);
  assert.match(
    text,
    /BUDGET MISSED — replay with: npm run chaos -- --minutes 2 --nodes 3 --pods-per-node 2 --seed 7/,
  );
  const ghost = buildReport({
    ...base,
    faults: [],
    losses: [],
    final: { ...cleanFinal, ghosts: ['chaos/x'] },
  });
  assert.deepEqual(
    ghost.budgets.filter((b) => !b.met).map((b) => b.name),
    ['final: 0 ghost endpoints'],
  );
});

test('malformed UPDATE cases: each is one UPDATE whose header length is its own, with an expected reaction', () => {
  const names = new Set<string>();
  for (const c of MALFORMED_CASES) {
    assert.ok(!names.has(c.name));
    names.add(c.name);
    const bytes = c.build({ as: 65099, nextHop: 0xc0a8c8fa });
    assert.equal(
      bytes.length,
      (bytes[16]! << 8) | bytes[17]!,
      `${c.name}: the header length is the message's`,
    );
    assert.equal(bytes[18], 2, `${c.name}: an UPDATE`);
    assert.ok(
      matches(
        c.expect,
        c.expect.kind === 'reset'
          ? { kind: 'reset', code: c.expect.code, subcode: c.expect.subcode }
          : { kind: 'stayed-up' },
      ),
    );
    assert.ok(!matches(c.expect, { kind: 'no-session', detail: 'x' }));
  }
});
