import { type Injector, nodeAt } from './fault.js';
import { failureText } from './pods.js';

/**
 * A CNI ADD SIGKILLed after 20–800 ms (whatever it had done by then stays), then what kubelet
 * does next: half the time the ADD again (it must succeed and the pod join), otherwise a DEL
 * (it must succeed; the final check then finds nothing of the sandbox).
 */
export const cniAddKilled: Injector = async (ctx, plan) => {
  const node = nodeAt(ctx, plan.target);
  const sandbox = await ctx.pods.sandbox(node.name);
  const killAfterMs = ctx.rng.int(20, 800);
  const retry = ctx.rng.next() < 0.5;
  const startedAt = Date.now();
  const killed = await ctx.pods.killedAdd(sandbox, killAfterMs);
  const violations: string[] = [];
  let outcome: { ok: boolean; code?: number; msg?: string };
  if (retry) {
    outcome = await ctx.pods.add(sandbox);
    if (!outcome.ok) {
      violations.push(`ADD retried after a killed ADD failed: ${failureText(outcome)}`);
      await ctx.pods.abandon(sandbox);
    }
  } else {
    outcome = await ctx.pods.abandon(sandbox);
    if (!outcome.ok) violations.push(`DEL after a killed ADD failed: ${failureText(outcome)}`);
  }
  return {
    target: `${node.name}/${sandbox.name}`,
    startedAt,
    healedAt: Date.now(),
    details: {
      killAfterMs,
      finishedBeforeKill: killed.finishedFirst,
      afterwards: retry ? 'ADD again' : 'DEL',
      ok: outcome.ok,
    },
    violations,
    findings: [],
  };
};
