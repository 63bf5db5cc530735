import { daemonsReady, type Injector, nodeAt, sleep, timeUntil } from './fault.js';

/**
 * felix or bird of one node stopped by a signal (SIGKILL: a crash; SIGTERM: a rolling update),
 * started again after the hold. Budget: no probe between established pods lost meanwhile.
 */
export function daemonRestart(which: 'felix' | 'bird', signal: 'SIGKILL' | 'SIGTERM'): Injector {
  return async (ctx, plan) => {
    const node = nodeAt(ctx, plan.target);
    const d = which === 'felix' ? node.felix : node.bird;
    if (!d) throw new Error(`${node.name} runs no ${which}`);
    const violations: string[] = [];
    const startedAt = Date.now();
    const pid = d.pid;
    await d.stop(signal, 10_000);
    const exitMs = Date.now() - startedAt;
    if (signal === 'SIGTERM' && exitMs >= 10_000)
      violations.push(`${which} on ${node.name} did not exit within 10 s of SIGTERM (killed)`);
    await sleep(plan.holdMs);
    d.restarts++;
    d.start();
    const url = which === 'felix' ? 'http://127.0.0.1:9099/readiness' : 'http://127.0.0.1:9098/readiness';
    const readyMs = await timeUntil(async () => (await ctx.cluster.httpInNode(node, url)).ok, 60_000, 250);
    if (readyMs === undefined) violations.push(`${which} on ${node.name} not ready 60 s after its restart`);
    const lagging = await daemonsReady(ctx.cluster, 30_000);
    if (lagging.length)
      violations.push(`not ready 30 s after ${which}'s restart on ${node.name}: ${lagging.join(', ')}`);
    return {
      target: node.name,
      startedAt,
      healedAt: Date.now(),
      details: { signal, pidBefore: pid, pidAfter: d.pid, exitMs, downMs: exitMs + plan.holdMs, readyMs },
      violations,
      findings: [],
    };
  };
}
