import { textTable } from '../text-table.js';
import type { ChurnOp } from './churn.js';
import type { FaultResult } from './fault.js';
import { failureText } from './pods.js';
import type { Loss } from './probes.js';
import { FAULT_KINDS, FAULTS, type FaultKind } from './schedule.js';
import type { FinalCheck } from './verify.js';

export interface Budget {
  name: string;
  met: boolean;
  detail: string;
}

export interface KindSummary {
  kind: FaultKind | 'none';
  injected: number;
  /** Probes between established pods lost inside this kind's windows. */
  lost: number;
  maxLostInOneFault: number;
  pairsHit: number;
  /** Drift: slowest repair (ms). */
  slowestRepairMs?: number;
  violations: number;
  budget: string;
}

/** Where and when probes were lost: per directed pair, and the first and last send time. */
export interface LossDetail {
  pairs: Record<string, number>;
  first?: string;
  last?: string;
}

function lossDetail(losses: readonly Loss[]): LossDetail {
  const pairs: Record<string, number> = {};
  for (const l of losses) pairs[`${l.from}→${l.to}`] = (pairs[`${l.from}→${l.to}`] ?? 0) + 1;
  const times = losses.map((l) => l.at).sort((a, b) => a - b);
  return {
    pairs,
    first: times.length ? new Date(times[0]!).toISOString() : undefined,
    last: times.length ? new Date(times.at(-1)!).toISOString() : undefined,
  };
}

export interface ChaosReport {
  seed: number;
  replay: string;
  options: { minutes: number; nodes: number; podsPerNode: number; kinds?: readonly string[] };
  startedAt: string;
  chaosMs: number;
  probes: { sent: number; received: number; lost: number; intervalMs: number };
  kinds: KindSummary[];
  faults: (FaultResult & { lost: number; lossDetail?: LossDetail })[];
  /** Probes lost outside every fault's window. */
  lossesOutsideFaults: LossDetail;
  churn: {
    adds: number;
    addFailures: number;
    dels: number;
    delFailures: number;
    addP50Ms: number;
    addP99Ms: number;
    /** Every pod ADD and DEL (the setup's included), with its time and outcome. */
    ops: ChurnOp[];
  };
  final: FinalCheck;
  budgets: Budget[];
  findings: string[];
  ok: boolean;
}

const pct = (xs: number[], p: number) => {
  if (!xs.length) return 0;
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)]!;
};

/** Charges each lost probe to the fault whose window [start, settled] holds its send time. */
export function attribute(
  faults: readonly FaultResult[],
  losses: readonly Loss[],
): Map<FaultResult | 'none', Loss[]> {
  const out = new Map<FaultResult | 'none', Loss[]>();
  for (const l of losses) {
    const f = faults.find((x) => l.at >= x.startedAt && l.at <= x.settledAt) ?? 'none';
    out.set(f, [...(out.get(f) ?? []), l]);
  }
  return out;
}

