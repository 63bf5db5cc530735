/**
 * tricolor-node on two nodes (network namespaces on a veth, one real etcd reached through the
 * namespaces' loopback): felix and bird answer from one process each, a block affinity becomes
 * felix's blackhole on its node and bird's BGP route on the other, SIGTERM stops both with exit
 * 0, and a daemon that cannot start ends the process with exit 1.
 */
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { query } from '@tricolor/bird';
import { Datastore, ipamKeys, parseCidr } from '@tricolor/datastore';
import {
  connectVeth,
  Daemon,
  EtcdServer,
  LoopbackBridge,
  Netns,
  requireCommands,
  requireRoot,
  waitFor,
} from '@tricolor/testkit';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const addr = (i: number) => `192.168.61.${i}`;

/** tricolor-node in `ns`, with the environment a DaemonSet would give it. */
function startNode(ns: Netns, i: number, dir: string, etcdEndpoint: string): Daemon {
  const env = [
    `NODENAME=n${i}`,
    `IP=${addr(i)}/24`,
    `ETCD_ENDPOINTS=${etcdEndpoint}`,
    `BIRD_CONTROL=${join(dir, `n${i}.ctl`)}`,
    `TRICOLOR_NODENAME_FILE=${join(dir, `n${i}.nodename`)}`,
    'FELIX_LOGSEVERITYSCREEN=info',
  ];
  return Daemon.spawn(ns, 'env', [...env, process.execPath, MAIN], `tricolor-node n${i}`);
}

async function http(ns: Netns, url: string): Promise<{ code: string; body: string }> {
  const r = await ns.exec('curl', ['-s', '-m', '2', '-w', '\n%{http_code}', url], { allowFail: true });
  const lines = r.stdout.trimEnd().split('\n');
  const code = lines.pop() ?? '';
  return { code, body: lines.join('\n') };
}

async function routes(ns: Netns): Promise<string[]> {
  return (await ns.exec('ip', ['route', 'show'])).stdout.split('\n').map((l) => l.trim());
}

