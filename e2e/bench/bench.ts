/**
 * `npm run bench` in e2e: CNI ADD latency (p50/p99) with 50 pods per node, and the time from
 * a pod's ADD on node A until a pod on node B can ping it (BGP mesh), in a real 2-node cluster.
 */
import { isRoot } from '@tricolor/testkit';
import { Cluster } from '../src/cluster.js';

const PODS_PER_NODE = Number(process.env.BENCH_PODS_PER_NODE ?? 50);
const REACH_SAMPLES = Number(process.env.BENCH_REACH_SAMPLES ?? 10);

function pct(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))]!;
}

async function main(): Promise<void> {
  if (!isRoot()) {
    console.error('bench: needs root (network namespaces); nothing measured');
    process.exit(1);
  }
  const cluster = await Cluster.up({ nodes: 2, mode: 'mesh' });
  try {
    const adds: number[] = [];
    for (let i = 0; i < PODS_PER_NODE; i++) {
      for (const node of cluster.nodes.keys()) adds.push((await cluster.createPod(node)).addMs);
    }
    const probe = [...cluster.pods.values()].find((p) => p.node === 'node-2')!;
    const reach: number[] = [];
    for (let i = 0; i < REACH_SAMPLES; i++) {
      const t0 = performance.now();
      const pod = await cluster.createPod('node-1', `reach-${i}`);
      const addMs = performance.now() - t0;
      const pingMs = await cluster.firstReplyMs(probe, pod.ip, 30);
      if (pingMs === undefined) throw new Error(`pod ${pod.ip} unreachable after 30 s`);
      reach.push(addMs + pingMs);
    }
    console.log(
      `CNI ADD latency, ${adds.length} pods (${PODS_PER_NODE} per node): p50 ${pct(adds, 50).toFixed(0)} ms, p99 ${pct(adds, 99).toFixed(0)} ms, max ${Math.max(...adds).toFixed(0)} ms (target p99 < 500 ms)`,
    );
    console.log(
      `ADD on node-1 until a pod on node-2 pings it, ${reach.length} samples: p50 ${pct(reach, 50).toFixed(0)} ms, p99 ${pct(reach, 99).toFixed(0)} ms (target < 1000 ms; includes the ADD itself)`,
    );
  } finally {
    await cluster.down();
  }
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
