import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { isRoot } from '@tricolor/testkit';
import { Cluster } from '../src/cluster.js';
import { assertFullMesh } from './support.js';

describe('VXLAN: 3 nodes, no BGP at all', {
  skip: isRoot() ? false : 'SKIPPED (not a pass): the e2e suite needs root',
}, () => {
  let cluster: Cluster;
  before(async () => {
    cluster = await Cluster.up({ nodes: 3, mode: 'vxlan' });
    for (const node of cluster.nodes.keys()) await cluster.createPod(node);
  });
  after(async () => {
    await cluster?.down();
  });

  test('pods reach each other over vxlan.tricolor with no speaker running', async () => {
    for (const n of cluster.nodes.values()) assert.equal(n.bird, undefined);
    await assertFullMesh(cluster);
    const routes = await cluster.routes('node-1');
    assert.ok(
      routes.some((r) => r.dev === 'vxlan.tricolor'),
      'routes to other blocks go through the VXLAN device',
    );
    assert.ok(!routes.some((r) => r.protocol === 'bird'));
  });
});
