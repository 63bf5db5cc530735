import assert from 'node:assert/strict';
import { test } from 'node:test';
import { poolUsage } from '../src/ipam-usage.js';
import { pool } from './helpers.js';

test("ipam gauges: this node's blocks and allocations per pool, zero rows for pools without blocks", () => {
  const pools = [pool('a', '10.244.0.0/16'), pool('b', '10.245.0.0/16'), pool('v6', 'fd00:10::/64')];
  const usage = poolUsage(pools, [
    { cidr: '10.244.1.0/26', allocated: 3 },
    { cidr: '10.244.2.0/26', allocated: 0 },
    { cidr: 'fd00:10::/122', allocated: 1 },
    { cidr: '172.16.0.0/26', allocated: 9 }, // in no pool (deleted since): not counted
  ]);
  assert.deepEqual(usage, [
    { ippool: 'a', blocks: 2, inUse: 3 },
    { ippool: 'b', blocks: 0, inUse: 0 },
    { ippool: 'v6', blocks: 1, inUse: 1 },
  ]);
});
