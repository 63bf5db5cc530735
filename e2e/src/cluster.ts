import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { configFromEnv, Datastore, ipamKeys } from '@tricolor/datastore';
import { parseAffinities } from '@tricolor/ipam';
import { EtcdCluster, LoopbackBridge, Netns, run, Segment, waitFor } from '@tricolor/testkit';
import { Daemon } from './daemon.js';
import { neighborEntriesNeeded, raiseNeighborThresholds } from './neighbor-table.js';
import { BINARIES, nodeCommand } from './paths.js';

export type Mode = 'mesh' | 'rr' | 'vxlan' | 'ipip';
export const MODES: readonly Mode[] = ['mesh', 'rr', 'vxlan', 'ipip'];

/**
 * How a node runs its daemons: `separate` — felix and bird as two processes (two containers of
 * the DaemonSet); `one-process` — both in one `tricolor-node` process (packages/node).
 */
export type Layout = 'separate' | 'one-process';
export const LAYOUTS: readonly Layout[] = ['separate', 'one-process'];

export interface ClusterOptions {
  nodes: number;
  mode: Mode;
  /** rr mode: how many of the first nodes are route reflectors (default 1). */
  routeReflectors?: number;
  poolCidr?: string;
  /** Prints progress lines (the demo passes console.error). */
  log?: (line: string) => void;
  /** Short BGP timers make fault tests quick (hold 9 s, keepalive 3 s). */
  fastTimers?: boolean;
  /** etcd members (default 1; the chaos run uses 3). */
  etcdMembers?: number;
  /**
   * etcd with TLS and client certificates on client and peer ports (default true, as people
   * should run it); every component gets the certificate through ETCD_* variables.
   */
  etcdTls?: boolean;
  /**
   * felix and bird serve /metrics on the node's address (as the chart's `metrics.bindAddress:
   * hostIP`), for a Prometheus on the segment; default: the node's loopback.
   */
  metricsOnNodeAddress?: boolean;
  /** How long `up` waits for each node's daemons to be ready (default 60 s; large clusters need more). */
  readyTimeoutMs?: number;
  /**
   * felix's route and iptables refresh intervals in seconds (default 5, so tests see drift
   * repaired quickly); null leaves felix's own defaults, as a production node runs.
   */
  felixRefreshSeconds?: number | null;
  /**
   * etcd's watch progress notifications to idle watchers, in ms (default 200, so felix's
   * /status revision, which the conformance runner waits on, keeps up with writes to kinds it
   * has no other news of); null leaves etcd's 10 min. Every watcher of every daemon is woken
   * at this rate: a large cluster pays it on every node.
   */
  watchProgressNotifyMs?: number | null;
  /**
   * CPU priority of etcd (default null: the machine's default). A large cluster on one machine
   * starves an etcd that competes with every node for the same cores; in a real cluster it
   * runs on control-plane machines of its own. etcd shares the caller's session, and where the
   * kernel groups tasks by session (autogroup) this nice counts only inside that group; each
   * node daemon is a group of its own (bench/priority.ts raises the session's group).
   */
  etcdNice?: number | null;
  /**
   * Where etcd keeps its data (default null: the system's temporary directory). `/dev/shm`
   * stands for the disk of its own etcd asks for: on the disk every node logs to, each
   * fsync took 60–150 ms at 100 nodes.
   */
  etcdDataParent?: string | null;
  /** Pods per node the cluster will hold at most (default 10): sizes the host's neighbor table. */
  podsPerNode?: number;
  /** Default `separate` (tests that kill or read felix and bird one at a time need it). */
  layout?: Layout;
}

export interface NodeHandle {
  name: string;
  ns: Netns;
  /** The node's address with prefix length, e.g. 192.168.200.11/24. */
  address: string;
  ip: string;
  /** In the one-process layout, felix and bird are the same `tricolor-node` Daemon. */
  felix: Daemon;
  bird?: Daemon;
  dir: string;
  /** The conflist the node's kubelet would read. */
  cniConf: Record<string, unknown>;
}

export interface PodHandle {
  name: string;
  namespace: string;
  node: string;
  ns: Netns;
  containerId: string;
  ip: string;
}

const NODE_SUBNET = '192.168.200';

export interface CniOutcome {
  code: number;
  out: Record<string, unknown>;
  /** What the plugin wrote to stderr (a crash, or being killed, leaves no JSON on stdout). */
  stderr: string;
  ms: number;
}

