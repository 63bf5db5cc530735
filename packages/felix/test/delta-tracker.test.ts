import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DeltaTracker } from '../src/tracker/delta-tracker.js';

/** Values ≥ 9 stand for another agent's items: never felix's to delete or overwrite. */
const FOREIGN = 100;
const tracker = () =>
  new DeltaTracker<number, number>({ owned: (_k, p) => p < FOREIGN, inSync: (d, p) => d === p });

test('pending follows every change; a write or a read settles it; unowned items are never deleted', () => {
  const t = tracker();
  t.setDesired(1, 10);
  t.setDesired(2, 20);
  assert.deepEqual(t.pendingSets(), [
    [1, 10],
    [2, 20],
  ]);
  t.replaceDataplane([
    [1, 10],
    [3, 30],
    [4, FOREIGN],
  ]);
  assert.ok(t.synced);
  assert.deepEqual(t.pendingSets(), [[2, 20]], 'what the kernel already has is not pending');
  assert.deepEqual(t.pendingDeletes(), [[3, 30]], 'an item of ours nobody wants is pending deletion');
  t.wrote(2, 20);
  t.removed(3);
  assert.equal(t.pendingCount, 0);
  // Changed again: pending in the order of the changes.
  t.setDesired(2, 21);
  t.setDesired(1, 11);
  t.setDesired(2, 22);
  assert.deepEqual(t.pendingSets(), [
    [1, 11],
    [2, 22],
  ]);
  // Back to what the kernel has: nothing to do.
  t.setDesired(1, 10);
  assert.deepEqual(t.pendingSets(), [[2, 22]]);
  t.deleteDesired(2);
  assert.deepEqual(t.pendingDeletes(), [[2, 20]]);
  t.invalidate();
  assert.ok(!t.synced);
  assert.deepEqual(t.pendingSets(), [[1, 10]], 'unknown kernel: everything desired is pending');
});

test('a read that ran beside writes keeps what felix wrote meanwhile, and repairs the rest', () => {
  const t = tracker();
  t.replaceDataplane([]);
  t.setDesired(1, 10);
  t.setDesired(2, 20);
  t.wrote(1, 10);
  t.wrote(2, 20);
  // The read starts; the kernel has drifted at 2 (someone changed it) …
  t.beginRead();
  const read: [number, number][] = [
    [1, 10],
    [2, 25],
  ];
  // … and felix writes 3 and deletes 1 while the read runs (the read saw neither).
  t.setDesired(3, 30);
  t.wrote(3, 30);
  t.deleteDesired(1);
  t.removed(1);
  t.replaceDataplane(read);
  assert.deepEqual([...t.dataplane].sort(), [
    [2, 25],
    [3, 30],
  ]);
  assert.deepEqual(t.pendingSets(), [[2, 20]], 'the drift is repaired, nothing felix wrote is redone');
  assert.deepEqual(t.pendingDeletes(), []);
});

test('sysctl-like items: set only, forgotten once nobody wants them', () => {
  const t = new DeltaTracker<string, string>({ owned: () => false, forgetUnowned: true });
  t.assumeEmpty();
  t.setDesired('a', '1');
  t.wrote('a', '1');
  t.deleteDesired('a');
  assert.equal(t.dataplane.size, 0);
  assert.equal(t.pendingCount, 0);
});

type Op =
  | { op: 'want'; k: number; v: number }
  | { op: 'unwant'; k: number }
  | { op: 'apply' }
  | { op: 'drift'; k: number; v: number | undefined }
  | { op: 'readStart' }
  | { op: 'readEnd' }
  | { op: 'block'; k: number; on: boolean };

test('random changes, applies, drift and overlapping reads converge to the desired state (model-checked)', () => {
  const key = fc.integer({ min: 0, max: 6 });
  const op: fc.Arbitrary<Op> = fc.oneof(
    fc.record({ op: fc.constant('want' as const), k: key, v: fc.integer({ min: 0, max: 3 }) }),
    fc.record({ op: fc.constant('unwant' as const), k: key }),
    fc.record({ op: fc.constant('apply' as const) }),
    fc.record({
      op: fc.constant('drift' as const),
      k: key,
      v: fc.option(fc.oneof(fc.integer({ min: 0, max: 3 }), fc.constant(FOREIGN)), { nil: undefined }),
    }),
    fc.record({ op: fc.constant('readStart' as const) }),
    fc.record({ op: fc.constant('readEnd' as const) }),
    fc.record({ op: fc.constant('block' as const), k: key, on: fc.boolean() }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const t = tracker();
      const kernel = new Map<number, number>();
      const blocked = new Set<number>();
      let read: Map<number, number> | undefined;
      // A driver: deletes first, then sets; a blocked key (its device is missing) or a key
      // held by another agent is left pending.
      const apply = () => {
        if (!t.synced) t.replaceDataplane(kernel);
        for (const [k] of t.pendingDeletes()) {
          kernel.delete(k);
          t.removed(k);
        }
        for (const [k, v] of t.pendingSets()) {
          if (blocked.has(k) || (t.dataplane.get(k) ?? 0) >= FOREIGN) continue;
          kernel.set(k, v);
          t.wrote(k, v);
        }
      };
      const check = () => {
        for (const k of new Set([...t.desired.keys(), ...t.dataplane.keys()])) {
          const d = t.desired.get(k);
          const p = t.dataplane.get(k);
          const set = d !== undefined && d !== p;
          const del = d === undefined && p !== undefined && p < FOREIGN;
          assert.equal(t.isPending(k), set || del, `key ${k}: desired ${d}, dataplane ${p}`);
        }
      };
      for (const o of ops) {
        if (o.op === 'want') t.setDesired(o.k, o.v);
        else if (o.op === 'unwant') t.deleteDesired(o.k);
        else if (o.op === 'apply') apply();
        else if (o.op === 'drift') {
          if (o.v === undefined) kernel.delete(o.k);
          else kernel.set(o.k, o.v);
        } else if (o.op === 'readStart' && !read) {
          read = new Map(kernel);
          t.beginRead();
        } else if (o.op === 'readEnd' && read) {
          t.replaceDataplane(read);
          read = undefined;
        } else if (o.op === 'block') {
          if (o.on) blocked.add(o.k);
          else blocked.delete(o.k);
        }
        check();
      }
      // A read that ran beside everything above, then a fresh one: the kernel converges.
      if (read) t.replaceDataplane(read);
      apply();
      t.beginRead();
      t.replaceDataplane(new Map(kernel));
      blocked.clear();
      apply();
      for (const [k, v] of t.desired)
        if ((kernel.get(k) ?? 0) < FOREIGN) assert.equal(kernel.get(k), v, `key ${k}`);
      for (const [k, v] of kernel) if (v < FOREIGN) assert.ok(t.desired.has(k), `stale key ${k} left`);
      assert.deepEqual(new Map(t.dataplane), kernel, 'the view is the kernel');
    }),
    { numRuns: 500 },
  );
});
