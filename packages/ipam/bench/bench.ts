/**
 * IPAM against a real etcd (spawned here via testkit), one `Ipam` per node as a long-lived
 * agent holds it (its block cache warm):
 * - allocation throughput and latency, one node sequential and ten nodes at once, against the
 *   same client making bare guarded etcd writes (one create-if-absent transaction each) in
 *   the same run: the floor an allocation, itself at least one guarded write, cannot beat;
 * - from a fresh process each (the CNI plugin's case), a node's first address, which claims a
 *   block, and a second one into that block: latency against one guarded write, and the etcd
 *   transactions each makes (each one wakes every watcher of the keys, every node of a
 *   cluster: the cost that grows with the cluster).
 *
 *   npm run bench (in packages/ipam)      IPAM_BENCH_ALLOCATIONS=N for the sequential size
 */
import { randomUUID } from 'node:crypto';
import { configFromEnv, Datastore, type IPPool } from '@tricolor/datastore';
import { type BenchRow, benchSizes, benchSmoke, EtcdServer, printSummary } from '@tricolor/testkit';
import { Ipam } from '../src/index.js';

interface Timed {
  count: number;
  seconds: number;
  perSecond: number;
  p50: number;
  p99: number;
}

const pct = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;

function timed(lat: number[], seconds: number): Timed {
  lat.sort((a, b) => a - b);
  return {
    count: lat.length,
    seconds,
    perSecond: lat.length / seconds,
    p50: pct(lat, 50),
    p99: pct(lat, 99),
  };
}

function stores(etcd: EtcdServer, n: number): { prefix: string; all: Datastore[] } {
  const prefix = `/bench-${randomUUID().slice(0, 8)}/`;
  const all = Array.from({ length: n }, () =>
    Datastore.connect(configFromEnv({}, { endpoints: [etcd.endpoint], prefix })),
  );
  return { prefix, all };
}

/** `streams` clients at once, each making `perStream` calls of `op` in a row; every call timed. */
async function measure(
  all: Datastore[],
  perStream: number,
  op: (ds: Datastore, stream: number, i: number) => Promise<unknown>,
): Promise<Timed> {
  const lat: number[] = [];
  const t0 = performance.now();
  await Promise.all(
    all.map(async (ds, s) => {
      for (let i = 0; i < perStream; i++) {
        const t = performance.now();
        await op(ds, s, i);
        lat.push(performance.now() - t);
      }
    }),
  );
  return timed(lat, (performance.now() - t0) / 1000);
}

/** The floor: bare guarded writes (create-if-absent transactions) of a small value. */
async function guardedWrites(etcd: EtcdServer, streams: number, perStream: number): Promise<Timed> {
  const { prefix, all } = stores(etcd, streams);
  try {
    return await measure(all, perStream, (ds, s, i) =>
      ds.kv.create(`${prefix}w/${s}/${i}`, '{"state":"confirmed"}'),
    );
  } finally {
    for (const ds of all) ds.close();
  }
}

async function withPool<T>(
  etcd: EtcdServer,
  nodes: number,
  fn: (all: Datastore[], prefix: string) => Promise<T>,
) {
  const { prefix, all } = stores(etcd, nodes);
  try {
    await all[0]!.apply({
      kind: 'IPPool',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'bench' },
      spec: { cidr: '10.128.0.0/12' },
    } as unknown as IPPool);
    return await fn(all, prefix);
  } finally {
    for (const ds of all) ds.close();
  }
}

async function allocations(
  etcd: EtcdServer,
  nodes: number,
  perNode: number,
  release = false,
): Promise<Timed> {
  return withPool(etcd, nodes, (all) => {
    const ipams = all.map((ds) => new Ipam(ds));
    return measure(all, perNode, async (_ds, n, i) => {
      const handle = `k8s-pod-network.${n}-${i}`;
      await ipams[n]!.autoAssign({ node: `node-${n}`, handle });
      if (release) await ipams[n]!.releaseByHandle(handle);
    });
  });
}

type Counted = Timed & { transactions: number };

/**
 * Addresses from a fresh `Ipam` each (as the CNI plugin, one process per ADD, has): each of
 * `nodes` nodes' first address (a claim), one node after the other, then a second address
 * on each (into the block just claimed). The transactions are counted by a watch.
 */
