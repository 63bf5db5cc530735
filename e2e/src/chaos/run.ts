import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { Cluster } from '../cluster.js';
import { Churn, type ChurnOp } from './churn.js';
import { cniAddKilled } from './cni-faults.js';
import { daemonRestart } from './daemon-faults.js';
import { kernelDrift } from './drift.js';
import { etcdMemberKill, etcdQuorumLoss } from './etcd-faults.js';
import { daemonsReady, type FaultContext, type FaultResult, type Injector, sleep } from './fault.js';
import { MalformedPeer, malformedUpdates } from './malformed-peer.js';
import { failureText, PodManager } from './pods.js';
import { ProbeHub } from './probes.js';
import { Rng } from './random.js';
import { buildReport, type ChaosReport } from './report.js';
import { FAULTS, type FaultKind, planSchedule } from './schedule.js';
import { finalCheck } from './verify.js';

export interface ChaosOptions {
  /** Where the daemons' logs are copied at the end (felix.log, bird.log per node). */
  logDir?: string;
  minutes: number;
  nodes: number;
  seed: number;
  podsPerNode: number;
  /** Only these kinds (default: all). */
  kinds?: readonly FaultKind[];
  log: (line: string) => void;
}

const INJECTORS: Record<FaultKind, Injector> = {
  'bird-sigkill': daemonRestart('bird', 'SIGKILL'),
  'bird-sigterm': daemonRestart('bird', 'SIGTERM'),
  'felix-sigkill': daemonRestart('felix', 'SIGKILL'),
  'felix-sigterm': daemonRestart('felix', 'SIGTERM'),
  'etcd-member-kill': etcdMemberKill,
  'etcd-quorum-loss': etcdQuorumLoss,
  'cni-add-killed': cniAddKilled,
  'drift-pod-route': kernelDrift('drift-pod-route'),
  'drift-bgp-route': kernelDrift('drift-bgp-route'),
  'drift-blackhole': kernelDrift('drift-blackhole'),
  'drift-chain': kernelDrift('drift-chain'),
  'drift-ipset': kernelDrift('drift-ipset'),
  'drift-sysctl': kernelDrift('drift-sysctl'),
  'malformed-update': malformedUpdates,
};

/** Seconds after a fault is healed and the daemons are ready before its window closes. */
const SETTLE_MS = 3_000;
/** The final quiet period in which no probe may be lost. */
const QUIET_MS = 5_000;

/**
 * The chaos run: a cluster in network namespaces on a 3-member etcd cluster (TLS), a prober in
 * every pod probing every other pod every 100 ms, pod churn through the CNI plugin, and one
 * fault at a time from the seeded schedule; then the end state is checked against etcd and
 * the kernel, and every budget judged.
 */
export async function runChaos(o: ChaosOptions): Promise<ChaosReport> {
  const rng = new Rng(o.seed);
  const schedule = planSchedule(rng.fork(1), o.minutes * 60_000, o.nodes, 3, o.kinds);
  o.log(
    `chaos: seed ${o.seed}; ${schedule.length} faults planned: ${schedule.map((p) => p.kind).join(', ')}`,
  );
  const startedAt = new Date();
  const cluster = await Cluster.up({
    nodes: o.nodes,
    mode: 'mesh',
    fastTimers: true,
    etcdMembers: 3,
    log: o.log,
  });
  const hub = new ProbeHub(o.log);
  let peer: MalformedPeer | undefined;
  try {
    const pods = new PodManager(cluster, hub);
    const setupOps: ChurnOp[] = [];
    for (const node of cluster.nodes.keys())
      for (let i = 0; i < o.podsPerNode; i++) {
        const at = Date.now();
        const r = await pods.create(node);
        if (!r.ok) throw new Error(`setup: ADD on ${node} failed: ${failureText(r)}`);
        pods.core.add(r.sandbox.name);
        setupOps.push({ at, op: 'add', pod: r.sandbox.name, node, ok: true, ms: Math.round(r.ms) });
      }
    const missing = await hub.waitEstablished(60_000);
    if (missing.length) throw new Error(`setup: pods do not reach each other: ${missing.join(', ')}`);
    o.log(`chaos: ${cluster.pods.size} pods probing each other every 100 ms; faults start`);
    const churn = new Churn(pods, rng.fork(2), { min: 1, max: o.nodes * 2 }, o.log);
    const ctx: FaultContext = {
      cluster,
      pods,
      churn,
      rng: rng.fork(3),
      log: o.log,
      malformedPeer: async () => {
        peer ??= await MalformedPeer.create(cluster);
        return peer;
      },
    };
    churn.start();
    const t0 = Date.now();
    const results: FaultResult[] = [];
    let skipped = 0;
    for (const plan of schedule) {
      // Faults take longer than planned on a loaded machine: the run still ends on time.
      if (Date.now() - t0 + FAULTS[plan.kind].typicalMs > o.minutes * 60_000) {
        skipped++;
        continue;
      }
      const wait = t0 + plan.atMs - Date.now();
      if (wait > 0) await sleep(wait);
      o.log(
        `fault: ${plan.kind} (${FAULTS[plan.kind].describe}), target ${plan.target}, hold ${plan.holdMs} ms`,
      );
      let r: Omit<FaultResult, 'settledAt' | 'kind'>;
      try {
        r = await INJECTORS[plan.kind](ctx, plan);
      } catch (e) {
        const now = Date.now();
        r = {
          target: String(plan.target),
          startedAt: now,
          healedAt: now,
          details: {},
          violations: [`could not inject: ${(e as Error).message}`],
          findings: [],
        };
      }
      const lagging = await daemonsReady(cluster, 60_000);
      if (lagging.length) r.violations.push(`not ready 60 s after the fault: ${lagging.join(', ')}`);
      await sleep(SETTLE_MS);
      const result: FaultResult = { ...r, kind: plan.kind, settledAt: Date.now() };
      results.push(result);
      o.log(
        `fault: ${plan.kind} on ${r.target} done in ${((result.settledAt - r.startedAt) / 1000).toFixed(1)} s${r.violations.length ? `: ${r.violations.join('; ')}` : ''}`,
      );
    }
    const chaosMs = Date.now() - t0;
    if (skipped) o.log(`chaos: ${skipped} planned fault(s) left out: the run's time was up`);
    await churn.stop();
    o.log('chaos: faults over; waiting for every pair to answer, then a quiet period');
    const unestablished = await hub.waitEstablished(60_000);
    const quietFrom = Date.now();
    await sleep(QUIET_MS);
    const quietLosses = hub.losses.filter((l) => l.at >= quietFrom);
    const probes = hub.totals();
    await hub.stopAll();
    const final = await finalCheck(cluster, pods.gone);
    return buildReport({
      seed: o.seed,
      options: { minutes: o.minutes, nodes: o.nodes, podsPerNode: o.podsPerNode, kinds: o.kinds },
      startedAt,
      chaosMs,
      faults: results,
      losses: hub.losses.filter((l) => l.at < quietFrom),
      probes,
      churn: [...setupOps, ...churn.ops],
      final,
      quietLosses,
      unestablished,
    });
  } finally {
    await hub.stopAll().catch(() => undefined);
    await peer?.destroy().catch(() => undefined);
    if (o.logDir) {
      for (const n of cluster.nodes.values())
        for (const f of ['felix.log', 'bird.log'])
          cpSync(join(n.dir, f), join(o.logDir, n.name, f), { force: true });
    }
    await cluster.down();
  }
}
