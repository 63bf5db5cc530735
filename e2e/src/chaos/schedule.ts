import type { Rng } from './random.js';

/** Every kind of fault the chaos run injects. */
export const FAULT_KINDS = [
  'bird-sigkill',
  'bird-sigterm',
  'felix-sigkill',
  'felix-sigterm',
  'etcd-member-kill',
  'etcd-quorum-loss',
  'cni-add-killed',
  'drift-pod-route',
  'drift-bgp-route',
  'drift-blackhole',
  'drift-chain',
  'drift-ipset',
  'drift-sysctl',
  'malformed-update',
] as const;

export type FaultKind = (typeof FAULT_KINDS)[number];

/** What a fault promises about the data plane and how long its window is. */
export interface FaultSpec {
  /** Probes between established pods may not be lost across this fault (the run's budget). */
  zeroLoss: boolean;
  /** Typical length of the window in ms (injection to healed), for planning. */
  typicalMs: number;
  /** Kernel drift: what repairs it, and the time it must take at most (ms). */
  repairBudgetMs?: number;
  describe: string;
}

export const FAULTS: Record<FaultKind, FaultSpec> = {
  'bird-sigkill': { zeroLoss: true, typicalMs: 9_000, describe: 'bird SIGKILLed, restarted 1–3 s later' },
  'bird-sigterm': { zeroLoss: true, typicalMs: 9_000, describe: 'bird SIGTERMed, restarted 1–3 s later' },
  'felix-sigkill': { zeroLoss: true, typicalMs: 8_000, describe: 'felix SIGKILLed, restarted 1–3 s later' },
  'felix-sigterm': { zeroLoss: true, typicalMs: 8_000, describe: 'felix SIGTERMed, restarted 1–3 s later' },
  'etcd-member-kill': {
    zeroLoss: true,
    typicalMs: 12_000,
    describe: 'one etcd member SIGKILLed (sometimes the leader), restarted 3–6 s later',
  },
  'etcd-quorum-loss': {
    zeroLoss: true,
    typicalMs: 35_000,
    describe: 'two of three etcd members down for 20 s: a CNI ADD fails with 101, then succeeds',
  },
  'cni-add-killed': {
    zeroLoss: true,
    typicalMs: 5_000,
    describe: 'a CNI ADD SIGKILLed midway, then retried or deleted as kubelet would',
  },
  'drift-pod-route': {
    zeroLoss: false,
    typicalMs: 10_000,
    repairBudgetMs: 15_000,
    describe: "a pod's /32 route deleted (felix repairs)",
  },
  'drift-bgp-route': {
    zeroLoss: false,
    typicalMs: 14_000,
    repairBudgetMs: 15_000,
    describe: "another node's block route (proto bird) deleted (bird repairs)",
  },
  'drift-blackhole': {
    zeroLoss: false,
    typicalMs: 10_000,
    repairBudgetMs: 15_000,
    describe: "the node's block blackhole deleted (felix repairs)",
  },
  'drift-chain': {
    zeroLoss: false,
    typicalMs: 10_000,
    repairBudgetMs: 15_000,
    describe: "one of felix's iptables chains flushed (felix repairs)",
  },
  'drift-ipset': {
    zeroLoss: false,
    typicalMs: 10_000,
    repairBudgetMs: 15_000,
    describe: "one of felix's ipsets flushed (felix repairs)",
  },
  'drift-sysctl': {
    zeroLoss: false,
    typicalMs: 10_000,
    repairBudgetMs: 15_000,
    describe: "proxy_arp switched off on a pod's host interface (felix repairs)",
  },
  'malformed-update': {
    zeroLoss: true,
    typicalMs: 8_000,
    describe: 'an external peer sends malformed UPDATEs to one node (RFC 7606 / RFC 4271 reactions)',
  },
};

export interface PlannedFault {
  /** Offset from the start of the chaos phase (ms). */
  atMs: number;
  kind: FaultKind;
  /** Index into the nodes (0-based), the etcd members or the malformed cases, as the kind needs. */
  target: number;
  /** How long the fault is held before healing (ms), where that applies. */
  holdMs: number;
}

/**
 * One fault at a time, so each probe lost falls in at most one fault's window. Kinds come in
 * seeded round-robin order (every kind once before any twice), each window its typical
 * length plus a pause of 1–3 s; faults that would not end within the run are left out.
 */
export function planSchedule(
  rng: Rng,
  durationMs: number,
  nodes: number,
  etcdMembers: number,
  kinds: readonly FaultKind[] = FAULT_KINDS,
): PlannedFault[] {
  const out: PlannedFault[] = [];
  let at = 2_000;
  let round: FaultKind[] = [];
  for (;;) {
    if (round.length === 0) round = rng.shuffle(kinds);
    const kind = round.shift()!;
    const spec = FAULTS[kind];
    if (at + spec.typicalMs > durationMs) {
      // Another kind may still fit; stop once the shortest cannot.
      const shortest = Math.min(...round.map((k) => FAULTS[k].typicalMs), Number.POSITIVE_INFINITY);
      if (at + shortest > durationMs || round.length === 0) break;
      continue;
    }
    const target = kind.startsWith('etcd-member') ? rng.int(0, etcdMembers - 1) : rng.int(0, nodes - 1);
    const holdMs =
      kind === 'etcd-quorum-loss'
        ? 20_000
        : kind === 'etcd-member-kill'
          ? rng.int(3_000, 6_000)
          : rng.int(1_000, 3_000);
    out.push({ atMs: at, kind, target, holdMs });
    at += spec.typicalMs + rng.int(1_000, 3_000);
  }
  return out;
}
