import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Datastore } from '@tricolor/datastore';
import { Netns, requireCommands, requireLinkKind, requireRoot, Segment } from '@tricolor/testkit';
import { addPod, Cluster, Felix, httpGet, routesIn } from './harness.js';
import { pool, until, wep } from './helpers.js';

interface IpamLike {
  autoAssign(o: { node: string; handle: string; num4: number }): Promise<{ ipv4: string[] }>;
}

async function ipam(ds: Datastore): Promise<IpamLike> {
  const spec = '@tricolor/ipam';
  const mod = (await import(spec)) as { Ipam: new (ds: Datastore) => IpamLike };
  return new mod.Ipam(ds);
}

test('VXLAN mode: pods on two nodes of one segment reach each other with no BGP at all', async (t) => {
  if (!requireRoot(t) || !requireLinkKind(t, 'vxlan') || !requireCommands(t, 'iptables-nft-save', 'bridge'))
    return;
  const cluster = await Cluster.start();
  const seg = await Segment.create('lan');
  const n1 = await Netns.create('n1');
  const n2 = await Netns.create('n2');
  const pods: Netns[] = [];
  const felixes: Felix[] = [];
  try {
    await seg.attach(n1, '192.168.70.1/24');
    await seg.attach(n2, '192.168.70.2/24');
    for (const [ns, gw] of [
      [n1, '192.168.70.254'],
      [n2, '192.168.70.254'],
    ] as const) {
      await ns.exec('ip', ['route', 'add', 'default', 'via', gw]);
      await cluster.bridge.expose(ns, 2379);
    }
    const ds = cluster.ds;
    await ds.create(pool('vx', '10.245.0.0/16', { vxlanMode: 'Always' }));
    const im = await ipam(ds);
    const ip1 = (await im.autoAssign({ node: 'n1', handle: 'pod-1', num4: 1 })).ipv4[0]!.split('/')[0]!;
    const ip2 = (await im.autoAssign({ node: 'n2', handle: 'pod-2', num4: 1 })).ipv4[0]!.split('/')[0]!;
    const p1 = await addPod(n1, 'cali1111111111a', ip1);
    const p2 = await addPod(n2, 'cali2222222222b', ip2);
    pods.push(p1.ns, p2.ns);
    await ds.create(wep('pod-1', 'n1', 'cali1111111111a', `${ip1}/32`, p1.mac));
    await ds.create(wep('pod-2', 'n2', 'cali2222222222b', `${ip2}/32`, p2.mac));
    felixes.push(Felix.start(n1, { NODENAME: 'n1', IP: '192.168.70.1/24' }));
    felixes.push(Felix.start(n2, { NODENAME: 'n2', IP: '192.168.70.2/24' }));

    // Each node gets a tunnel address from IPAM and a route to the other's block via vxlan.tricolor.
    const tunnel = async (n: string) =>
      until(async () => (await ds.get('Node', n))?.spec.vxlanTunnelAddress, 30_000, `${n} tunnel address`);
    const [t1, t2] = [await tunnel('n1'), await tunnel('n2')];
    const block2 = `${ip2.split('.').slice(0, 3).join('.')}.`;
    await until(
      async () =>
        (await routesIn(n1)).some(
          (l) => l.startsWith(block2) && l.includes(`via ${t2} dev vxlan.tricolor`) && l.includes('onlink'),
        ),
      30_000,
      'n1 route to n2 block',
    );
    const dev = (
      await n1.ipJson<{ mtu: number; linkinfo: { info_data: { id: number; port: number } } }[]>([
        '-d',
        'link',
        'show',
        'vxlan.tricolor',
      ])
    )[0]!;
    assert.equal(dev.linkinfo.info_data.id, 4096);
    assert.equal(dev.linkinfo.info_data.port, 4789);
    assert.equal(dev.mtu, 1450, 'host MTU 1500 - 50');
    const fdb = (await n1.exec('bridge', ['fdb', 'show', 'dev', 'vxlan.tricolor'])).stdout;
    assert.match(fdb, /dst 192\.168\.70\.2 .*permanent/);
    const neigh = (await n1.exec('ip', ['neigh', 'show', 'dev', 'vxlan.tricolor'])).stdout;
    assert.match(neigh, new RegExp(`${t2!.replace(/\./g, '\\.')} lladdr \\S+ PERMANENT`));
    assert.ok(t1);
    const r = await p1.ns.exec('ping', ['-c', '3', '-i', '0.2', '-W', '2', ip2], { allowFail: true });
    assert.equal(r.code, 0, `pod-1 → pod-2: ${r.stdout}${r.stderr}`);
    const back = await p2.ns.exec('ping', ['-c', '2', '-i', '0.2', '-W', '2', ip1], { allowFail: true });
    assert.equal(back.code, 0, `pod-2 → pod-1: ${back.stdout}`);
    // No BGP anywhere: no proto bird routes, nothing listening on 179.
    assert.ok(!(await routesIn(n1)).some((l) => l.includes('proto bird')));
    // IPAM gauges: n1's one block holds the pod's address and the tunnel address.
    await until(
      async () => {
        const m = (await httpGet(n1, 'http://127.0.0.1:9091/metrics')).body;
        return (
          m.includes('ipam_blocks{ippool="vx",node="n1"} 1') &&
          m.includes('ipam_allocations_in_use{ippool="vx",node="n1"} 2')
        );
      },
      10_000,
      'ipam_* gauges of n1',
    );
  } finally {
    for (const f of felixes) await f.stop();
    if (process.env.FELIX_TEST_LOGS) for (const f of felixes) console.error(f.log.join('\n'));
    for (const p of pods) await p.destroy();
    await n1.destroy();
    await n2.destroy();
    await seg.destroy();
    await cluster.stop();
  }
});
