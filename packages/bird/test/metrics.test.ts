/**
 * bird's /metrics as GoBGP and bird_exporter users read them: two speakers on loopback
 * (127.0.0.1 and 127.0.0.2, no kernel, no root) exchange routes, one is withdrawn, and each
 * side's per-peer figures (messages by kind, routes per family, protocol up and uptime,
 * BIRD's route change counts) say what happened on the wire. IPv6 routes carry a real next
 * hop; IPv4 ones carry the session's loopback address, which RFC 7606 treats as a
 * withdrawal — counted as such.
 */
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { freePort, waitFor } from '@tricolor/testkit';
import pino from 'pino';
import { DEFAULTS, type SpeakerConfig } from '../src/config/types.js';
import { Speaker } from '../src/speaker.js';

type Labels = Record<string, string | number>;

/** The value of one series, read from the speaker's registry as a scrape would. */
async function value(sp: Speaker, name: string, labels: Labels = {}): Promise<number | undefined> {
  const all = await sp.metrics.registry!.getMetricsAsJSON();
  const m = all.find((x) => x.name === name);
  assert.ok(m, `${name} is not served`);
  const v = (m.values as { labels: Labels; value: number }[]).find((s) =>
    Object.entries(labels).every(([k, want]) => String(s.labels[k]) === String(want)),
  );
  return v?.value;
}