/**
 * A Tricolor cluster on one machine: a real etcd (TLS with client certificates; one member or
 * several), one network namespace per node on a shared L2 segment, felix and bird running
 * inside each node's namespace, pods created through the real CNI plugin exactly as kubelet
 * would. Every etcd member's client URL is the same on the host and inside every node (a
 * loopback hop per member into each namespace), so one ETCD_* environment serves everything.
 */
export class Cluster {
  readonly nodes = new Map<string, NodeHandle>();
  readonly pods = new Map<string, PodHandle>();
  private nextNode = 1;
  private podSeq = 0;

  private constructor(
    readonly opts: Required<Omit<ClusterOptions, 'log'>> & { log: (l: string) => void },
    readonly etcd: EtcdCluster,
    readonly ds: Datastore,
    readonly segment: Segment,
    readonly bridge: LoopbackBridge,
    readonly dir: string,
  ) {}

  static async up(options: ClusterOptions): Promise<Cluster> {
    const opts = {
      routeReflectors: 1,
      poolCidr: '10.244.0.0/16',
      fastTimers: false,
      etcdMembers: 1,
      etcdTls: true,
      metricsOnNodeAddress: false,
      readyTimeoutMs: 60_000,
      felixRefreshSeconds: 5 as number | null,
      watchProgressNotifyMs: 200 as number | null,
      podsPerNode: 10,
      etcdNice: null as number | null,
      etcdDataParent: null as string | null,
      layout: 'separate' as Layout,
      log: () => undefined,
      ...options,
    };
    // tricolor-node always runs bird; a VXLAN cluster runs felix alone (as Calico's vxlan backend).
    if (opts.layout === 'one-process' && opts.mode === 'vxlan')
      throw new Error("Cluster: layout 'one-process' runs bird, which mode 'vxlan' does not use");
    const dir = mkdtempSync(join(tmpdir(), 'tricolor-cluster-'));
    // Room for every node's and pod's neighbor entries in the host's one table.
    for (const r of raiseNeighborThresholds(neighborEntriesNeeded(opts.nodes, opts.podsPerNode)))
      opts.log(`host: ${r.key} raised from ${r.from} to ${r.to} (one neighbor table for every namespace)`);
    opts.log(
      `etcd: starting ${opts.etcdMembers} member(s)${opts.etcdTls ? ' with TLS and client certificates' : ''}`,
    );
    const etcd = await EtcdCluster.start({
      members: opts.etcdMembers,
      tls: opts.etcdTls,
      ...(opts.etcdNice === null ? {} : { nice: opts.etcdNice }),
      ...(opts.etcdDataParent === null ? {} : { dataParent: opts.etcdDataParent }),
      ...(opts.watchProgressNotifyMs === null ? {} : { watchProgressNotifyMs: opts.watchProgressNotifyMs }),
    });
    const ds = Datastore.connect(configFromEnv(etcd.clientEnv()));
    const segment = await Segment.create('lan');
    // Nodes have a default route, as real ones do: proxy ARP for the pods' 169.254.1.1
    // gateway only answers for addresses routed out of another interface.
    await segment.setGateway(`${NODE_SUBNET}.1/24`);
    const bridge = await LoopbackBridge.create(etcd.members.map((m) => m.clientPort));
    const cluster = new Cluster(opts, etcd, ds, segment, bridge, dir);
    try {
      await cluster.writeClusterResources();
      for (let i = 0; i < opts.nodes; i++) await cluster.addNode();
      await cluster.waitConverged(opts.readyTimeoutMs);
    } catch (e) {
      await cluster.down();
      throw e;
    }
    return cluster;
  }

  /** ETCD_ENDPOINTS (every member) and the client certificate files: valid on the host and in every node. */
  etcdEnv(): Record<string, string> {
    return this.etcd.clientEnv();
  }

