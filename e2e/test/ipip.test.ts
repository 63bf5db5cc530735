import { describe, test } from 'node:test';
import { isRoot, kernelHasLinkKind } from '@tricolor/testkit';
import { Cluster } from '../src/cluster.js';
import { assertFullMesh } from './support.js';

const why = !isRoot()
  ? 'SKIPPED (not a pass): the e2e suite needs root'
  : !kernelHasLinkKind('ipip')
    ? 'SKIPPED (not a pass): this kernel cannot create ipip devices, so IPIP mode cannot run here (its code paths are unit-tested in felix and bird)'
    : false;
if (why) process.stderr.write(`\n*** ${why} ***\n`);

describe('IPIP: 2 nodes over tunl0', { skip: why }, () => {
  test('pods reach each other through tunl0', async () => {
    const cluster = await Cluster.up({ nodes: 2, mode: 'ipip' });
    try {
      for (const node of cluster.nodes.keys()) await cluster.createPod(node);
      await assertFullMesh(cluster);
    } finally {
      await cluster.down();
    }
  });
});
