/**
 * Interop with real speakers from Debian packages, each in its own network namespace:
 * BIRD 2 (iBGP, IPv4 session with BIRD active + IPv6 session with us active), GoBGP
 * (eBGP with 4-octet AS 4200000001, GoBGP active) and FRR (iBGP IPv4 + IPv6, us active).
 * Routes must show up in both RIBs and in our kernel; withdrawals must propagate.
 */
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  FRR_BGPD,
  requireCommands,
  requireRoot,
  startBird,
  startFrr,
  startGobgp,
  waitFor,
} from '@tricolor/testkit';
import { kernelRoutes, learned, scene, startOurs, waitEstablished } from './helpers.js';

const OURS = ['--export', '10.80.1.0/24', '--export', '10.80.2.0/24', '--export', '2001:db8:80::/48'];

/** Our speaker's arguments: router id 10.60.0.1, AS 64512, listening on `listen`, then `rest`. */
const ourArgs = (listen: string, ...rest: string[]) => [
  '--router-id',
  '10.60.0.1',
  '--as',
  '64512',
  '--listen',
  listen,
  ...rest,
];

describe('interop', { concurrency: false }, () => {
  test('BIRD 2: iBGP over IPv4 (BIRD active) and IPv6 (we are active), both ways, withdrawals', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'bird', 'birdc')) return;
    await scene('bird', async ({ us, them, dir, daemons }) => {
      const bird = await startBird(them, {
        dir,
        config: `router id 10.60.0.2;
protocol device {}
protocol static s4 { ipv4; route 10.70.1.0/24 blackhole; route 10.70.2.0/24 blackhole; }
protocol static s6 { ipv6; route 2001:db8:70::/48 blackhole; }
protocol bgp us4 { local 10.60.0.2 as 64512; neighbor 10.60.0.1 as 64512; direct; connect delay time 1; connect retry time 2;
  ipv4 { import all; export all; next hop self; }; }
protocol bgp us6 { local 2001:db8:60::2 as 64512; neighbor 2001:db8:60::1 as 64512; direct; passive on;
  ipv6 { import all; export all; next hop self; }; }
`,
      });
      daemons.push(bird.daemon);
      const { d, ctl } = await startOurs(
        us,
        dir,
        'us',
        ourArgs(
          '[::]:179',
          '--peer',
          '10.60.0.2,passive',
          '--peer',
          '2001:db8:60::2',
          ...OURS,
          '--connect-retry',
          '1',
          '--no-graceful-restart',
        ),
      );
      daemons.push(d);
      await waitEstablished(ctl, 2);
      // BIRD's routes in our RIB and kernel.
      await waitFor('BIRD routes in our RIB', async () => {
        const l = await learned(ctl);
        return l.get('10.70.1.0/24') === '10.60.0.2' && l.get('2001:db8:70::/48') === '2001:db8:60::2';
      });
      await waitFor('kernel routes', async () => {
        const k4 = await kernelRoutes(us);
        const k6 = await kernelRoutes(us, 6);
        return (
          k4.get('10.70.1.0/24') === '10.60.0.2' &&
          k4.get('10.70.2.0/24') === '10.60.0.2' &&
          k6.get('2001:db8:70::/48') === '2001:db8:60::2'
        );
      });
      // Ours in BIRD's RIB.
      await waitFor('our routes in BIRD', async () => {
        const out = await bird.birdc('show route');
        return (
          out.includes('10.80.1.0/24') && out.includes('10.80.2.0/24') && out.includes('2001:db8:80::/48')
        );
      });
      const v4 = await bird.birdc('show route 10.80.1.0/24 all');
      assert.match(v4, /BGP.next_hop: 10\.60\.0\.1/);
      const v6 = await bird.birdc('show route 2001:db8:80::/48 all');
      assert.match(v6, /BGP.next_hop: 2001:db8:60::1/);
      // Withdrawal from BIRD propagates to our RIB and kernel.
      await bird.birdc('disable s4');
      await waitFor('withdrawal in our RIB and kernel', async () => {
        const l = await learned(ctl);
        const k = await kernelRoutes(us);
        return !l.has('10.70.1.0/24') && !k.has('10.70.1.0/24') && l.has('2001:db8:70::/48');
      });
      // Our withdrawals reach BIRD: stop our speaker without graceful restart.
      await d.stop('SIGTERM');
      await waitFor('BIRD saw our session go and our routes withdrawn', async () => {
        const out = await bird.birdc('show route');
        return !out.includes('10.80.1.0/24');
      });
    });
  });

  test('GoBGP: eBGP with 4-octet AS 4200000001 (GoBGP active), routes both ways', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'gobgpd', 'gobgp')) return;
    await scene('gobgp', async ({ us, them, dir, daemons }) => {
      const peer = await startGobgp(them, {
        dir,
        logLevel: 'info',
        toml: `[global.config]
  as = 4200000001
  router-id = "10.60.0.2"
  local-address-list = ["10.60.0.2"]
[[neighbors]]
  [neighbors.config]
    neighbor-address = "10.60.0.1"
    peer-as = 64512
  [neighbors.timers.config]
    connect-retry = 2
  [[neighbors.afi-safis]]
    [neighbors.afi-safis.config]
      afi-safi-name = "ipv4-unicast"
`,
      });
      daemons.push(peer.daemon);
      const gobgp = (...args: string[]) => peer.gobgp(args, { allowFail: true });
      await gobgp('global', 'rib', 'add', '10.71.1.0/24', '-a', 'ipv4');
      await gobgp('global', 'rib', 'add', '10.71.2.0/24', '-a', 'ipv4');
      const { d, ctl } = await startOurs(
        us,
        dir,
        'us',
        ourArgs('10.60.0.1', '--peer', '10.60.0.2:4200000001,passive', ...OURS),
      );
      daemons.push(d);
      const ps = await waitEstablished(ctl, 1);
      assert.equal(ps[0]!.as, 4200000001);
      await waitFor('GoBGP routes in our RIB and kernel', async () => {
        const l = await learned(ctl);
        const k = await kernelRoutes(us);
        return l.get('10.71.1.0/24') === '10.60.0.2' && k.get('10.71.2.0/24') === '10.60.0.2';
      });
      const rows = (await import('../src/control/client.js')).query(ctl, 'show route', ['10.71.1.0/24']);
      assert.match(JSON.stringify(await rows), /4200000001/);
      await waitFor('our routes in GoBGP with AS path 64512', async () => {
        const out = (await gobgp('global', 'rib', '-a', 'ipv4')).stdout;
        return /10\.80\.1\.0\/24\s+10\.60\.0\.1\s+64512/.test(out) && out.includes('10.80.2.0/24');
      });
      await gobgp('global', 'rib', 'del', '10.71.1.0/24', '-a', 'ipv4');
      await waitFor('GoBGP withdrawal in our RIB and kernel', async () => {
        const l = await learned(ctl);
        const k = await kernelRoutes(us);
        return !l.has('10.71.1.0/24') && !k.has('10.71.1.0/24') && l.has('10.71.2.0/24');
      });
    });
  });

  test('FRR bgpd: iBGP over IPv4 and IPv6, we are active, routes both ways', async (t) => {
    if (!requireRoot(t) || !requireCommands(t, 'ip', 'vtysh') || !requireCommands(t, FRR_BGPD)) return;
    await scene('frr', async ({ us, them, dir, daemons }) => {
      const frr = await startFrr(them, {
        dir,
        listen: ['10.60.0.2', '2001:db8:60::2'],
        config: `frr defaults traditional
hostname frr
log stdout
router bgp 64512
 bgp router-id 10.60.0.2
 no bgp ebgp-requires-policy
 no bgp network import-check
 neighbor 10.60.0.1 remote-as 64512
 neighbor 10.60.0.1 passive
 neighbor 2001:db8:60::1 remote-as 64512
 neighbor 2001:db8:60::1 passive
 address-family ipv4 unicast
  network 10.72.1.0/24
  neighbor 10.60.0.1 activate
  neighbor 10.60.0.1 next-hop-self
  no neighbor 2001:db8:60::1 activate
 exit-address-family
 address-family ipv6 unicast
  network 2001:db8:72::/48
  neighbor 2001:db8:60::1 activate
  neighbor 2001:db8:60::1 next-hop-self
 exit-address-family
`,
      });
      daemons.push(frr.daemon);
      const { d, ctl } = await startOurs(
        us,
        dir,
        'us',
        ourArgs(
          '[::]:179',
          '--peer',
          '10.60.0.2,families=ipv4',
          '--peer',
          '2001:db8:60::2,families=ipv6',
          ...OURS,
          '--connect-retry',
          '1',
        ),
      );
      daemons.push(d);
      await waitEstablished(ctl, 2);
      await waitFor('FRR routes in our RIB and kernel', async () => {
        const l = await learned(ctl);
        const k4 = await kernelRoutes(us);
        const k6 = await kernelRoutes(us, 6);
        return (
          k4.get('10.72.1.0/24') === '10.60.0.2' &&
          l.get('2001:db8:72::/48') === '2001:db8:60::2' &&
          k6.get('2001:db8:72::/48') === '2001:db8:60::2'
        );
      });
      await waitFor('our routes in FRR', async () => {
        const v4 = await frr.vtysh('show bgp ipv4 unicast');
        const v6 = await frr.vtysh('show bgp ipv6 unicast');
        return v4.includes('10.80.1.0/24') && v4.includes('10.60.0.1') && v6.includes('2001:db8:80::/48');
      });
      await frr.vtysh(
        'configure terminal\nrouter bgp 64512\naddress-family ipv4 unicast\nno network 10.72.1.0/24',
      );
      await frr.vtysh(
        'configure terminal',
        'router bgp 64512',
        'address-family ipv4 unicast',
        'no network 10.72.1.0/24',
      );
      await waitFor('FRR withdrawal in our RIB and kernel', async () => {
        const l = await learned(ctl);
        const k = await kernelRoutes(us);
        return !l.has('10.72.1.0/24') && !k.has('10.72.1.0/24');
      });
    });
  });
});
