import { type ChildProcess, spawn } from 'node:child_process';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Datastore, ipamKeys, parseCidr } from '@tricolor/datastore';
import { EtcdServer, LoopbackBridge, Netns, run } from '@tricolor/testkit';

export const FELIX_MAIN = fileURLToPath(new URL('../src/cli/main.js', import.meta.url));

/** A TCP proxy on the host's loopback that the test can cut (drop every connection, refuse new ones). */
export class CuttableProxy {
  private conns = new Set<Socket>();
  private cut = false;
  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async create(targetPort: number): Promise<CuttableProxy> {
    let self: CuttableProxy | undefined;
    const server = createServer((c) => {
      if (!self || self.cut) {
        c.destroy();
        return;
      }
      const u = createConnection({ host: '127.0.0.1', port: targetPort });
      self.conns.add(c);
      self.conns.add(u);
      const close = () => {
        c.destroy();
        u.destroy();
        self?.conns.delete(c);
        self?.conns.delete(u);
      };
      c.pipe(u);
      u.pipe(c);
      for (const s of [c, u]) {
        s.on('error', close);
        s.on('close', close);
      }
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
    const addr = server.address();
    self = new CuttableProxy(server, typeof addr === 'object' && addr ? addr.port : 0);
    return self;
  }

  partition(): void {
    this.cut = true;
    for (const c of this.conns) c.destroy();
    this.conns.clear();
  }

  heal(): void {
    this.cut = false;
  }

  async close(): Promise<void> {
    this.partition();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/** etcd on the host, reachable as 127.0.0.1:2379 inside node namespaces (through a cuttable proxy). */
export class Cluster {
  private constructor(
    readonly etcd: EtcdServer,
    readonly proxy: CuttableProxy,
    readonly bridge: LoopbackBridge,
    readonly ds: Datastore,
  ) {}

  static async start(): Promise<Cluster> {
    // Idle watchers learn the revision every 200 ms, so felix's /status revision keeps up.
    const etcd = await EtcdServer.start({ watchProgressNotifyMs: 200 });
    const proxy = await CuttableProxy.create(etcd.clientPort);
    const bridge = await LoopbackBridge.create(proxy.port);
    const ds = Datastore.connect({ endpoints: [etcd.endpoint], prefix: '/tricolor/' });
    return new Cluster(etcd, proxy, bridge, ds);
  }

  async claimBlock(node: string, block: string): Promise<void> {
    await this.ds.kv.etcd
      .put(ipamKeys.affinity(this.ds.prefix, node, parseCidr(block)!))
      .value(JSON.stringify({ state: 'confirmed' }));
  }

  async stop(): Promise<void> {
    this.ds.close();
    await this.bridge.close();
    await this.proxy.close();
    await this.etcd.destroy();
  }
}

export class Felix {
  readonly log: string[] = [];
  private exited: Promise<void>;
  private constructor(readonly child: ChildProcess) {
    this.exited = new Promise((r) => child.once('exit', () => r()));
    child.stdout!.on('data', (d: Buffer) => this.log.push(...d.toString().split('\n').filter(Boolean)));
    child.stderr!.on('data', (d: Buffer) => this.log.push(...d.toString().split('\n').filter(Boolean)));
  }

  static start(ns: Netns, env: Record<string, string>): Felix {
    const child = spawn('ip', ['netns', 'exec', ns.name, process.execPath, FELIX_MAIN], {
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        ETCD_ENDPOINTS: 'http://127.0.0.1:2379',
        FELIX_ROUTEREFRESHINTERVAL: '2',
        FELIX_IPTABLESREFRESHINTERVAL: '2',
        FELIX_LOGSEVERITYSCREEN: 'info',
        ...env,
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Felix(child);
  }

  get running(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  async stop(): Promise<void> {
    if (!this.running) return;
    this.child.kill('SIGTERM');
    const t = setTimeout(() => this.child.kill('SIGKILL'), 3000);
    await this.exited;
    clearTimeout(t);
  }
}

/** GET inside a namespace (felix binds 127.0.0.1 there). */
export async function httpGet(ns: Netns, url: string): Promise<{ status: number; body: string }> {
  const script = `fetch(${JSON.stringify(url)}).then(async r => process.stdout.write(JSON.stringify({status:r.status, body: await r.text()}))).catch(e => { process.stdout.write(JSON.stringify({status:0, body:String(e)})); })`;
  const r = await ns.exec(process.execPath, ['-e', script]);
  return JSON.parse(r.stdout) as { status: number; body: string };
}

/**
 * A pod as the CNI plugin would build it (DESIGN.md "The data path"): a veth whose host
 * end (`cali…`, MAC ee:ee:ee:ee:ee:ee, no address) sits in the node namespace and whose
 * other end is eth0 in the pod namespace with the pod IP /32 and 169.254.1.1 as gateway.
 */
export async function addPod(nodeNs: Netns, iface: string, ip: string): Promise<{ ns: Netns; mac: string }> {
  const ns = await Netns.create('pod');
  const tmp = `tp${process.pid.toString(36)}${Math.floor(Math.random() * 1e6).toString(36)}`.slice(0, 15);
  await nodeNs.exec('ip', ['link', 'add', iface, 'type', 'veth', 'peer', 'name', tmp]);
  await nodeNs.exec('ip', ['link', 'set', tmp, 'netns', ns.name]);
  await nodeNs.exec('ip', ['link', 'set', iface, 'address', 'ee:ee:ee:ee:ee:ee', 'up']);
  await ns.exec('ip', ['link', 'set', tmp, 'name', 'eth0']);
  await ns.exec('ip', ['addr', 'add', `${ip}/32`, 'dev', 'eth0']);
  await ns.exec('ip', ['link', 'set', 'eth0', 'up']);
  await ns.exec('ip', ['route', 'add', '169.254.1.1', 'dev', 'eth0', 'scope', 'link']);
  await ns.exec('ip', ['route', 'add', 'default', 'via', '169.254.1.1', 'dev', 'eth0']);
  const links = await ns.ipJson<{ address: string }[]>(['link', 'show', 'eth0']);
  return { ns, mac: links[0]!.address };
}

export async function sysctlIn(ns: Netns, key: string): Promise<string> {
  return (await ns.exec('cat', [`/proc/sys/${key}`])).stdout.trim();
}

export async function saveIn(ns: Netns, table?: string): Promise<string> {
  return (await ns.exec('iptables-nft-save', table ? ['-t', table] : [])).stdout;
}

export async function routesIn(ns: Netns): Promise<string[]> {
  return (await ns.exec('ip', ['route', 'show', 'table', 'main'])).stdout
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

export { run };

/**
 * Connects from `pod` to a TCP listener started in `outside` (port 8080 on `listenHost`,
 * reached at `dst`) and returns the source addresses the listener saw: what nat-outgoing
 * tests assert on. Retries the connection until it works (felix may still be converging).
 */
export async function sourceSeenOutside(
  pod: Netns,
  outside: Netns,
  dst: string,
  listenHost: string,
): Promise<string> {
  const script = `const s=require('net').createServer(c=>{process.stdout.write(c.remoteAddress+'\\n');c.end();});s.listen(8080,${JSON.stringify(listenHost)},()=>process.stdout.write('listening\\n'));setTimeout(()=>process.exit(0),20000);`;
  const listener = outside.exec(process.execPath, ['-e', script], { allowFail: true });
  try {
    const connect = `const c=require('net').connect(8080,${JSON.stringify(dst)});c.on('connect',()=>{c.end();});c.on('close',()=>process.exit(0));c.on('error',e=>{console.error(String(e));process.exit(1)});setTimeout(()=>process.exit(2),3000);`;
    const end = Date.now() + 15_000;
    while ((await pod.exec(process.execPath, ['-e', connect], { allowFail: true })).code !== 0) {
      if (Date.now() > end) throw new Error(`the pod never reached ${dst}:8080`);
      await new Promise((r) => setTimeout(r, 200));
    }
  } finally {
    await outside.exec('pkill', ['-f', 'listen(8080'], { allowFail: true });
  }
  return (await listener).stdout;
}

/** Waits until `dump()` (an iptables-save of the filter table) dispatches `iface`; returns that dump. */
export async function untilDispatched(dump: () => Promise<string>, iface: string): Promise<string> {
  const end = Date.now() + 10_000;
  for (;;) {
    const s = await dump();
    if (s.includes(`-A tri-from-wl-dispatch -i ${iface}`)) return s;
    if (Date.now() > end) throw new Error(`timed out waiting for the dispatch rule of ${iface}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
