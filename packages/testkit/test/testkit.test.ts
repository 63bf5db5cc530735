import assert from 'node:assert/strict';
import { connect } from 'node:net';
import { test } from 'node:test';
import {
  EtcdServer,
  kernelHasLinkKind,
  LoopbackBridge,
  Netns,
  ownedNamespaces,
  requireRoot,
  run,
  Segment,
} from '../src/index.js';

function reachable(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

test('etcd server starts, is killed, restarts on the same port, and is removed', async () => {
  const etcd = await EtcdServer.start();
  assert.equal(await reachable(etcd.clientPort), true);
  await etcd.kill();
  assert.equal(await reachable(etcd.clientPort), false);
  await etcd.restart();
  assert.equal(await reachable(etcd.clientPort), true);
  await etcd.destroy();
  assert.equal(await reachable(etcd.clientPort), false);
});

test('namespaces on one segment reach each other and are deleted afterwards', async (t) => {
  if (!requireRoot(t)) return;
  const seg = await Segment.create('lan');
  const a = await Netns.create('a');
  const b = await Netns.create('b');
  try {
    await seg.attach(a, '192.0.2.1/24');
    await seg.attach(b, '192.0.2.2/24');
    const ping = await a.exec('ping', ['-c', '1', '-W', '2', '192.0.2.2'], { allowFail: true });
    assert.equal(ping.code, 0, ping.stdout + ping.stderr);
  } finally {
    await a.destroy();
    await b.destroy();
    await seg.destroy();
  }
  const { stdout } = await run('ip', ['netns', 'list']);
  for (const ns of [a.name, b.name, seg.hub.name]) assert.ok(!stdout.includes(ns), `${ns} left behind`);
  assert.deepEqual(ownedNamespaces(), []);
});

test('kernel link-kind probe tells vxlan (present) from a made-up kind', (t) => {
  if (!requireRoot(t)) return;
  assert.equal(kernelHasLinkKind('vxlan'), true);
  assert.equal(kernelHasLinkKind('no-such-kind'), false);
});

test('a loopback service of the host is reachable from inside a namespace through the bridge', async (t) => {
  if (!requireRoot(t)) return;
  const etcd = await EtcdServer.start();
  const ns = await Netns.create('br');
  const bridge = await LoopbackBridge.create(etcd.clientPort);
  try {
    await bridge.expose(ns, 2379);
    const out = await ns.exec('etcdctl', ['--endpoints=http://127.0.0.1:2379', 'endpoint', 'health'], {
      allowFail: true,
    });
    assert.match(out.stdout + out.stderr, /etcdserver|is healthy/);
  } finally {
    await bridge.close();
    await ns.destroy();
    await etcd.destroy();
  }
});
