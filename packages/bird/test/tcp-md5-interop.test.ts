/**
 * BGP passwords (TCP MD5, RFC 2385) against real speakers in network namespaces: BIRD 2 and
 * GoBGP with a password, each session in both directions (the peer connects to our keyed
 * listener over IPv4 — a dual-stack listener keyed with ::ffff:a.b.c.d — and we connect out
 * over IPv6 with a keyed socket); routes cross both ways. A wrong or missing password
 * never gets a session: the kernels drop the segments (counted in /proc/net/netstat
 * TCPMD5Failure / TCPMD5NotFound / TCPMD5Unexpected) and the sessions stay Connect/Active.
 * etcd mode: a mesh whose BGPConfiguration names its password with Calico's secretKeyRef,
 * read from a Secret laid out as files, and a rotated password taking effect.
 */
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { configFromEnv, Datastore } from '@tricolor/datastore';
import {
  Daemon,
  EtcdServer,
  LoopbackBridge,
  type Netns,
  requireCommands,
  requireRoot,
  startBird,
  startGobgp,
  waitFor,
} from '@tricolor/testkit';
import { query } from '../src/control/client.js';
import { BIRD_JS, BIRDC_JS, learned, protocols, scene, startOurs, waitEstablished } from './helpers.js';

const PASSWORD = 'tricolor-md5 s3cret!';

/** The kernel's TCP MD5 counters in a namespace. */
async function md5Counters(ns: Netns): Promise<Record<string, number>> {
  const text = (await ns.exec('cat', ['/proc/net/netstat'])).stdout;
  const lines = text.split('\n').filter((l) => l.startsWith('TcpExt:'));
  const names = lines[0]!.split(/\s+/).slice(1);
  const values = lines[1]!.split(/\s+/).slice(1).map(Number);
  const out: Record<string, number> = {};
  names.forEach((n, i) => {
    if (n.startsWith('TCPMD5')) out[n] = values[i]!;
  });
  return out;
}

const total = (c: Record<string, number>) => Object.values(c).reduce((a, b) => a + b, 0);

/** Our speaker: 10.60.0.1 AS 64512 on [::]:179, BIRD/GoBGP at 10.60.0.2 (they connect) and 2001:db8:60::2 (we connect). */
function ourArgs(dir: string, password: string, peerAs: string): string[] {
  const file = join(dir, 'bgp-password');
  writeFileSync(file, `${password}\n`, { mode: 0o600 });
  return [
    '--router-id',
    '10.60.0.1',
    '--as',
    '64512',
    '--listen',
    '[::]:179',
    '--peer',
    `10.60.0.2:${peerAs},passive,password-file=${file}`,
    '--peer',
    `[2001:db8:60::2]:${peerAs},password-file=${file}`,
    '--export',
    '10.80.1.0/24',
    '--export',
    '2001:db8:80::/48',
    '--connect-retry',
    '1',
    '--connect-delay',
    '0',
    '--no-graceful-restart',
    '--no-kernel',
  ];
}

/** GoBGP at 10.60.0.2: it connects to 10.60.0.1, and waits for 2001:db8:60::1 when `v6` (passive). */
function gobgpToml(as: number, password: string | undefined, v6: boolean): string {
  const auth = password === undefined ? '' : `\n    auth-password = "${password}"`;
  const neighbor = (address: string, family: string, more: string) => `[[neighbors]]
  [neighbors.config]
    neighbor-address = "${address}"
    peer-as = 64512${auth}
${more}  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "${family}"
`;
  return `[global.config]
  as = ${as}
  router-id = "10.60.0.2"
${neighbor('10.60.0.1', 'ipv4-unicast', '  [neighbors.timers.config]\n    connect-retry = 1\n')}${
  v6
    ? neighbor('2001:db8:60::1', 'ipv6-unicast', '  [neighbors.transport.config]\n    passive-mode = true\n')
    : ''
}`;
}

/** Which end opened each of our sessions: address → incoming | outgoing. */
async function directions(ctl: string): Promise<Record<string, string>> {
  const all = (await query(ctl, 'show protocols', ['all'])) as { address: string; connection: string }[];
  return Object.fromEntries(all.map((p) => [p.address, p.connection]));
}

const BOTH_WAYS = { '10.60.0.2': 'incoming', '2001:db8:60::2': 'outgoing' };

const birdConfig = (password: string) => `router id 10.60.0.2;
protocol device {}
protocol static s4 { ipv4; route 10.70.1.0/24 blackhole; }
protocol static s6 { ipv6; route 2001:db8:70::/48 blackhole; }
protocol bgp us4 { local 10.60.0.2 as 64512; neighbor 10.60.0.1 as 64512; direct; ${password}
  connect delay time 1; connect retry time 1; ipv4 { import all; export all; next hop self; }; }
protocol bgp us6 { local 2001:db8:60::2 as 64512; neighbor 2001:db8:60::1 as 64512; direct; passive on; ${password}
  ipv6 { import all; export all; next hop self; }; }
`;