  private async writeClusterResources(): Promise<void> {
    const { mode, poolCidr } = this.opts;
    await this.ds.apply({
      kind: 'IPPool',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'default-ipv4-ippool' },
      spec: {
        cidr: poolCidr,
        blockSize: 26,
        natOutgoing: true,
        vxlanMode: mode === 'vxlan' ? 'Always' : 'Never',
        ipipMode: mode === 'ipip' ? 'Always' : 'Never',
      },
    });
    await this.ds.apply({
      kind: 'BGPConfiguration',
      apiVersion: 'tricolor.dev/v1',
      metadata: { name: 'default' },
      spec: {
        asNumber: 64512,
        nodeToNodeMeshEnabled: mode !== 'rr',
        ...(this.opts.fastTimers ? { holdTime: 9, keepaliveTime: 3, gracefulRestartTime: 60 } : {}),
      },
    });
    if (mode === 'rr') {
      // Clients peer with the reflectors; reflectors peer with each other.
      await this.ds.apply({
        kind: 'BGPPeer',
        apiVersion: 'tricolor.dev/v1',
        metadata: { name: 'peer-with-route-reflectors' },
        spec: { nodeSelector: 'all()', peerSelector: 'has(route-reflector)' },
      });
    }
  }

  /** Adds a node: namespace on the segment, etcd reachable inside, felix and bird started. */
  async addNode(): Promise<NodeHandle> {
    const i = this.nextNode++;
    const name = `node-${i}`;
    const ns = await Netns.create(`n${i}`);
    const ip = `${NODE_SUBNET}.${10 + i}`;
    const address = `${ip}/24`;
    await this.segment.attach(ns, address);
    await ns.exec('ip', ['route', 'add', 'default', 'via', `${NODE_SUBNET}.1`]);
    await this.bridge.expose(ns);
    const dir = join(this.dir, name);
    mkdirSync(join(dir, 'net.d'), { recursive: true });
    mkdirSync(join(dir, 'bin'), { recursive: true });
    if (this.opts.mode === 'rr' && i <= this.opts.routeReflectors) {
      await this.ds.apply({
        kind: 'Node',
        apiVersion: 'tricolor.dev/v1',
        metadata: { name, labels: { 'route-reflector': 'true' } },
        spec: { bgp: { ipv4Address: address, routeReflectorClusterID: '244.0.0.1' } },
      });
    }
    const env = {
      NODENAME: name,
      IP: address,
      ...this.etcdEnv(),
      // felix writes its node name here (the CNI plugin's fallback identity), not on the host's /var/lib.
      TRICOLOR_NODENAME_FILE: join(dir, 'nodename'),
      ...(this.opts.felixRefreshSeconds === null
        ? {}
        : {
            FELIX_ROUTEREFRESHINTERVAL: String(this.opts.felixRefreshSeconds),
            FELIX_IPTABLESREFRESHINTERVAL: String(this.opts.felixRefreshSeconds),
          }),
      FELIX_LOGSEVERITYSCREEN: 'info',
      // bird's control socket, where tricolor-birdc looks too (tricolor-node has no flags).
      BIRD_CONTROL: join(dir, 'bird.ctl'),
      ...(this.opts.metricsOnNodeAddress ? { FELIX_PROMETHEUSMETRICSHOST: ip, BIRD_METRICSHOST: ip } : {}),
    };
    let felix: Daemon;
    let bird: Daemon | undefined;
    if (this.opts.layout === 'one-process') {
      felix = bird = new Daemon('node', ns, nodeCommand(BINARIES.node), env, join(dir, 'node.log'));
      felix.start();
    } else {
      felix = new Daemon('felix', ns, nodeCommand(BINARIES.felix), env, join(dir, 'felix.log'));
      felix.start();
    }
    if (this.opts.mode !== 'vxlan' && !bird) {
      bird = new Daemon(
        'bird',
        ns,
        [...nodeCommand(BINARIES.bird), '--control', join(dir, 'bird.ctl')],
        env,
        join(dir, 'bird.log'),
      );
      bird.start();
    }
    // The installer writes the etcd endpoints and certificate files (ETCD_*) into the conflist.
    await run(
      process.execPath,
      [
        BINARIES.cni,
        'install',
        '--bin-dir',
        join(dir, 'bin'),
        '--conf-dir',
        join(dir, 'net.d'),
        '--nodename',
        name,
        '--mtu',
        this.opts.mode === 'vxlan' ? '1450' : '1500',
      ],
      { env: { ...process.env, ...this.etcdEnv() } },
    );
    const conflist = JSON.parse(readFileSync(join(dir, 'net.d', '10-tricolor.conflist'), 'utf8')) as {
      cniVersion: string;
      name: string;
      plugins: Record<string, unknown>[];
    };
    const cniConf = { cniVersion: conflist.cniVersion, name: conflist.name, ...conflist.plugins[0] };
    const node: NodeHandle = { name, ns, address, ip, felix, bird, dir, cniConf };
    this.nodes.set(name, node);
    const daemons = felix === bird ? 'tricolor-node (felix + bird)' : `felix${bird ? ' + bird' : ''}`;
    this.opts.log(`${name}: ${address} in netns ${ns.name}, ${daemons} started`);
    return node;
  }

  /** Removes a node the way an operator decommissions one: daemons stopped, resources deleted. */
  async removeNode(name: string): Promise<void> {
    const node = this.nodes.get(name);
    if (!node) throw new Error(`no node ${name}`);
    for (const [podName, pod] of this.pods) if (pod.node === name) await this.deletePod(podName);
    await node.bird?.stop();
    await node.felix.stop();
    await this.ds.delete('Node', name);
    await run(process.execPath, [BINARIES.ctl, 'ipam', 'check', '--repair'], {
      env: { ...process.env, ...this.etcdEnv() },
      allowFail: true,
    });
    await node.ns.destroy();
    this.nodes.delete(name);
  }

  /** HTTP GET inside a node's namespace (the daemons bind to its loopback). */
  async httpInNode(node: NodeHandle, url: string): Promise<{ ok: boolean; body: string }> {
    const r = await node.ns.exec('curl', ['-s', '-m', '2', '-w', '\n%{http_code}', url], { allowFail: true });
    const lines = r.stdout.trimEnd().split('\n');
    const status = lines.pop();
    return { ok: status === '200', body: lines.join('\n') };
  }

  async waitFor(cond: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
    await waitFor(what, cond, timeoutMs, 200);
  }

  /** Every node's felix is ready, and (BGP modes) every bird has all its peers Established. */
  async waitConverged(timeoutMs = 60_000): Promise<void> {
    for (const node of this.nodes.values()) {
      await this.waitFor(
        async () => (await this.httpInNode(node, 'http://127.0.0.1:9099/readiness')).ok,
        timeoutMs,
        `felix ready on ${node.name}\n${node.felix.log().slice(-2000)}`,
      );
      if (node.bird) {
        await this.waitFor(
          async () => (await this.httpInNode(node, 'http://127.0.0.1:9098/readiness')).ok,
          timeoutMs,
          `bird ready on ${node.name}\n${node.bird.log().slice(-2000)}`,
        );
      }
    }
    this.opts.log('cluster: all daemons ready');
  }

  /** How kubelet would run the plugin for a pod: argv (inside the node), environment and stdin. */
  cniInvocation(
    node: NodeHandle,
    command: string,
    pod: { containerId: string; netns: string; name: string; namespace: string },
    extra: Record<string, unknown> = {},
  ): { argv: string[]; env: Record<string, string>; input: string } {
    return {
      argv: ['ip', 'netns', 'exec', node.ns.name, process.execPath, BINARIES.cni],
      input: JSON.stringify({ ...node.cniConf, ...extra }),
      env: {
        PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin',
        CNI_COMMAND: command,
        CNI_CONTAINERID: pod.containerId,
        CNI_NETNS: pod.netns,
        CNI_IFNAME: 'eth0',
        CNI_ARGS: `IgnoreUnknown=1;K8S_POD_NAMESPACE=${pod.namespace};K8S_POD_NAME=${pod.name}`,
        CNI_PATH: join(node.dir, 'bin'),
      },
    };
  }

  /** Runs the CNI plugin in the node's namespace exactly as kubelet does. */
  async cni(
    node: NodeHandle,
    command: string,
    pod: { containerId: string; netns: string; name: string; namespace: string },
    extra: Record<string, unknown> = {},
  ): Promise<CniOutcome> {
    const t0 = performance.now();
    const inv = this.cniInvocation(node, command, pod, extra);
    // kubelet waits longer than the plugin's own deadline (60 s): let the plugin answer.
    const r = await run(inv.argv[0]!, inv.argv.slice(1), {
      allowFail: true,
      input: inv.input,
      env: inv.env,
      timeoutMs: 180_000,
    });
    const ms = performance.now() - t0;
    return {
      code: r.code,
      out: r.stdout.trim() ? (JSON.parse(r.stdout) as Record<string, unknown>) : {},
      stderr: r.stderr,
      ms,
    };
  }

  /** Creates a pod on a node: a network namespace and a CNI ADD. */
  async createPod(
    nodeName: string,
    name = `pod-${++this.podSeq}`,
    namespace = 'default',
    /** Merged into the network config (e.g. `kubernetes: { kubeconfig }`). */
    cniExtra: Record<string, unknown> = {},
  ): Promise<PodHandle & { addMs: number }> {
    const node = this.nodes.get(nodeName);
    if (!node) throw new Error(`no node ${nodeName}`);
    const ns = await Netns.create('pod');
    const containerId = randomBytes(16).toString('hex');
    const add = await this.cni(
      node,
      'ADD',
      { containerId, netns: `/var/run/netns/${ns.name}`, name, namespace },
      cniExtra,
    );
    if (add.code !== 0) {
      await ns.destroy();
      throw new Error(`CNI ADD of ${name} on ${nodeName} failed: ${JSON.stringify(add.out)}`);
    }
    const ip = (add.out.ips as { address: string }[])[0]!.address.split('/')[0]!;
    const pod: PodHandle = { name, namespace, node: nodeName, ns, containerId, ip };
    this.pods.set(podKey(name, namespace), pod);
    return { ...pod, addMs: add.ms };
  }

  /** Deletes a pod by the key it is kept under: its name in `default`, "namespace/name" elsewhere. */
  async deletePod(name: string): Promise<void> {
    const pod = this.pods.get(name);
    if (!pod) return;
    const node = this.nodes.get(pod.node);
    if (node) {
      const del = await this.cni(node, 'DEL', {
        containerId: pod.containerId,
        netns: `/var/run/netns/${pod.ns.name}`,
        name: pod.name,
        namespace: pod.namespace,
      });
      if (del.code !== 0) throw new Error(`CNI DEL of ${name} failed: ${JSON.stringify(del.out)}`);
    }
    await pod.ns.destroy();
    this.pods.delete(name);
  }

  /**
   * Time until `from` first gets a reply from `toIp`: echo requests every 10 ms until one is
   * answered (or `timeoutS` passes). Resolution ~10 ms, unlike a loop of one-shot pings.
   */
  async firstReplyMs(from: PodHandle, toIp: string, timeoutS = 10): Promise<number | undefined> {
    const t0 = performance.now();
    const r = await from.ns.exec(
      'ping',
      ['-n', '-q', '-c', '1', '-i', '0.01', '-w', String(timeoutS), toIp],
      { allowFail: true },
    );
    return r.code === 0 ? performance.now() - t0 : undefined;
  }

  async ping(from: PodHandle, toIp: string, timeoutS = 1): Promise<boolean> {
    const r = await from.ns.exec('ping', ['-c', '1', '-W', String(timeoutS), toIp], { allowFail: true });
    return r.code === 0;
  }

  /** Every pod pings every other pod: a map "from→to" → reachable. */
  async pingMatrix(): Promise<Map<string, boolean>> {
    const pods = [...this.pods.values()];
    const out = new Map<string, boolean>();
    const jobs: (() => Promise<void>)[] = [];
    for (const a of pods)
      for (const b of pods)
        if (a !== b) jobs.push(async () => void out.set(`${a.name}→${b.name}`, await this.ping(a, b.ip, 2)));
    // A few at a time: the machine has two cores.
    for (let i = 0; i < jobs.length; i += 8) await Promise.all(jobs.slice(i, i + 8).map((j) => j()));
    return out;
  }

  async routes(
    nodeName: string,
  ): Promise<{ dst: string; gateway?: string; dev?: string; protocol?: string; type?: string }[]> {
    const node = this.nodes.get(nodeName)!;
    return node.ns.ipJson(['route', 'show', 'table', 'main']);
  }

  async birdc(nodeName: string, args: string[]): Promise<string> {
    const node = this.nodes.get(nodeName)!;
    const r = await run(
      process.execPath,
      [BINARIES.birdc, '--control', join(node.dir, 'bird.ctl'), ...args],
      { allowFail: true },
    );
    return r.stdout + r.stderr;
  }

  /** The manifest of `demo --json`. */
  async manifest(): Promise<Record<string, unknown>> {
    const blocks = new Map<string, string[]>();
    const { items } = await this.ds.kv.list(ipamKeys.affinitiesPrefix(this.ds.prefix));
    for (const a of parseAffinities(items, this.ds.prefix)) {
      if (a.state === 'confirmed') blocks.set(a.node, [...(blocks.get(a.node) ?? []), a.block]);
    }
    const tls = this.etcd.tls;
    return {
      // Every member, as ETCD_ENDPOINTS takes them (the same URLs work on the host and in the nodes).
      etcd: this.etcd.endpoints.join(','),
      // The client files a CLI on the host needs when etcd requires client certificates.
      ...(tls
        ? { etcdTls: { caFile: tls.caFile, certFile: tls.clientCertFile, keyFile: tls.clientKeyFile } }
        : {}),
      mode: this.opts.mode,
      nodes: [...this.nodes.values()].map((n) => ({
        name: n.name,
        netns: n.ns.name,
        address: n.ip,
        blocks: blocks.get(n.name) ?? [],
        // bird's control socket (tricolor-birdc, tricolorctl node status); null without bird.
        birdControl: n.bird ? join(n.dir, 'bird.ctl') : null,
      })),
      pods: [...this.pods.values()].map((p) => ({ name: p.name, netns: p.ns.name, node: p.node, ip: p.ip })),
    };
  }

  /** Leaves everything running after this process exits and records how to tear it down. */
  keep(stateFile: string): void {
    const pids: number[] = [];
    for (const n of this.nodes.values()) {
      n.ns.keep();
      const f = n.felix.keep();
      if (f) pids.push(f);
      const b = n.bird === n.felix ? undefined : n.bird?.keep();
      if (b) pids.push(b);
    }
    for (const p of this.pods.values()) p.ns.keep();
    this.segment.hub.keep();
    const relays = this.bridge.keep();
    const etcdPids = this.etcd.keep();
    const state = {
      dir: this.dir,
      etcd: {
        endpoints: this.etcd.endpoints,
        env: this.etcdEnv(),
        pids: etcdPids,
        dataRoot: this.etcd.dataRoot,
      },
      daemonPids: pids,
      relayPids: relays.pids,
      relayDir: relays.dir,
      namespaces: [
        ...[...this.pods.values()].map((p) => p.ns.name),
        ...[...this.nodes.values()].map((n) => n.ns.name),
        this.segment.hub.name,
      ],
    };
    writeFileSync(stateFile, `${JSON.stringify(state, null, 2)}\n`);
    this.ds.close();
  }

  /** Tears everything down; safe to call after a partial start. */
  async down(): Promise<void> {
    for (const n of this.nodes.values()) {
      await n.bird?.stop().catch(() => undefined);
      await n.felix.stop().catch(() => undefined);
    }
    for (const p of this.pods.values()) await p.ns.destroy();
    for (const n of this.nodes.values()) await n.ns.destroy();
    this.pods.clear();
    this.nodes.clear();
    this.ds.close();
    await this.bridge.close();
    await this.segment.destroy();
    await this.etcd.destroy();
    rmSync(this.dir, { recursive: true, force: true });
  }
}