export function buildReport(input: {
  seed: number;
  options: ChaosReport['options'];
  startedAt: Date;
  chaosMs: number;
  faults: FaultResult[];
  losses: Loss[];
  probes: { sent: number; received: number; lost: number };
  churn: ChurnOp[];
  final: FinalCheck;
  quietLosses: Loss[];
  unestablished: string[];
}): ChaosReport {
  const byFault = attribute(input.faults, input.losses);
  const faults = input.faults.map((f) => {
    const mine = byFault.get(f) ?? [];
    return { ...f, lost: mine.length, ...(mine.length ? { lossDetail: lossDetail(mine) } : {}) };
  });
  const kinds: KindSummary[] = [];
  for (const kind of [...FAULT_KINDS, 'none' as const]) {
    const mine = kind === 'none' ? [] : faults.filter((f) => f.kind === kind);
    const losses =
      kind === 'none'
        ? (byFault.get('none') ?? [])
        : input.faults.filter((f) => f.kind === kind).flatMap((f) => byFault.get(f) ?? []);
    if (kind !== 'none' && mine.length === 0) continue;
    const repairs = mine.map((f) => f.details.repairMs).filter((x): x is number => typeof x === 'number');
    kinds.push({
      kind,
      injected: mine.length,
      lost: losses.length,
      maxLostInOneFault: Math.max(0, ...mine.map((f) => f.lost)),
      pairsHit: new Set(losses.map((l) => `${l.from}→${l.to}`)).size,
      slowestRepairMs: repairs.length ? Math.max(...repairs) : undefined,
      violations: mine.reduce((n, f) => n + f.violations.length, 0),
      budget:
        kind === 'none' || FAULTS[kind].zeroLoss
          ? '0 lost'
          : `repaired within ${FAULTS[kind].repairBudgetMs! / 1000} s`,
    });
  }
  const budgets: Budget[] = [];
  for (const k of kinds) {
    if (k.kind !== 'none' && !FAULTS[k.kind].zeroLoss) continue;
    budgets.push({
      name: `0 probes lost: ${k.kind === 'none' ? 'outside faults (pod churn only)' : k.kind}`,
      met: k.lost === 0,
      detail: `${k.lost} lost over ${k.injected || 'no'} fault(s), ${k.pairsHit} pair(s) hit`,
    });
  }
  const violations = faults.flatMap((f) =>
    f.violations.map((v) => `${f.kind} @${new Date(f.startedAt).toISOString()}: ${v}`),
  );
  budgets.push({
    name: "every fault's own checks (repairs, CNI codes, daemons back, etcd back)",
    met: violations.length === 0,
    detail: violations.length ? violations.join('; ') : `${faults.length} faults, all checks held`,
  });
  const adds = input.churn.filter((o) => o.op === 'add');
  const dels = input.churn.filter((o) => o.op === 'del');
  const failed = input.churn.filter((o) => !o.ok);
  budgets.push({
    name: 'pod churn: every CNI ADD and DEL succeeds (quorum loss excepted: churn pauses)',
    met: failed.length === 0,
    detail: failed.length
      ? failed.map((o) => `${o.op} ${o.pod} on ${o.node}: ${failureText(o)}`).join('; ')
      : `${adds.length} ADDs, ${dels.length} DELs`,
  });
  const f = input.final;
  const finalBudget = (name: string, list: string[]) =>
    budgets.push({ name, met: list.length === 0, detail: list.length ? list.join('; ') : '0' });
  finalBudget('final: 0 duplicate addresses (etcd blocks, endpoints, pods)', f.duplicates);
  finalBudget('final: 0 leaked addresses after tricolorctl ipam check --repair', f.leaked);
  finalBudget('final: 0 ghost endpoints', f.ghosts);
  finalBudget('final: 0 routes or veths of deleted pods', f.leftovers);
  finalBudget('final: every live pod has its endpoint, address, veth and route', f.livePods);
  budgets.push({
    name: 'final: every pod pair answers, none lost in the last quiet seconds',
    met: input.unestablished.length === 0 && input.quietLosses.length === 0,
    detail:
      input.unestablished.length || input.quietLosses.length
        ? `never answered: ${input.unestablished.join(', ') || '-'}; lost while quiet: ${input.quietLosses.length}`
        : 'all pairs',
  });
  return {
    seed: input.seed,
    replay: replayCommand({ ...input.options, seed: input.seed }),
    options: input.options,
    startedAt: input.startedAt.toISOString(),
    chaosMs: input.chaosMs,
    probes: { ...input.probes, intervalMs: 100 },
    kinds,
    faults,
    lossesOutsideFaults: lossDetail(byFault.get('none') ?? []),
    churn: {
      adds: adds.length,
      addFailures: adds.filter((o) => !o.ok).length,
      dels: dels.length,
      delFailures: dels.filter((o) => !o.ok).length,
      addP50Ms: pct(
        adds.filter((o) => o.ok).map((o) => o.ms),
        50,
      ),
      addP99Ms: pct(
        adds.filter((o) => o.ok).map((o) => o.ms),
        99,
      ),
      ops: input.churn,
    },
    final: f,
    budgets,
    findings: faults.flatMap((x) => x.findings.map((m) => `${x.kind} on ${x.target}: ${m}`)),
    ok: budgets.every((b) => b.met),
  };
}

/** The command line that replays a run (same seed: same schedule, targets and churn decisions). */
export function replayCommand(o: ChaosReport['options'] & { seed: number }): string {
  const only = o.kinds ? ` --faults ${o.kinds.join(',')}` : '';
  return `npm run chaos -- --minutes ${o.minutes} --nodes ${o.nodes} --pods-per-node ${o.podsPerNode}${only} --seed ${o.seed}`;
}

/** The human-readable report: probes lost per fault kind, churn, final state, budgets. */
export function formatReport(r: ChaosReport): string {
  const out: string[] = [];
  out.push(
    `chaos: seed ${r.seed}, ${r.options.nodes} nodes, ${(r.chaosMs / 60_000).toFixed(1)} min of faults, ` +
      `${r.probes.sent} probes sent (${r.probes.lost} lost in all, losses before a pair's first answer not counted)`,
  );
  out.push('');
  out.push(
    textTable([
      [
        'FAULT KIND',
        'INJECTED',
        'PROBES LOST',
        'MAX IN ONE',
        'PAIRS HIT',
        'SLOWEST REPAIR',
        'CHECKS FAILED',
        'BUDGET',
      ],
      ...r.kinds.map((k) => [
        k.kind === 'none' ? '(none: churn only)' : k.kind,
        String(k.injected),
        String(k.lost),
        String(k.maxLostInOneFault),
        String(k.pairsHit),
        k.slowestRepairMs === undefined ? '-' : `${(k.slowestRepairMs / 1000).toFixed(2)} s`,
        String(k.violations),
        k.budget,
      ]),
    ]),
  );
  out.push('');
  out.push(
    `churn: ${r.churn.adds} ADDs (${r.churn.addFailures} failed, p50 ${r.churn.addP50Ms} ms, p99 ${r.churn.addP99Ms} ms), ` +
      `${r.churn.dels} DELs (${r.churn.delFailures} failed)`,
  );
  const c = r.final.counts;
  out.push(
    `final: ${c.livePods} live pods, ${c.gonePods} deleted, ${c.allocations} allocations, ${c.endpoints} endpoints (read with etcdctl and ip -json)`,
  );
  out.push('');
  out.push(
    textTable([
      ['BUDGET', 'MET', 'DETAIL'],
      ...r.budgets.map((b) => [b.name, b.met ? 'met' : 'MISSED', b.detail]),
    ]),
  );
  if (r.findings.length) {
    out.push('');
    out.push('findings (no budget, worth a look):');
    for (const f of r.findings) out.push(`  - ${f}`);
  }
  out.push('');
  out.push(r.ok ? `all budgets met (seed ${r.seed})` : `BUDGET MISSED — replay with: ${r.replay}`);
  return out.join('\n');
}
