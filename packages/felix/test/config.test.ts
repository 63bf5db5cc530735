import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { FelixConfiguration } from '@tricolor/datastore';
import { configFromEnv, FelixConfigError, parseHostPorts, resolveSettings } from '../src/config.js';
import { classifyMonitorLines, kernelRemovals } from '../src/monitor.js';
import { statusReportDue } from '../src/node-status.js';

const fc = (name: string, spec: FelixConfiguration['spec']): FelixConfiguration => ({
  kind: 'FelixConfiguration',
  apiVersion: 'tricolor.dev/v1',
  metadata: { name },
  spec,
});

test('defaults: 127.0.0.1 bind, ports 9099/9091, 90 s / 60 s refresh, tri- chains, cali interfaces', () => {
  const c = configFromEnv({ NODENAME: 'node-1' });
  assert.equal(c.static.nodeName, 'node-1');
  assert.equal(c.static.healthHost, '127.0.0.1');
  assert.equal(c.static.healthPort, 9099);
  assert.equal(c.static.metricsHost, '127.0.0.1');
  assert.equal(c.static.metricsPort, 9091);
  assert.equal(c.static.ip, 'autodetect');
  const s = resolveSettings(c.overrides, [], 'node-1');
  assert.equal(s.routeRefreshIntervalMs, 90_000);
  assert.equal(s.iptablesRefreshIntervalMs, 60_000);
  assert.equal(s.reportingIntervalMs, 30_000, "Calico's reportingInterval default");
  assert.equal(s.chainPrefix, 'tri-');
  assert.equal(s.interfacePrefix, 'cali');
  assert.equal(s.vxlanVNI, 4096);
  assert.deepEqual(
    s.failsafeInboundHostPorts.map((p) => p.port),
    [22, 179, 2379, 2380, 6443],
  );
});

test('env over node.<name> over default FelixConfiguration', () => {
  const c = configFromEnv({ NODENAME: 'n1', FELIX_IPTABLESREFRESHINTERVAL: '0.5', FELIX_CHAINPREFIX: 'abc' });
  const s = resolveSettings(
    c.overrides,
    [
      fc('default', {
        routeRefreshInterval: 30,
        iptablesRefreshInterval: 20,
        vxlanVNI: 7,
        logSeverityScreen: 'debug',
      }),
      fc('node.n1', { routeRefreshInterval: 5, reportingInterval: 0 }),
      fc('node.n2', { routeRefreshInterval: 99 }),
    ],
    'n1',
  );
  assert.equal(s.routeRefreshIntervalMs, 5000, 'node.n1 beats default');
  assert.equal(s.iptablesRefreshIntervalMs, 500, 'env beats both');
  assert.equal(s.reportingIntervalMs, 0, 'reportingInterval 0 is a value, not unset');
  const env = configFromEnv({ NODENAME: 'n1', FELIX_REPORTINGINTERVALSECS: '120' });
  assert.equal(resolveSettings(env.overrides, [], 'n1').reportingIntervalMs, 120_000);
  assert.equal(s.vxlanVNI, 7);
  assert.equal(s.logLevel, 'debug');
  assert.equal(s.chainPrefix, 'abc-');
});

test('invalid env values are all reported, each naming its variable', () => {
  try {
    configFromEnv({
      NODENAME: 'Bad_Name',
      IP: '10.0.0.1',
      FELIX_HEALTHPORT: '70000',
      FELIX_ROUTEREFRESHINTERVAL: 'soon',
      FELIX_IPTABLESBACKEND: 'iptables',
      FELIX_FAILSAFEINBOUNDHOSTPORTS: 'tcp:22,sctp:9',
      FELIX_INTERFACEPREFIX: 'CALI',
      FELIX_HEALTHENABLED: 'maybe',
    });
    assert.fail('should throw');
  } catch (e) {
    assert.ok(e instanceof FelixConfigError);
    const text = e.message;
    for (const v of [
      'NODENAME',
      'IP:',
      'FELIX_HEALTHPORT',
      'FELIX_ROUTEREFRESHINTERVAL',
      'FELIX_IPTABLESBACKEND',
      'FELIX_FAILSAFEINBOUNDHOSTPORTS',
      'FELIX_INTERFACEPREFIX',
      'FELIX_HEALTHENABLED',
    ])
      assert.ok(text.includes(v), `${v} missing from: ${text}`);
    assert.equal(e.problems.length, 8);
  }
});