/** The key of a pod in `Cluster.pods`: its name in `default`, "namespace/name" elsewhere (names repeat across namespaces). */
export const podKey = (name: string, namespace: string): string =>
  namespace === 'default' ? name : `${namespace}/${name}`;

/** Tears down a cluster left by `demo --keep`, from its state file. */
export async function downFromState(stateFile: string): Promise<void> {
  const state = JSON.parse(readFileSync(stateFile, 'utf8')) as {
    dir: string;
    etcd: { pid?: number; pids?: number[]; dataRoot: string };
    daemonPids: number[];
    relayPids: number[];
    relayDir: string;
    namespaces: string[];
  };
  const kill = (pid: number | undefined, group: boolean) => {
    if (!pid) return;
    try {
      process.kill(group ? -pid : pid, 'SIGTERM');
    } catch {
      /* gone */
    }
  };
  for (const pid of state.daemonPids) kill(pid, true);
  await new Promise((r) => setTimeout(r, 1000));
  for (const pid of state.daemonPids) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  for (const pid of state.relayPids) kill(pid, false);
  for (const pid of state.etcd.pids ?? [state.etcd.pid]) kill(pid, false);
  for (const ns of state.namespaces) await Netns.adopt(ns).destroy();
  for (const d of [state.dir, state.relayDir, state.etcd.dataRoot])
    rmSync(d, { recursive: true, force: true });
  rmSync(stateFile, { force: true });
}
