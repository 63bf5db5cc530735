import assert from 'node:assert/strict';
import { test } from 'node:test';
import { connectVeth, Netns, requireCommands, requireRoot } from '@tricolor/testkit';
import { addPod, Cluster, Felix, httpGet, sourceSeenOutside, sysctlIn, untilDispatched } from './harness.js';
import { pool, until, wep } from './helpers.js';

const save6 = async (ns: Netns, table: string) => (await ns.exec('ip6tables-nft-save', ['-t', table])).stdout;

test('felix daemon, dual stack: ip6tables chains, IPv6 route and sysctls, IPv6 nat-outgoing; no IPv6 pool, no IPv6 tables', async (t) => {
  if (!requireRoot(t) || !requireCommands(t, 'ip6tables-nft-save', 'ipset', 'etcd')) return;
  const cluster = await Cluster.start();
  const n1 = await Netns.create('n1');
  const ext = await Netns.create('ext');
  const pods: Netns[] = [];
  let felix: Felix | undefined;
  try {
    await connectVeth(n1, ['192.168.51.1/24', 'fd00:51::1/64'], ext, [
      '192.168.51.100/24',
      'fd00:51::100/64',
    ]);
    await cluster.bridge.expose(n1, 2379);
    await n1.exec('ip', ['-6', 'route', 'add', 'default', 'via', 'fd00:51::100']);
    const ds = cluster.ds;
    await ds.create(pool('v4', '10.244.0.0/16'));
    await ds.create(pool('v6', 'fd00:10::/64', { natOutgoing: true, blockSize: 122 }));
    // The operator's own IPv6 rule, there before felix.
    await n1.exec('ip6tables-nft', ['-A', 'FORWARD', '-s', '2001:db8::1/128', '-j', 'DROP']);

    felix = Felix.start(n1, { NODENAME: 'n1', IP: '192.168.51.1/24' });
    await until(
      async () => (await httpGet(n1, 'http://127.0.0.1:9099/readiness')).status === 200,
      30_000,
      'readiness',
    );

    // A dual-stack pod: IPv4 via 169.254.1.1, IPv6 via the host end's link-local address
    // (fe80::ecee:eeff:feee:eeee, from its MAC ee:ee:ee:ee:ee:ee), as Calico's CNI sets it up.
    const iface = 'cali6a1b2c3d4e5';
    const pod = await addPod(n1, iface, '10.244.1.5');
    pods.push(pod.ns);
    await pod.ns.exec('ip', ['-6', 'addr', 'add', 'fd00:10::5/128', 'dev', 'eth0', 'nodad']);
    await pod.ns.exec('ip', [
      '-6',
      'route',
      'add',
      'default',
      'via',
      'fe80::ecee:eeff:feee:eeee',
      'dev',
      'eth0',
    ]);
    const ep = wep('pod-6', 'n1', iface, '10.244.1.5/32', pod.mac);
    ep.spec.ipNetworks.push('fd00:10::5/128');
    await ds.create(ep);

    await until(
      async () =>
        (await n1.exec('ip', ['-6', 'route', 'show', 'proto', '80'])).stdout.includes(
          `fd00:10::5 dev ${iface}`,
        ),
      10_000,
      'IPv6 workload route',
    );
    for (const [k, v] of [
      [`net/ipv6/conf/${iface}/proxy_ndp`, '1'],
      [`net/ipv6/conf/${iface}/forwarding`, '1'],
      [`net/ipv6/conf/${iface}/accept_ra`, '0'],
      ['net/ipv6/conf/all/forwarding', '1'],
    ] as const)
      assert.equal(await sysctlIn(n1, k), v, k);
    const filter = await untilDispatched(() => save6(n1, 'filter'), iface);
    assert.match(filter, new RegExp(`^:tri-tw-${iface} `, 'm'));
    assert.match(filter, /^-A FORWARD -m comment --comment "?tri:[\w-]+"? -j tri-FORWARD$/m);
    assert.ok(filter.includes('-A FORWARD -s 2001:db8::1/128 -j DROP'), 'foreign IPv6 rule kept');
    assert.match((await n1.exec('ipset', ['list', 'tri-all-ipam-pools-v6'])).stdout, /fd00:10::\/64/);
    assert.match(
      await save6(n1, 'nat'),
      /-A tri-nat-outgoing -m set --match-set tri-masq-ipam-pools-v6 src -m set ! --match-set tri-all-ipam-pools-v6 dst .*-j MASQUERADE/,
    );

    // IPv6 nat-outgoing: a listener outside the pools sees the node's IPv6 address.
    const heard = await sourceSeenOutside(pod.ns, ext, 'fd00:51::100', '::');
    assert.match(heard, /fd00:51::1\b/, `listener saw: ${heard}`);
    assert.doesNotMatch(heard, /fd00:10::5/);

    // Policy sets in both families: a selector set (hash:ip) and a CIDR set (hash:net), each
    // with its IPv6 twin (`tri-6…`, family inet6) holding the IPv6 members, named by ip6tables.
    await ds.apply({
      kind: 'GlobalNetworkPolicy',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'v6-sets' },
      spec: {
        selector: 'all()',
        types: ['Ingress'],
        ingress: [
          { action: 'Allow', source: { selector: 'all()' } },
          { action: 'Allow', source: { nets: ['10.1.0.0/16', '10.2.0.0/16', 'fd00:1::/64', 'fd00:2::/64'] } },
        ],
      },
    });
    const setNames = await until(
      async () => {
        const names = (await n1.exec('ipset', ['list', '-n'])).stdout.split('\n');
        const want = ['tri-s:', 'tri-6s:', 'tri-c:', 'tri-6c:'].map((p) =>
          names.find((n) => n.startsWith(p)),
        );
        return want.every(Boolean) ? (want as string[]) : undefined;
      },
      10_000,
      'policy ipsets in both families',
    );
    const [sel4, sel6, net4, net6] = await Promise.all(
      setNames.map(async (n) => (await n1.exec('ipset', ['list', n])).stdout),
    );
    assert.match(sel4!, /Type: hash:ip\n[\s\S]*family inet [\s\S]*Members:\n10\.244\.1\.5\n?$/);
    assert.match(sel6!, /Type: hash:ip\n[\s\S]*family inet6 [\s\S]*Members:\nfd00:10::5\n?$/);
    assert.match(net4!, /Type: hash:net\n[\s\S]*family inet [\s\S]*10\.1\.0\.0\/16/);
    assert.match(net6!, /Type: hash:net\n[\s\S]*family inet6 [\s\S]*fd00:1::\/64/);
    assert.ok(
      (await save6(n1, 'filter')).includes(`--match-set ${setNames[1]} src`),
      'ip6tables names the v6 set',
    );
    await ds.delete('GlobalNetworkPolicy', 'v6-sets');

    // Metrics carry both families: once the policy's sets are gone (the delete above is applied
    // asynchronously), the IPv6 pool sets remain.
    const m = await until(
      async () => {
        const r = await httpGet(n1, 'http://127.0.0.1:9091/metrics');
        return /^felix_ipsets_calico\{ip_version="inet6"\} 2$/m.test(r.body) ? r : undefined;
      },
      10_000,
      'felix_ipsets_calico{ip_version="inet6"} 2 after the policy is deleted',
    );
    assert.match(m.body, /felix_iptables_rules\{ip_version="6",table="filter"\} [1-9]/);

    // Without an IPv6 pool ('auto'), felix's IPv6 chains and hooks go; the operator's stay.
    // An operator's rule still names felix's IPv6 pool set: the set cannot be destroyed
    // (counted in felix_ipset_errors, tried again) until that rule is gone.
    const holdSet = ['INPUT', '-m', 'set', '--match-set', 'tri-all-ipam-pools-v6', 'src', '-j', 'ACCEPT'];
    await n1.exec('ip6tables-nft', ['-A', ...holdSet]);
    await ds.delete('IPPool', 'v6');
    const after = await until(
      async () => {
        const s = await save6(n1, 'filter');
        return /^:tri-|-[jg] tri-|comment "?tri:/m.test(s) ? undefined : s;
      },
      10_000,
      'IPv6 chains removed',
    );
    assert.ok(after.includes('-A FORWARD -s 2001:db8::1/128 -j DROP'), 'foreign IPv6 rule kept');
    assert.ok((await save6(n1, 'filter')).length > 0);
    await until(
      async () =>
        /^felix_ipset_errors [1-9]/m.test((await httpGet(n1, 'http://127.0.0.1:9091/metrics')).body),
      10_000,
      'the failed destroy of a set in use counted',
    );
    assert.equal((await n1.exec('ipset', ['list', '-n'])).stdout.includes('tri-all-ipam-pools-v6'), true);
    await n1.exec('ip6tables-nft', ['-D', ...holdSet]);
    await until(
      async () => !(await n1.exec('ipset', ['list', '-n'])).stdout.includes('tri-all-ipam-pools-v6'),
      10_000,
      'the set destroyed once nobody uses it',
    );
    assert.ok(felix.running, 'felix still running');
  } finally {
    await felix?.stop();
    if (felix && process.env.FELIX_TEST_LOGS) console.error(felix.log.join('\n'));
    for (const p of pods) await p.destroy();
    await n1.destroy();
    await ext.destroy();
    await cluster.stop();
  }
});
