import assert from 'node:assert/strict';
import type { Cluster } from '../src/cluster.js';

/** Asserts every pod reaches every other pod, waiting up to `ms` for routes to converge. */
export async function assertFullMesh(cluster: Cluster, ms = 30_000): Promise<void> {
  let last = new Map<string, boolean>();
  await cluster
    .waitFor(
      async () => {
        last = await cluster.pingMatrix();
        return [...last.values()].every(Boolean);
      },
      ms,
      'every pod to reach every other pod',
    )
    .catch(() => undefined);
  const failed = [...last].filter(([, ok]) => !ok).map(([pair]) => pair);
  assert.deepEqual(failed, [], `unreachable pod pairs: ${failed.join(', ')}`);
  assert.ok(last.size > 0, 'the matrix must have pairs');
}

/** The confirmed blocks of each node, from IPAM's affinities in etcd. */
export async function blocksByNode(cluster: Cluster): Promise<Map<string, string[]>> {
  const m = (await cluster.manifest()) as { nodes: { name: string; blocks: string[] }[] };
  return new Map(m.nodes.map((n) => [n.name, n.blocks]));
}

/**
 * Every node has `<block> via <owner address> proto bird` for every other node's block,
 * none for its own, and a blackhole for each block it owns.
 */
export async function assertBgpRoutes(cluster: Cluster, ms = 30_000): Promise<void> {
  let problems: string[] = [];
  await cluster
    .waitFor(
      async () => {
        problems = [];
        const blocks = await blocksByNode(cluster);
        for (const node of cluster.nodes.values()) {
          const routes = await cluster.routes(node.name);
          for (const [owner, cidrs] of blocks) {
            const ownerIp = cluster.nodes.get(owner)?.ip;
            for (const cidr of cidrs) {
              const learned = routes.filter((r) => r.dst === cidr && r.protocol === 'bird');
              if (owner === node.name) {
                if (learned.length) problems.push(`${node.name} has a BGP route for its own block ${cidr}`);
                if (!routes.some((r) => r.dst === cidr && r.type === 'blackhole'))
                  problems.push(`${node.name} lacks the blackhole for ${cidr}`);
              } else if (!learned.some((r) => r.gateway === ownerIp)) {
                problems.push(`${node.name} lacks ${cidr} via ${ownerIp} proto bird`);
              }
            }
          }
        }
        return problems.length === 0;
      },
      ms,
      'BGP routes on every node',
    )
    .catch(() => undefined);
  assert.deepEqual(problems, []);
}