describe('TCP MD5 (RFC 2385)', { concurrency: false }, () => {
  test('BIRD 2 with a password: BIRD connects over IPv4, we connect over IPv6, routes both ways', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'bird', 'birdc')) return;
    await scene('md5-bird', async ({ us, them, dir, daemons }) => {
      const bird = await startBird(them, { dir, config: birdConfig(`password "${PASSWORD}";`) });
      daemons.push(bird.daemon);
      const { d, ctl } = await startOurs(us, dir, 'us', ourArgs(dir, PASSWORD, '64512'));
      daemons.push(d);
      await waitEstablished(ctl, 2);
      const ps = await protocols(ctl);
      assert.deepEqual(ps.map((p) => [p.address, p.state]).sort(), [
        ['10.60.0.2', 'Established'],
        ['2001:db8:60::2', 'Established'],
      ]);
      await waitFor('BIRD routes in our RIB', async () => {
        const l = await learned(ctl);
        return l.get('10.70.1.0/24') === '10.60.0.2' && l.get('2001:db8:70::/48') === '2001:db8:60::2';
      });
      await waitFor('our routes in BIRD', async () => {
        const out = await bird.birdc('show route');
        return out.includes('10.80.1.0/24') && out.includes('2001:db8:80::/48');
      });
      // BIRD's IPv4 session came in to our keyed listener, the IPv6 one went out from our keyed socket.
      assert.deepEqual(await directions(ctl), BOTH_WAYS);
      const shown = (await us.exec(process.execPath, [BIRDC_JS, '-s', ctl, 'show', 'protocols', 'all']))
        .stdout;
      assert.equal(shown.match(/Authentication: +TCP MD5 \(RFC 2385\)/g)?.length, 2, shown);
      assert.ok(!shown.includes(PASSWORD), 'the password is never shown');
      // Both kernels checked every segment and found none bad.
      assert.equal(total(await md5Counters(us)), 0, JSON.stringify(await md5Counters(us)));
    });
  });

  test('GoBGP with a password (eBGP): GoBGP connects over IPv4, we connect over IPv6, routes both ways', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'gobgpd', 'gobgp')) return;
    await scene('md5-gobgp', async ({ us, them, dir, daemons }) => {
      const peer = await startGobgp(them, {
        dir,
        logLevel: 'info',
        toml: gobgpToml(65002, PASSWORD, true),
      });
      daemons.push(peer.daemon);
      const gobgp = (...args: string[]) => peer.gobgp(args, { allowFail: true });
      await gobgp('global', 'rib', 'add', '10.71.1.0/24', '-a', 'ipv4');
      await gobgp('global', 'rib', 'add', '2001:db8:71::/48', '-a', 'ipv6');
      const { d, ctl } = await startOurs(us, dir, 'us', ourArgs(dir, PASSWORD, '65002'));
      daemons.push(d);
      await waitEstablished(ctl, 2);
      await waitFor('GoBGP routes in our RIB', async () => {
        const l = await learned(ctl);
        return l.get('10.71.1.0/24') === '10.60.0.2' && l.get('2001:db8:71::/48') === '2001:db8:60::2';
      });
      await waitFor('our routes in GoBGP', async () => {
        const v4 = (await gobgp('global', 'rib', '-a', 'ipv4')).stdout;
        const v6 = (await gobgp('global', 'rib', '-a', 'ipv6')).stdout;
        return /10\.80\.1\.0\/24\s+10\.60\.0\.1\s+64512/.test(v4) && v6.includes('2001:db8:80::/48');
      });
      const nb = (await gobgp('neighbor')).stdout;
      assert.equal(nb.match(/Establ/g)?.length, 2, nb);
      assert.deepEqual(await directions(ctl), BOTH_WAYS);
      assert.equal(total(await md5Counters(us)), 0, JSON.stringify(await md5Counters(us)));
    });
  });

  test('a wrong password, or none, gets no session: the kernel drops the segments', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'bird', 'birdc', 'gobgpd', 'gobgp')) return;
    // BIRD signs with another password; then GoBGP does not sign at all.
    await scene('md5-wrong', async ({ us, them, dir, daemons }) => {
      const bird = await startBird(them, { dir, config: birdConfig('password "not-the-password";') });
      daemons.push(bird.daemon);
      const { d, ctl } = await startOurs(us, dir, 'us', ourArgs(dir, PASSWORD, '64512'));
      daemons.push(d);
      // Both directions tried several times (connect retry 1 s on both sides).
      await waitFor(
        'segments with a bad signature dropped by both kernels',
        async () =>
          (await md5Counters(us)).TCPMD5Failure! >= 2 && (await md5Counters(them)).TCPMD5Failure! >= 2,
        20_000,
      );
      await new Promise((r) => setTimeout(r, 3000));
      const ps = await protocols(ctl);
      for (const p of ps) assert.match(p.state, /^(Connect|Active|Idle)$/, `${p.address} is ${p.state}`);
      assert.equal(ps.length, 2);
      const b = await bird.birdc('show protocols');
      assert.doesNotMatch(b, /Established/, b);
      await bird.stop();
      daemons.splice(daemons.indexOf(bird.daemon), 1);

      const before = await md5Counters(us);
      const peer = await startGobgp(them, {
        dir,
        toml: gobgpToml(64512, undefined, false),
      });
      daemons.push(peer.daemon);
      // GoBGP's unsigned SYNs to our keyed listener: dropped as "no signature where one is
      // expected"; our signed SYNs to GoBGP's unkeyed listener: dropped there as unexpected.
      await waitFor(
        'unsigned segments dropped by our kernel',
        async () => (await md5Counters(us)).TCPMD5NotFound! > before.TCPMD5NotFound!,
        20_000,
      );
      await new Promise((r) => setTimeout(r, 3000));
      for (const p of await protocols(ctl)) assert.notEqual(p.state, 'Established', p.address);
      const nb = (await peer.gobgp(['neighbor'], { allowFail: true })).stdout;
      assert.doesNotMatch(nb, /Establ/, nb);
    });
  });

  test('etcd mode: nodeMeshPassword as a secretKeyRef, read from the mounted Secret, signs the mesh; a rotated Secret re-keys it', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'etcd')) return;
    const etcd = await EtcdServer.start();
    const bridge = await LoopbackBridge.create(etcd.clientPort);
    const prefix = `/md5-${randomUUID().slice(0, 8)}/`;
    const ds = Datastore.connect(configFromEnv({}, { endpoints: [etcd.endpoint], prefix }));
    try {
      const node = (name: string, ip: string) =>
        ds.create({ kind: 'Node', metadata: { name }, spec: { bgp: { ipv4Address: `${ip}/24` } } });
      await node('node-a', '10.60.0.1');
      await node('node-b', '10.60.0.2');
      await ds.create({
        kind: 'BGPConfiguration',
        metadata: { name: 'default' },
        spec: { nodeMeshPassword: { secretKeyRef: { name: 'bgp-passwords', key: 'mesh' } } },
      });
      await scene('md5-etcd', async ({ us, them, dir, daemons }) => {
        const secret = (node: string, password: string) => {
          mkdirSync(join(dir, node, 'bgp-passwords'), { recursive: true });
          writeFileSync(join(dir, node, 'bgp-passwords', 'mesh'), password);
        };
        const start = async (ns: Netns, node: string) => {
          await bridge.expose(ns, etcd.clientPort);
          const ctl = join(dir, `${node}.ctl`);
          const env = [
            `NODENAME=${node}`,
            `ETCD_ENDPOINTS=http://127.0.0.1:${etcd.clientPort}`,
            `TRICOLOR_DATASTORE_PREFIX=${prefix}`,
            `TRICOLOR_BGP_SECRETS_DIR=${join(dir, node)}`,
          ];
          const d = Daemon.spawn(
            ns,
            'env',
            [...env, process.execPath, BIRD_JS, '--control', ctl, '--no-kernel'],
            node,
          );
          daemons.push(d);
          await d.waitForFile(ctl, 'control socket');
          return ctl;
        };
        // node-b's Secret still holds an old password: both kernels drop the other's segments.
        secret('node-a', 'mesh-pw-2');
        secret('node-b', 'mesh-pw-1');
        const a = await start(us, 'node-a');
        const b = await start(them, 'node-b');
        await waitFor(
          'segments signed with the other password dropped by both kernels',
          async () =>
            (await md5Counters(us)).TCPMD5Failure! > 0 && (await md5Counters(them)).TCPMD5Failure! > 0,
          30_000,
        );
        for (const ctl of [a, b]) assert.notEqual((await protocols(ctl))[0]?.state, 'Established');
        // The rotation reaches node-b's Secret (as the kubelet swaps a mounted Secret's files):
        // read again within 30 s, its session is re-keyed and comes up.
        secret('node-b', 'mesh-pw-2');
        await waitEstablished(a, 1, 60_000);
        await waitEstablished(b, 1, 10_000);
      });
    } finally {
      ds.etcd.close();
      await bridge.close();
      await etcd.destroy();
    }
  });
});
