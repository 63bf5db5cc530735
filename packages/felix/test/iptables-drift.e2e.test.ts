import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectVeth, Netns, requireCommands, requireRoot } from '@tricolor/testkit';
import { Cluster, Felix, httpGet, saveIn } from './harness.js';
import { pool, until } from './helpers.js';

// With the refresh timer at 10 minutes, only the nft event stream can explain a repair.
test('nft backend: felix repairs its chains from kernel events within a second, and its own writes are not drift', async (t) => {
  if (
    !requireRoot(t) ||
    !requireCommands(t, 'iptables-nft-save', 'xtables-monitor', 'stdbuf', 'ipset', 'etcd')
  )
    return;
  const cluster = await Cluster.start();
  const n1 = await Netns.create('drift');
  const ext = await Netns.create('dext');
  let felix: Felix | undefined;
  try {
    await connectVeth(n1, '192.168.51.1/24', ext, '192.168.51.100/24');
    await cluster.bridge.expose(n1, 2379);
    await cluster.ds.create(pool('default-pool', '10.245.0.0/16', { natOutgoing: true }));
    felix = Felix.start(n1, {
      NODENAME: 'drift',
      IP: '192.168.51.1/24',
      FELIX_IPTABLESBACKEND: 'nft',
      FELIX_IPTABLESREFRESHINTERVAL: '600',
    });
    await until(
      async () => (await httpGet(n1, 'http://127.0.0.1:9099/readiness')).status === 200,
      30_000,
      'readiness',
    );
    const invalidRule = /^-A tri-FORWARD -m conntrack --ctstate INVALID/m;
    await until(async () => invalidRule.test(await saveIn(n1, 'filter')), 10_000, 'programmed');
    // felix's own restores (start-up, the pool's nat rules) were not taken for drift.
    await new Promise((r) => setTimeout(r, 1000));
    const rereads = () => felix!.log.filter((l) => l.includes('changed by another process')).length;
    assert.equal(rereads(), 0, 'no re-read for felix own writes');

    const repairs: Record<string, number> = {};
    const repaired = async (what: string, change: string[][], ok: (filter: string) => boolean) => {
      for (const args of change) await n1.exec('iptables-nft', args);
      const t0 = performance.now();
      await until(async () => ok(await saveIn(n1, 'filter')), 10_000, `${what} repaired`);
      repairs[what] = Math.round(performance.now() - t0);
    };
    await repaired('rule deleted', [['-D', 'tri-FORWARD', '1']], (f) => invalidRule.test(f));
    await repaired('chain flushed', [['-F', 'tri-FORWARD']], (f) => invalidRule.test(f));
    const hook = /^-A FORWARD .*-j tri-FORWARD$/m;
    assert.match((await saveIn(n1, 'filter')).match(/^-A FORWARD .*$/m)![0], hook, "felix's hook first");
    await repaired('hook deleted', [['-D', 'FORWARD', '1']], (f) => hook.test(f));
    await repaired(
      'rule inserted ahead of the hook',
      [['-I', 'FORWARD', '1', '-s', '203.0.113.7/32', '-j', 'ACCEPT']],
      (f) => /^-A FORWARD .*-j tri-FORWARD\n-A FORWARD -s 203.0.113.7\/32 -j ACCEPT$/m.test(f),
    );
    console.log(`nft drift repaired in (ms): ${JSON.stringify(repairs)}`);
    // Generous bound for a loaded machine; the ≤ 1 s figure is what the line above prints.
    for (const [what, ms] of Object.entries(repairs)) assert.ok(ms < 5000, `${what}: ${ms} ms`);
    assert.ok(rereads() >= 4, 'each repair came from an event');
    // The repairs themselves (felix's restores) did not start a loop of re-reads.
    const settled = rereads();
    await new Promise((r) => setTimeout(r, 1500));
    assert.equal(rereads(), settled, 'quiet after the repairs');
  } finally {
    await felix?.stop();
    if (felix && process.env.FELIX_TEST_LOGS) console.error(felix.log.join('\n'));
    await n1.destroy();
    await ext.destroy();
    await cluster.stop();
  }
});