test('tricolor-node: felix and bird in one process per node, on one etcd connection', async (t) => {
  if (!requireRoot(t) || !requireCommands(t, 'ip', 'curl', 'etcd', 'iptables-nft-save', 'ipset')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tricolor-node-'));
  const etcd = await EtcdServer.start({ watchProgressNotifyMs: 200 });
  const bridge = await LoopbackBridge.create(etcd.clientPort);
  const ds = Datastore.connect({ endpoints: [etcd.endpoint], prefix: '/tricolor/' });
  const nss = [await Netns.create('n1'), await Netns.create('n2')];
  const daemons: Daemon[] = [];
  try {
    await connectVeth(nss[0]!, `${addr(1)}/24`, nss[1]!, `${addr(2)}/24`);
    for (const ns of nss) await bridge.expose(ns);
    await ds.create({
      kind: 'IPPool',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'default-ipv4-ippool' },
      spec: {
        cidr: '10.244.0.0/16',
        blockSize: 26,
        ipipMode: 'Never',
        vxlanMode: 'Never',
        natOutgoing: true,
      },
    });
    const nodes = nss.map((ns, i) => startNode(ns, i + 1, dir, etcd.endpoint));
    daemons.push(...nodes);
    const n1 = nodes[0]!;

    // felix's health endpoint and bird's (a full mesh of two: ready once the session is up).
    for (const [i, ns] of nss.entries())
      for (const [daemon, port] of [
        ['felix', 9099],
        ['bird', 9098],
      ] as const)
        await waitFor(
          `${daemon} ready on n${i + 1}`,
          async () => {
            if (!nodes[i]!.alive) throw new Error(`exited: ${nodes[i]!.logs().slice(-3000)}`);
            return (await http(ns, `http://127.0.0.1:${port}/readiness`)).code === '200';
          },
          60_000,
        );
    // bird's control socket answers (tricolor-birdc's query): the session to the other node.
    const p1 = (await query(join(dir, 'n1.ctl'), 'show protocols')) as { address: string; state: string }[];
    assert.deepEqual(
      p1.map((p) => [p.address, p.state]),
      [[addr(2), 'Established']],
    );
    // Both registries serve, each with the process metrics (registered twice in one process).
    for (const port of [9091, 9092]) {
      const m = await http(nss[0]!, `http://127.0.0.1:${port}/metrics`);
      assert.equal(m.code, '200', `metrics on ${port}`);
      assert.match(m.body, /^process_resident_memory_bytes \d+/m, `process metrics on ${port}`);
    }
    assert.match((await http(nss[0]!, 'http://127.0.0.1:9091/metrics')).body, /^felix_/m);
    assert.match((await http(nss[0]!, 'http://127.0.0.1:9092/metrics')).body, /^bgp_session_state\{/m);
    assert.equal(readFileSync(join(dir, 'n1.nodename'), 'utf8'), 'n1\n');
    // Each daemon's log lines keep its name.
    await waitFor(
      'both daemons logged',
      () => /"name":"felix"/.test(n1.logs()) && /"name":"tricolor-bird"/.test(n1.logs()),
    );

    // A block of n1: felix's blackhole on n1, bird's route to it on n2 (exported over BGP).
    await ds.etcd
      .put(ipamKeys.affinity(ds.prefix, 'n1', parseCidr('10.244.1.0/26')!))
      .value(JSON.stringify({ state: 'confirmed' }));
    await waitFor(
      "felix's blackhole of its block on n1",
      async () => (await routes(nss[0]!)).includes('blackhole 10.244.1.0/26 proto 80'),
      20_000,
    );
    await waitFor(
      "bird's route to n1's block on n2",
      async () =>
        (await routes(nss[1]!)).some(
          (l) => l.startsWith(`10.244.1.0/26 via ${addr(1)} `) && l.includes('proto bird'),
        ),
      20_000,
    );
    const exported = (await query(join(dir, 'n1.ctl'), 'show route', ['export', addr(2)])) as {
      prefix: string;
    }[];
    assert.ok(
      exported.some((r) => r.prefix === '10.244.1.0/26'),
      JSON.stringify(exported),
    );

    // An address n2 borrowed from a block of another node (n9, not running): n2 exports it as
    // a /32 and n1 routes it to n2; once released, it is withdrawn. (The block as IPAM stores it.)
    const lentBlock = (owner: string | null) => ({
      cidr: '10.244.9.0/26',
      affinity: 'host:n9',
      allocations: Array.from({ length: 64 }, (_, o) => (o === 5 && owner ? 0 : null)),
      unallocated: Array.from({ length: 64 }, (_, o) => o).filter((o) => o !== 5 || !owner),
      attributes: owner ? [{ handleId: 'tricolor-net.pod9', secondary: { node: owner } }] : [],
      sequenceNumber: 1,
    });
    const blockKey = ipamKeys.block(ds.prefix, parseCidr('10.244.9.0/26')!);
    const borrowedRoute = async () =>
      (await routes(nss[0]!)).some(
        (l) => l.startsWith(`10.244.9.5 via ${addr(2)} `) && l.includes('proto bird'),
      );
    await ds.etcd.put(blockKey).value(JSON.stringify(lentBlock('n2')));
    await waitFor("n2's borrowed /32 routed on n1", borrowedRoute, 20_000);
    await ds.etcd.put(blockKey).value(JSON.stringify(lentBlock(null)));
    await waitFor("n2's borrowed /32 withdrawn on n1", async () => !(await borrowedRoute()), 20_000);

    // SIGTERM stops both daemons; the process exits 0.
    await n1.stop('SIGTERM', 15_000);
    assert.equal(n1.child.exitCode, 0, n1.logs().slice(-3000));
    assert.match(n1.logs(), /stopping bird and felix/);
    assert.equal(
      (await http(nss[0]!, 'http://127.0.0.1:9099/liveness')).code,
      '000',
      'felix no longer answers',
    );
    assert.ok(
      !existsSync(join(dir, 'n1.ctl')) ||
        (await query(join(dir, 'n1.ctl'), 'show status').then(
          () => false,
          () => true,
        )),
      "bird's control socket no longer answers",
    );
    // felix left the dataplane as is; bird kept its routes (graceful restart).
    assert.ok((await routes(nss[0]!)).includes('blackhole 10.244.1.0/26 proto 80'));

    // A daemon that cannot start ends the process: bird's health port is taken on n1.
    const squatter = Daemon.spawn(
      nss[0]!,
      process.execPath,
      ['-e', "require('net').createServer().listen(9098, '127.0.0.1', () => console.log('listening'))"],
      'squatter',
    );
    daemons.push(squatter);
    await waitFor('port 9098 taken', () => squatter.logs().includes('listening'));
    const failing = startNode(nss[0]!, 1, dir, etcd.endpoint);
    daemons.push(failing);
    await waitFor('tricolor-node exits', () => !failing.alive, 30_000);
    assert.equal(failing.child.exitCode, 1, failing.logs().slice(-3000));
    assert.match(failing.logs(), /tricolor-node: bird: .*(9098|EADDRINUSE|in use)/);
  } catch (e) {
    for (const d of daemons) process.stderr.write(`--- ${d.name}\n${d.logs().slice(-4000)}\n`);
    throw e;
  } finally {
    for (const d of daemons) await d.stop('SIGTERM', 10_000);
    ds.close();
    for (const ns of nss) await ns.destroy();
    await bridge.close();
    await etcd.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('tricolor-node: SIGTERM while etcd cannot be reached (both daemons still starting) exits 0', async (t) => {
  if (!requireRoot(t) || !requireCommands(t, 'ip')) return;
  const dir = mkdtempSync(join(tmpdir(), 'tricolor-node-'));
  const ns = await Netns.create('n1');
  let node: Daemon | undefined;
  try {
    await ns.exec('ip', ['link', 'set', 'lo', 'up']);
    // Nothing listens on 127.0.0.1:2379 in this namespace.
    node = startNode(ns, 1, dir, 'http://127.0.0.1:2379');
    await waitFor(
      'felix health endpoint',
      async () => (await http(ns, 'http://127.0.0.1:9099/liveness')).code === '200',
    );
    assert.equal((await http(ns, 'http://127.0.0.1:9099/readiness')).code, '503', 'not ready without etcd');
    // A stop that waited for the starts would hang until the SIGKILL (no exit code).
    await node.stop('SIGTERM', 20_000);
    assert.equal(node.child.exitCode, 0, node.logs().slice(-3000));
  } catch (e) {
    process.stderr.write(`--- ${node?.name}\n${node?.logs().slice(-4000)}\n`);
    throw e;
  } finally {
    await node?.stop('SIGKILL');
    await ns.destroy();
    rmSync(dir, { recursive: true, force: true });
  }
});
