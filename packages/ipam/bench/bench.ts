// IPAM allocation throughput and latency against a local etcd (spawned here via testkit).
// Run: npm run bench (in packages/ipam, after `npx tsc -b packages/ipam`).
import { randomUUID } from 'node:crypto';
import { configFromEnv, Datastore, type IPPool } from '@tricolor/datastore';
import { EtcdServer } from '@tricolor/testkit';
import { Ipam } from '../src/index.js';

interface Row {
  scenario: string;
  allocations: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
  max: number;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

async function scenario(
  etcd: EtcdServer,
  name: string,
  nodes: number,
  perNode: number,
  op: 'assign' | 'assign+release' = 'assign',
): Promise<Row> {
  const prefix = `/bench-${randomUUID().slice(0, 8)}/`;
  const stores = Array.from({ length: nodes }, () =>
    Datastore.connect(configFromEnv({}, { endpoints: [etcd.endpoint], prefix })),
  );
  await stores[0]!.apply({
    kind: 'IPPool',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: 'bench' },
    spec: { cidr: '10.128.0.0/12' },
  } as unknown as IPPool);
  const lat: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    stores.map(async (ds, n) => {
      // One Ipam per node, as one long-lived agent per node would hold (its block cache warm).
      const ipam = new Ipam(ds);
      for (let i = 0; i < perNode; i++) {
        const s = performance.now();
        await ipam.autoAssign({ node: `node-${n}`, handle: `k8s-pod-network.${n}-${i}` });
        if (op === 'assign+release') await ipam.releaseByHandle(`k8s-pod-network.${n}-${i}`);
        lat.push(performance.now() - s);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  for (const ds of stores) ds.close();
  lat.sort((a, b) => a - b);
  return {
    scenario: name,
    allocations: lat.length,
    seconds,
    perSecond: lat.length / seconds,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
    max: lat[lat.length - 1]!,
  };
}

const etcd = await EtcdServer.start();
try {
  // Warm-up (JIT, etcd connection).
  await scenario(etcd, 'warm-up', 1, 100);
  const rows = [
    await scenario(etcd, '1 node, sequential', 1, 2000),
    await scenario(etcd, '10 nodes, concurrent', 10, 300),
    await scenario(etcd, '1 node, assign+release', 1, 1000, 'assign+release'),
  ];
  const headers = ['scenario', 'allocations', 'seconds', 'allocs/s', 'p50 ms', 'p99 ms', 'max ms'];
  const cells = rows.map((r) => [
    r.scenario,
    String(r.allocations),
    r.seconds.toFixed(2),
    r.perSecond.toFixed(0),
    r.p50.toFixed(2),
    r.p99.toFixed(2),
    r.max.toFixed(2),
  ]);
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((c) => c[i]!.length)));
  const line = (c: string[]) =>
    `| ${c.map((x, i) => (i === 0 ? x.padEnd(widths[i]!) : x.padStart(widths[i]!))).join(' | ')} |`;
  console.log(`IPAM allocation bench (etcd ${etcd.endpoint}, pool /12, /26 blocks, node ${process.version})`);
  console.log(line(headers));
  console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  for (const c of cells) console.log(line(c));
  const one = rows[0]!;
  const ok = one.perSecond >= 300 && one.p99 < 50;
  console.log(
    `target (1 node: >= 300 allocs/s, p99 < 50 ms): ${ok ? 'met' : 'NOT met'} ` +
      `(${one.perSecond.toFixed(0)}/s, p99 ${one.p99.toFixed(2)} ms)`,
  );
} finally {
  await etcd.destroy();
}