async function coldAddresses(etcd: EtcdServer, nodes: number): Promise<{ first: Counted; second: Counted }> {
  return withPool(etcd, 1, async ([ds], prefix) => {
    const revisions = new Set<string>();
    const watcher = await ds!.etcd.watch().prefix(`${prefix}ipam/`).create();
    watcher.on('put', (kv) => revisions.add(kv.mod_revision));
    watcher.on('delete', (kv) => revisions.add(kv.mod_revision));
    const round = async (what: string): Promise<Counted> => {
      revisions.clear();
      const t = await measure([ds!], nodes, (d, _s, i) =>
        new Ipam(d).autoAssign({ node: `node-${i}`, handle: `k8s-pod-network.${what}-${i}` }),
      );
      // The watch delivers after the writes' answers.
      const lastRev = await ds!.kv.revision();
      for (let i = 0; i < 100 && ![...revisions].some((r) => BigInt(r) >= BigInt(lastRev)); i++)
        await new Promise((r) => setTimeout(r, 20));
      return { ...t, transactions: revisions.size / nodes };
    };
    try {
      return { first: await round('first'), second: await round('second') };
    } finally {
      await watcher.cancel();
    }
  });
}

const n1 = benchSmoke() ? 200 : benchSizes([2000], 'IPAM_BENCH_ALLOCATIONS')[0]!;
const perNode10 = Math.max(20, Math.round(n1 / 7));
const firsts = Math.max(10, Math.round(n1 / 40));

const etcd = await EtcdServer.start();
try {
  // Warm-up (JIT, etcd's first writes).
  await allocations(etcd, 1, 100);
  await guardedWrites(etcd, 1, 100);
  const w1 = await guardedWrites(etcd, 1, n1);
  const a1 = await allocations(etcd, 1, n1);
  const w10 = await guardedWrites(etcd, 10, perNode10);
  const a10 = await allocations(etcd, 10, perNode10);
  const ar = await allocations(etcd, 1, Math.round(n1 / 2), true);
  const { first, second } = await coldAddresses(etcd, firsts);
  const write1 = (what: string, figure: number) => ({ name: `guarded etcd write, ${what}`, figure });
  const rows: BenchRow[] = [
    {
      row: `1 node, ${a1.count} allocations in a row: throughput`,
      figure: a1.perSecond,
      unit: '/s',
      anchor: write1('1 client in a row', w1.perSecond),
      target: { on: 'figure', op: '>=', value: 300 },
    },
    {
      row: '1 node, in a row: latency p99',
      figure: a1.p99,
      unit: 'ms',
      anchor: write1('1 client in a row, p99', w1.p99),
      target: { on: 'figure', op: '<', value: 50 },
    },
    {
      row: `10 nodes at once, ${a10.count} allocations: throughput`,
      figure: a10.perSecond,
      unit: '/s',
      anchor: write1('10 clients at once', w10.perSecond),
    },
    {
      row: '10 nodes at once: latency p99',
      figure: a10.p99,
      unit: 'ms',
      anchor: write1('10 clients at once, p99', w10.p99),
    },
    {
      row: `1 node, ${ar.count} allocate + release in a row: throughput`,
      figure: ar.perSecond,
      unit: '/s',
      anchor: write1('1 client in a row', w1.perSecond),
    },
    {
      row: `a node's first address (claims a block), ${first.count} nodes in a row: latency p50`,
      figure: first.p50,
      unit: 'ms',
      anchor: write1('1 client in a row, p50', w1.p50),
    },
    {
      row: "a node's first address: etcd transactions (each wakes every watcher)",
      figure: first.transactions,
      unit: 'txn',
      target: { on: 'figure', op: '<=', value: 1 },
    },
    {
      row: `a fresh process's address in the node's block (a CNI ADD's), ${second.count} in a row: latency p50`,
      figure: second.p50,
      unit: 'ms',
      anchor: write1('1 client in a row, p50', w1.p50),
    },
    {
      row: "a fresh process's address: etcd transactions",
      figure: second.transactions,
      unit: 'txn',
      target: { on: 'figure', op: '<=', value: 1 },
    },
  ];
  printSummary(`IPAM (etcd ${etcd.endpoint}, pool /12, /26 blocks, Node ${process.version})`, rows);
} finally {
  await etcd.destroy();
}