test('host ports parse with optional protocol; none clears the list', () => {
  assert.deepEqual(parseHostPorts('tcp:22, udp:53,179'), [
    { protocol: 'tcp', port: 22 },
    { protocol: 'udp', port: 53 },
    { protocol: 'tcp', port: 179 },
  ]);
  assert.deepEqual(parseHostPorts('none'), []);
  assert.equal(typeof parseHostPorts('tcp:0'), 'string');
});

test('ip monitor: a new workload device triggers an apply without a re-read; deletions force one', () => {
  const c = (lines: string[]) => classifyMonitorLines(lines, 'cali', 'vxlan.tricolor');
  assert.deepEqual(
    c(['42: cali0123456789a@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN group default']),
    { relevant: true, stale: false },
  );
  assert.deepEqual(c(['Deleted 42: cali0123456789a@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500']), {
    relevant: true,
    stale: true,
  });
  assert.deepEqual(c(['Deleted 10.244.1.5 dev cali0123456789a proto 80 scope link']), {
    relevant: true,
    stale: true,
  });
  assert.deepEqual(c(['Deleted blackhole 10.244.1.0/26 proto 80']), { relevant: true, stale: true });
  assert.deepEqual(c(['7: vxlan.tricolor: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1450']), {
    relevant: true,
    stale: false,
  });
  assert.deepEqual(
    c([
      '3: eth0: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500',
      'Deleted 10.1.0.0/24 via 192.168.1.1 dev eth0',
    ]),
    { relevant: false, stale: false },
    "an operator's devices and routes are none of felix's business",
  );
});

test('FELIX_IPV6SUPPORT: true, false or auto; anything else is an error naming the variable', () => {
  const env = (v: string) => ({ NODENAME: 'n1', FELIX_IPV6SUPPORT: v });
  assert.equal(configFromEnv(env('auto')).overrides.ipv6Support, 'auto');
  assert.equal(configFromEnv(env('false')).overrides.ipv6Support, false);
  assert.equal(configFromEnv(env('TRUE')).overrides.ipv6Support, true);
  assert.equal(configFromEnv({ NODENAME: 'n1' }).overrides.ipv6Support, undefined);
  assert.throws(() => configFromEnv(env('maybe')), /FELIX_IPV6SUPPORT: "maybe" must be true, false or auto/);
  assert.equal(resolveSettings({}, [fc('default', { ipv6Support: false })], 'n1').ipv6Support, false);
  assert.equal(resolveSettings({}, [], 'n1').ipv6Support, 'auto');
});

test('ip monitor: a deleted device takes what lived on it; a deleted route of ours means a re-read', () => {
  const r = (lines: string[]) => kernelRemovals(lines, 'cali', 'vxlan.tricolor');
  assert.deepEqual(r(['Deleted 42: cali0123456789a@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500']), {
    devices: ['cali0123456789a'],
    routes: false,
  });
  assert.deepEqual(
    r(['Deleted 7: vxlan.tricolor: <BROADCAST> mtu 1450', 'Deleted 3: eth1: <BROADCAST> mtu 1500']),
    {
      devices: ['vxlan.tricolor'],
      routes: false,
    },
  );
  assert.deepEqual(r(['Deleted blackhole 10.244.1.0/26 proto 80']), { devices: [], routes: true });
  assert.deepEqual(r(['Deleted 10.1.0.0/24 via 192.168.1.1 dev eth0', '42: cali0123456789a@if2: <UP>']), {
    devices: [],
    routes: false,
  });
});

test('status reports: the first converge at once, then at most one per reportingInterval, none with 0', () => {
  assert.equal(statusReportDue(0, 1_000, 30_000), true, 'first');
  assert.equal(statusReportDue(1_000, 20_000, 30_000), false, 'a converge 19 s later');
  assert.equal(statusReportDue(1_000, 31_000, 30_000), true, '30 s later');
  assert.equal(statusReportDue(1_000, 10_000_000, 0), false, '0: reporting off');
  assert.equal(statusReportDue(0, 5, 0), false, '0: not even the first (readiness is on the Node)');
});
