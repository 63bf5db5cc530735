import assert from 'node:assert/strict';
import { test } from 'node:test';
import { Netns, requireCommands, requireRoot, waitFor } from '@tricolor/testkit';
import { parseRouteEvents, type RouteEvent, watchRoutes } from '../src/index.js';

test('parseRouteEvents: ip monitor route lines (added, deleted, multipath, host routes, other tables, IPv6)', () => {
  const events = parseRouteEvents([
    '10.244.2.0/26 via 10.9.0.2 dev v0 proto bird onlink ',
    '10.244.3.0/26 proto bird ',
    '\tnexthop via 10.9.0.3 dev v1 weight 1 onlink ',
    '\tnexthop via 10.9.0.2 dev v0 weight 1 onlink ',
    'Deleted 10.244.2.0/26 via 10.9.0.2 dev v0 proto bird onlink ',
    '10.1.2.3 dev v0 table 5 scope link ',
    'blackhole 10.244.1.0/26 proto 80 ',
    'local fe80::c4cb:d8ff:fe32:7369 dev v1 table local proto kernel metric 0 pref medium',
    'Deleted default via 2001:db8::1 dev v0 proto static metric 1024 pref medium',
  ]);
  assert.deepEqual(events, [
    {
      deleted: false,
      table: 'main',
      family: 4,
      dst: '10.244.2.0/26',
      type: 'unicast',
      protocol: 'bird',
      dev: 'v0',
      via: '10.9.0.2',
      onlink: true,
    },
    {
      deleted: false,
      table: 'main',
      family: 4,
      dst: '10.244.3.0/26',
      type: 'unicast',
      protocol: 'bird',
      nexthops: [
        { via: '10.9.0.3', dev: 'v1', onlink: true },
        { via: '10.9.0.2', dev: 'v0', onlink: true },
      ],
    },
    {
      deleted: true,
      table: 'main',
      family: 4,
      dst: '10.244.2.0/26',
      type: 'unicast',
      protocol: 'bird',
      dev: 'v0',
      via: '10.9.0.2',
      onlink: true,
    },
    {
      deleted: false,
      table: '5',
      family: 4,
      dst: '10.1.2.3/32',
      type: 'unicast',
      protocol: 'boot',
      dev: 'v0',
    },
    { deleted: false, table: 'main', family: 4, dst: '10.244.1.0/26', type: 'blackhole', protocol: '80' },
    {
      deleted: false,
      table: 'local',
      family: 6,
      dst: 'fe80::c4cb:d8ff:fe32:7369/128',
      type: 'local',
      protocol: 'kernel',
      dev: 'v1',
      metric: 0,
    },
    {
      deleted: true,
      table: 'main',
      family: 6,
      dst: '::/0',
      type: 'unicast',
      protocol: 'static',
      dev: 'v0',
      via: '2001:db8::1',
      metric: 1024,
    },
  ]);
  // Link lines (a monitor of more than routes) are not routes.
  assert.deepEqual(
    parseRouteEvents(['3: v0@if2: <BROADCAST,MULTICAST,UP> mtu 1500', '    link/ether 0a:0b']),
    [],
  );
});

test('watchRoutes: a route deleted in the namespace arrives as an event', async (t) => {
  if (!requireRoot(t) || !requireCommands(t, 'ip', 'nsenter')) return;
  const ns = await Netns.create('watch');
  const events: RouteEvent[] = [];
  let w: { stop(): void } | undefined;
  try {
    await ns.exec('ip', ['route', 'add', '10.77.0.0/24', 'dev', 'lo', 'proto', 'bird']);
    w = watchRoutes((e) => events.push(...e), { netns: `/var/run/netns/${ns.name}` });
    await new Promise((r) => setTimeout(r, 300));
    await ns.exec('ip', ['route', 'del', '10.77.0.0/24']);
    const e = await waitFor('deletion event', () =>
      events.find((x) => x.deleted && x.dst === '10.77.0.0/24'),
    );
    assert.equal(e.protocol, 'bird');
  } finally {
    w?.stop();
    await ns.destroy();
  }
});
