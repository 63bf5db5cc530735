import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectVeth, Netns, requireCommands, requireRoot } from '@tricolor/testkit';
import { addPod, Cluster, Felix, httpGet, routesIn } from './harness.js';
import { pool, until, wep } from './helpers.js';

test("etcd killed and restarted, then a compaction past felix's revision: no dataplane flap, convergence after", async (t) => {
  if (!requireRoot(t) || !requireCommands(t, 'iptables-nft-save', 'ipset', 'etcd')) return;
  const cluster = await Cluster.start();
  const n1 = await Netns.create('n1');
  const ext = await Netns.create('ext');
  const pods: Netns[] = [];
  let felix: Felix | undefined;
  let polling = true;
  let poller: Promise<void> | undefined;
  try {
    await connectVeth(n1, '192.168.51.1/24', ext, '192.168.51.100/24');
    await cluster.bridge.expose(n1, 2379);
    const ds = cluster.ds;
    await ds.create(pool('p', '10.244.0.0/16'));
    await cluster.claimBlock('n1', '10.244.1.0/26');
    const a = await addPod(n1, 'cali00000000aaa', '10.244.1.10');
    const b = await addPod(n1, 'cali00000000bbb', '10.244.1.11');
    const c = await addPod(n1, 'cali00000000ccc', '10.244.1.12');
    pods.push(a.ns, b.ns, c.ns);
    await ds.create(wep('a', 'n1', 'cali00000000aaa', '10.244.1.10/32', a.mac));
    felix = Felix.start(n1, {
      NODENAME: 'n1',
      IP: '192.168.51.1/24',
      FELIX_LOGSEVERITYSCREEN: process.env.FELIX_TEST_LOG ?? 'info',
    });
    const routeA = '10.244.1.10 dev cali00000000aaa proto 80 scope link';
    const blackhole = 'blackhole 10.244.1.0/26 proto 80';
    await until(async () => (await routesIn(n1)).includes(routeA), 30_000, 'first route');

    // Poll the kernel the whole time: felix must never remove what etcd still says.
    const missing: string[] = [];
    let polls = 0;
    poller = (async () => {
      while (polling) {
        const r = await routesIn(n1);
        polls++;
        if (!r.includes(routeA)) missing.push(`${new Date().toISOString()} route a`);
        if (!r.includes(blackhole)) missing.push(`${new Date().toISOString()} blackhole`);
        await new Promise((res) => setTimeout(res, 100));
      }
    })();

    // 1. etcd crashes for longer than two refresh intervals, then comes back.
    await cluster.etcd.kill();
    await new Promise((r) => setTimeout(r, 5000));
    assert.ok(felix.running, 'felix survives the outage');
    await cluster.etcd.restart();
    await ds.create(wep('b', 'n1', 'cali00000000bbb', '10.244.1.11/32', b.mac));
    await until(
      async () => (await routesIn(n1)).includes('10.244.1.11 dev cali00000000bbb proto 80 scope link'),
      30_000,
      'change after restart',
    );

    // 2. felix is cut off; meanwhile etcd moves on and compacts past felix's revision.
    cluster.proxy.partition();
    await new Promise((r) => setTimeout(r, 1000));
    await ds.delete('WorkloadEndpoint', 'b', 'default');
    await ds.create(wep('c', 'n1', 'cali00000000ccc', '10.244.1.12/32', c.mac));
    for (let i = 0; i < 5; i++)
      await ds.create(pool(`filler-${i}`, `10.${100 + i}.0.0/16`, { disabled: true }));
    const rev = await ds.kv.revision();
    await ds.etcd.kv.compact({ revision: rev, physical: true });
    await new Promise((r) => setTimeout(r, 3000));
    cluster.proxy.heal();
    await until(
      async () => {
        const r = await routesIn(n1);
        return (
          r.includes('10.244.1.12 dev cali00000000ccc proto 80 scope link') &&
          !r.some((l) => l.startsWith('10.244.1.11 '))
        );
      },
      30_000,
      'convergence after the compaction',
    ).catch((e) => {
      // FELIX_LOG_DUMP: what felix saw, to tell a watch that never resumed from a slow apply.
      process.stderr.write(`${felix!.log.slice(-40).join('\n')}\n`);
      throw e;
    });
    polling = false;
    await poller;
    assert.ok(polls > 50, `polled ${polls} times`);
    assert.deepEqual(missing, [], 'routes stayed the whole time');
    const m = await httpGet(n1, 'http://127.0.0.1:9091/metrics');
    const resyncs = Number(/^felix_resyncs_started (\d+)/m.exec(m.body)?.[1] ?? 0);
    assert.ok(resyncs >= 1, `felix_resyncs_started = ${resyncs}`);
    assert.ok(felix.running);
  } finally {
    polling = false;
    await poller?.catch(() => undefined);
    await felix?.stop();
    if (felix && process.env.FELIX_TEST_LOGS) console.error(felix.log.join('\n'));
    for (const p of pods) await p.destroy();
    await n1.destroy();
    await ext.destroy();
    await cluster.stop();
  }
});
