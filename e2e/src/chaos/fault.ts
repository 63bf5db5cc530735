import type { Cluster, NodeHandle } from '../cluster.js';
import type { Churn } from './churn.js';
import type { MalformedPeer } from './malformed-peer.js';
import type { PodManager } from './pods.js';
import type { Rng } from './random.js';
import type { FaultKind, PlannedFault } from './schedule.js';

/** Everything a fault may touch. */
export interface FaultContext {
  cluster: Cluster;
  pods: PodManager;
  churn: Churn;
  rng: Rng;
  log: (line: string) => void;
  /** Created on first use. */
  malformedPeer(): Promise<MalformedPeer>;
}

/** One injected fault as it happened. */
export interface FaultResult {
  kind: FaultKind;
  /** The node, etcd member or object hit. */
  target: string;
  startedAt: number;
  /** When the injected condition was over (daemon back, member back, drift repaired). */
  healedAt: number;
  /** End of the fault's window: the cluster converged again after the heal. */
  settledAt: number;
  details: Record<string, unknown>;
  /** Promises the fault's own checks found broken (not probe losses: those are counted apart). */
  violations: string[];
  /** Observations worth a look that break no budget (e.g. a reaction other than the RFC's). */
  findings: string[];
}

export type Injector = (
  ctx: FaultContext,
  plan: PlannedFault,
) => Promise<Omit<FaultResult, 'settledAt' | 'kind'>>;

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export function nodeAt(ctx: FaultContext, i: number): NodeHandle {
  const nodes = [...ctx.cluster.nodes.values()];
  return nodes[i % nodes.length]!;
}

/** Polls until `cond` holds or `ms` pass; the time it took, or undefined. */
export async function timeUntil(
  cond: () => Promise<boolean>,
  ms: number,
  everyMs = 100,
): Promise<number | undefined> {
  const t0 = Date.now();
  for (;;) {
    if (await cond().catch(() => false)) return Date.now() - t0;
    if (Date.now() - t0 > ms) return undefined;
    await sleep(everyMs);
  }
}

/** felix (and bird) answer /readiness on every node, within `ms`; names the laggards otherwise. */
export async function daemonsReady(cluster: Cluster, ms: number): Promise<string[]> {
  const lagging: string[] = [];
  await Promise.all(
    [...cluster.nodes.values()].map(async (n) => {
      const checks: [string, string][] = [['felix', 'http://127.0.0.1:9099/readiness']];
      if (n.bird) checks.push(['bird', 'http://127.0.0.1:9098/readiness']);
      for (const [name, url] of checks) {
        const t = await timeUntil(async () => (await cluster.httpInNode(n, url)).ok, ms, 250);
        if (t === undefined) lagging.push(`${name} on ${n.name}`);
      }
    }),
  );
  return lagging;
}
