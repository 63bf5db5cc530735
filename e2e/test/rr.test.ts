import { after, before, describe, test } from 'node:test';
import { isRoot } from '@tricolor/testkit';
import { Cluster } from '../src/cluster.js';
import { assertBgpRoutes, assertFullMesh } from './support.js';

describe('route reflector: 4 nodes, node-1 reflects, no mesh', {
  skip: isRoot() ? false : 'SKIPPED (not a pass): the e2e suite needs root',
}, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.up({ nodes: 4, mode: 'rr', routeReflectors: 1, fastTimers: true });
    for (const node of cluster.nodes.keys()) await cluster.createPod(node);
  });
  after(async () => {
    await cluster?.down();
  });

  test("clients learn each other's blocks through the reflector and pods reach each other", async () => {
    await assertBgpRoutes(cluster);
    await assertFullMesh(cluster);
  });
});
