/**
 * CNI ADD latency in a real 2-node cluster (BGP mesh): one pod at a time (each deleted before
 * the next: the plugin's own cost, felix's work for the pod overlapping it least), then
 * p50/p99 with many pods per node, and the time from a pod's ADD on node A until a pod on
 * node B gets its first echo reply.
 */
import type { BenchRow } from '@tricolor/testkit';
import { Cluster } from '../src/cluster.js';
import { percentile } from './stats.js';

export async function measureCni(podsPerNode: number, reachSamples: number): Promise<BenchRow[]> {
  const cluster = await Cluster.up({ nodes: 2, mode: 'mesh' });
  try {
    const single: number[] = [];
    for (let i = 0; i < Math.max(3, podsPerNode); i++) {
      const pod = await cluster.createPod('node-1', `single-${i}`);
      single.push(pod.addMs);
      await cluster.deletePod(pod.name);
    }
    const adds: number[] = [];
    for (let i = 0; i < podsPerNode; i++) {
      for (const node of cluster.nodes.keys()) adds.push((await cluster.createPod(node)).addMs);
    }
    const probe = [...cluster.pods.values()].find((p) => p.node === 'node-2')!;
    const reach: number[] = [];
    for (let i = 0; i < reachSamples; i++) {
      const t0 = performance.now();
      const pod = await cluster.createPod('node-1', `reach-${i}`);
      const addMs = performance.now() - t0;
      const pingMs = await cluster.firstReplyMs(probe, pod.ip, 30);
      if (pingMs === undefined) throw new Error(`pod ${pod.ip} unreachable after 30 s`);
      reach.push(addMs + pingMs);
    }
    const pods = `${adds.length} pods`;
    return [
      {
        row: `CNI ADD, one pod at a time, p50 (${single.length})`,
        figure: percentile(single, 50),
        unit: 'ms',
      },
      { row: `CNI ADD p50 (${pods})`, figure: percentile(adds, 50), unit: 'ms' },
      {
        row: `CNI ADD p99 (${pods})`,
        figure: percentile(adds, 99),
        unit: 'ms',
        target: { on: 'figure', op: '<', value: 500 },
      },
      {
        row: `ADD on node-1 → reply on node-2 p50 (${reach.length})`,
        figure: percentile(reach, 50),
        unit: 'ms',
      },
      {
        row: `ADD on node-1 → reply on node-2 p99 (${reach.length})`,
        figure: percentile(reach, 99),
        unit: 'ms',
        target: { on: 'figure', op: '<', value: 1000 },
      },
    ];
  } finally {
    await cluster.down();
  }
}