describe('bird metrics: GoBGP and bird_exporter names, read at scrape time', () => {
  let a: Speaker;
  let b: Speaker;
  let metricsPort: number;
  const config = (over: Partial<SpeakerConfig>): SpeakerConfig => ({
    ...DEFAULTS,
    kernel: false,
    controlPath: undefined,
    connectDelay: 0,
    connectRetry: 1,
    gracefulRestart: { enabled: false, restartTime: 120 },
    ...over,
  });
  const quiet = pino({ level: 'silent' });

  before(async () => {
    const [portA, portB] = [await freePort(), await freePort()];
    metricsPort = await freePort();
    a = new Speaker(
      config({
        routerId: '10.255.0.1',
        listen: { host: '127.0.0.1', port: portA },
        // Passive: one connection, so each side's message counts are exact (no collision).
        peers: [
          { address: '127.0.0.2', port: portB, localAddress: '127.0.0.1', name: 'to_b', passive: true },
        ],
        exports: ['10.2.0.0/24'],
        nextHopV6: 'fd00::1',
        metrics: { host: '127.0.0.1', port: metricsPort },
      }),
      { logger: quiet },
    );
    b = new Speaker(
      config({
        routerId: '10.255.0.2',
        listen: { host: '127.0.0.2', port: portB },
        peers: [{ address: '127.0.0.1', port: portA, localAddress: '127.0.0.2', name: 'to_a' }],
        exports: ['10.1.0.0/24', '10.1.1.0/24', 'fd00:1::/64', 'fd00:2::/64'],
        nextHopV6: 'fd00::2',
        metrics: { host: '127.0.0.2', port: await freePort() },
      }),
      { logger: quiet },
    );
    await a.start();
    await b.start();
    await waitFor(
      'routes from b at a',
      async () =>
        (await value(a, 'bgp_routes_accepted', { route_family: 'ipv6-unicast' })) === 2 || undefined,
      20_000,
      100,
    );
  });
  after(async () => {
    await a?.stop({ graceful: false });
    await b?.stop({ graceful: false });
  });

  test('routes per peer and family, protocol up and uptime, messages by kind', async () => {
    const peer = { peer: '127.0.0.2' };
    assert.equal(await value(a, 'bgp_routes_accepted', { ...peer, route_family: 'ipv6-unicast' }), 2);
    const v4 = { name: 'to_b', proto: 'BGP', ip_version: '4' };
    const v6 = { ...v4, ip_version: '6' };
    assert.equal(await value(a, 'bird_protocol_up', v4), 1);
    assert.equal(await value(a, 'bird_protocol_up', v6), 1);
    assert.ok(((await value(a, 'bird_protocol_uptime', v4)) ?? -1) >= 0);
    assert.equal(await value(a, 'bird_protocol_prefix_import_count', v6), 2);
    assert.equal(await value(a, 'bird_protocol_changes_update_import_receive_count', v6), 2);
    assert.equal(await value(a, 'bird_protocol_changes_update_import_accept_count', v6), 2);
    assert.equal(await value(a, 'bird_protocol_changes_update_import_filter_count', v6), 0);
    assert.equal(await value(a, 'bird_protocol_prefix_export_count', v4), 1);
    assert.equal(await value(a, 'bird_protocol_changes_update_export_accept_count', v4), 1);
    assert.equal(await value(a, 'bgp_received_open_total', peer), 1);
    assert.ok(((await value(a, 'bgp_sent_open_total', peer)) ?? 0) >= 1);
    // Routes of both families and End-of-RIB per family: at least 3 UPDATEs each way.
    assert.ok(((await value(a, 'bgp_received_update_total', peer)) ?? 0) >= 3);
    assert.ok(((await value(a, 'bgp_sent_update_total', peer)) ?? 0) >= 3);
    assert.ok(((await value(a, 'bgp_received_keepalive_total', peer)) ?? 0) >= 1);
    assert.equal(await value(a, 'bgp_received_notification_total', peer), 0);
    let sum = 0;
    for (const k of ['open', 'update', 'notification', 'keepalive', 'refresh'])
      sum += (await value(a, `bgp_received_${k}_total`, peer)) ?? 0;
    assert.equal(await value(a, 'bgp_received_message_total', peer), sum);
    assert.equal(await value(a, 'bgp_update_errors_total', { ...peer, action: 'attribute-discard' }), 0);
  });

  test('IPv4 routes with a loopback next hop: treated as withdrawn (RFC 7606), counted so', async () => {
    const peer = { peer: '127.0.0.2' };
    assert.equal(await value(a, 'bgp_routes_accepted', { ...peer, route_family: 'ipv4-unicast' }), 0);
    assert.ok(
      ((await value(a, 'bgp_update_errors_total', { ...peer, action: 'treat-as-withdraw' })) ?? 0) >= 1,
    );
    assert.equal(
      await value(a, 'bgp_received_withdraw_prefix_total', { ...peer, route_family: 'ipv4-unicast' }),
      2,
    );
    const v4 = { name: 'to_b', ip_version: '4' };
    assert.equal(await value(a, 'bird_protocol_prefix_import_count', v4), 0);
    assert.equal(await value(a, 'bird_protocol_changes_withdraw_import_receive_count', v4), 2);
  });

  test('a withdrawn prefix is counted per family on both sides', async () => {
    b.setExports(['10.1.0.0/24', '10.1.1.0/24', 'fd00:1::/64']);
    await waitFor(
      'the withdrawal at a',
      async () =>
        (await value(a, 'bgp_routes_accepted', { route_family: 'ipv6-unicast' })) === 1 || undefined,
      10_000,
      100,
    );
    const v6 = { peer: '127.0.0.2', route_family: 'ipv6-unicast' };
    assert.equal(await value(a, 'bgp_received_withdraw_prefix_total', v6), 1);
    assert.equal(
      await value(b, 'bgp_sent_withdraw_prefix_total', { peer: '127.0.0.1', route_family: 'ipv6-unicast' }),
      1,
    );
    assert.equal(
      await value(b, 'bgp_sent_withdraw_prefix_total', { peer: '127.0.0.1', route_family: 'ipv4-unicast' }),
      0,
    );
    const p6 = { name: 'to_b', ip_version: '6' };
    assert.equal(await value(a, 'bird_protocol_changes_withdraw_import_receive_count', p6), 1);
    assert.equal(await value(a, 'bird_protocol_prefix_import_count', p6), 1);
    assert.equal(
      await value(b, 'bird_protocol_changes_withdraw_export_accept_count', { name: 'to_a', ip_version: '6' }),
      1,
    );
  });

  test('a session that goes down shows as down with no uptime', async () => {
    b.setPeers([]);
    await waitFor(
      'a sees the session down',
      async () => (await value(a, 'bird_protocol_up', { name: 'to_b', ip_version: '4' })) === 0 || undefined,
      10_000,
      100,
    );
    assert.equal(await value(a, 'bird_protocol_uptime', { name: 'to_b', ip_version: '4' }), 0);
    // Counters stay: the peer's history outlives its session.
    assert.equal(await value(a, 'bgp_received_open_total', { peer: '127.0.0.2' }), 1);
  });

  test('/metrics serves them with the process metrics every Tricolor daemon has', async () => {
    const r = await fetch(`http://127.0.0.1:${metricsPort}/metrics`);
    assert.equal(r.status, 200);
    const text = await r.text();
    for (const name of [
      'bgp_received_update_total{peer="127.0.0.2"}',
      'bgp_routes_accepted{peer="127.0.0.2",route_family="ipv4-unicast"}',
      'bird_protocol_up{name="to_b",proto="BGP",ip_version="4"}',
      'process_cpu_seconds_total',
      'process_resident_memory_bytes',
      'nodejs_heap_size_used_bytes',
      'nodejs_gc_duration_seconds_count',
    ])
      assert.ok(text.includes(name), `${name} not in /metrics`);
    assert.match(text, /# TYPE bgp_received_update_total counter/);
    assert.match(text, /# TYPE bird_protocol_up gauge/);
  });
});
