import type { Datastore, KeyValueStore } from '@tricolor/datastore';
import { type ActionPath, directPath, type PodDirectory } from './actions.js';
import type { Case, Matrix, Probe } from './case.js';
import { namespaceLabels, podLabels } from './layout.js';
import type { CaseResult } from './report.js';

/** What running a case needs: the datastore, the pods, a way to observe a matrix and to wait. */
export interface CaseContext {
  ds: Datastore<KeyValueStore>;
  pods: PodDirectory & { all: readonly string[] };
  /** Observes one probe's full 9 × 9 matrix (the kernel, or the policy model). */
  observe(probe: Probe): Promise<Matrix>;
  /** How actions reach the datastore (default: written directly). */
  path?: ActionPath;
  /** Waits until what was written up to now is in effect. */
  settle(): Promise<void>;
  /** Called with each probe's result as it comes (the readable output). */
  onProbe?(c: Case, step: number, probe: Probe, observed: Matrix): void;
}

/**
 * One case on the standard layout: restore the layout, then per step apply the actions in
 * order, settle, and observe every probe. Never reads `expect` except to carry it into the
 * result for the report.
 */
export async function runCase(c: Case, ctx: CaseContext): Promise<CaseResult> {
  const path = ctx.path ?? directPath(ctx.ds, namespaceLabels, podLabels);
  await path.restore(ctx.pods);
  await path.synced();
  await ctx.settle();
  const result: CaseResult = { name: c.name, steps: [] };
  for (const [i, step] of c.steps.entries()) {
    for (const [j, action] of step.actions.entries())
      await path.apply(action, ctx.pods, `${c.file}: steps[${i}].actions[${j}]`);
    if (step.actions.length > 0) {
      await path.synced();
      await ctx.settle();
    }
    const probes = [];
    for (const probe of step.probes) {
      const observed = await ctx.observe({ protocol: probe.protocol, port: probe.port });
      ctx.onProbe?.(c, i + 1, probe, observed);
      probes.push({ protocol: probe.protocol, port: probe.port, observed, expect: probe.expect });
    }
    result.steps.push({ probes });
  }
  return result;
}
