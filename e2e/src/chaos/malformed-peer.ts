import { fileURLToPath } from 'node:url';
import { Netns } from '@tricolor/testkit';
import type { Cluster, NodeHandle } from '../cluster.js';
import { type Injector, nodeAt } from './fault.js';
import {
  MALFORMED_CASES,
  type Observed,
  observedText,
  type Reaction,
  reactionText,
} from './malformed-cases.js';

const SPEAKER = fileURLToPath(new URL('./speaker.js', import.meta.url));
const PEER_NAME = 'chaos-malformed-peer';
const PEER_AS = 65099;

export interface CaseOutcome {
  case: string;
  rule: string;
  expect: Reaction;
  observed: Observed;
  ok: boolean;
}

/**
 * An external BGP peer of one node at a time (a BGPPeer resource naming the node, present only
 * while the fault lasts, so the node's readiness is not held by a peer that is not there), in
 * its own namespace on the nodes' segment; the raw speaker (speaker.ts) plays the cases.
 */
export class MalformedPeer {
  private constructor(
    private readonly cluster: Cluster,
    readonly ns: Netns,
    readonly ip: string,
  ) {}

  static async create(cluster: Cluster, ip = '192.168.200.250'): Promise<MalformedPeer> {
    const ns = await Netns.create('bgpx');
    await cluster.segment.attach(ns, `${ip}/24`);
    return new MalformedPeer(cluster, ns, ip);
  }

  async play(node: NodeHandle, cases: string[]): Promise<CaseOutcome[]> {
    await this.cluster.ds.apply({
      kind: 'BGPPeer',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: PEER_NAME },
      spec: { peerIP: this.ip, asNumber: PEER_AS, node: node.name },
    });
    try {
      const r = await this.ns.exec(
        process.execPath,
        [SPEAKER, JSON.stringify({ nodeIp: node.ip, localIp: this.ip, as: PEER_AS, cases })],
        { allowFail: true, timeoutMs: 40_000 * cases.length },
      );
      const out = r.stdout
        .split('\n')
        .filter((l) => l.trim())
        .map((l) => JSON.parse(l) as CaseOutcome);
      if (out.length !== cases.length)
        throw new Error(`speaker: ${out.length} of ${cases.length} cases reported; ${r.stderr}`);
      return out;
    } finally {
      await this.cluster.ds.delete('BGPPeer', PEER_NAME).catch(() => undefined);
    }
  }

  async destroy(): Promise<void> {
    await this.cluster.ds.delete('BGPPeer', PEER_NAME).catch(() => undefined);
    await this.ns.destroy();
  }
}

/**
 * An external peer of one node sends malformed UPDATEs (two cases per fault, seeded). Budget:
 * the node's bird neither crashes nor restarts and no probe is lost (its other sessions carry
 * on). A reaction other than the standard's is recorded as a finding for the BGP code.
 */
export const malformedUpdates: Injector = async (ctx, plan) => {
  const node = nodeAt(ctx, plan.target);
  const peer = await ctx.malformedPeer();
  const cases = ctx.rng.shuffle(MALFORMED_CASES.map((c) => c.name)).slice(0, 2);
  const pid = node.bird?.pid;
  const startedAt = Date.now();
  const outcomes = await peer.play(node, cases);
  const violations: string[] = [];
  if (!node.bird?.running || node.bird.pid !== pid)
    violations.push(
      `bird on ${node.name} died or restarted while receiving malformed UPDATEs (${cases.join(', ')})`,
    );
  const findings = outcomes
    .filter((o) => !o.ok)
    .map(
      (o) =>
        `${o.case}: ${node.name} answered with ${observedText(o.observed)}; ${o.rule} requires ${reactionText(o.expect)}`,
    );
  return {
    target: node.name,
    startedAt,
    healedAt: Date.now(),
    details: { cases: outcomes.map((o) => ({ case: o.case, observed: observedText(o.observed), ok: o.ok })) },
    violations,
    findings,
  };
};
