/**
 * The data path: TCP throughput (iperf3) and ping round-trip time pod ↔ pod across two nodes,
 * against node ↔ node over the same links in the same run (the anchor: what the veths and
 * the bridge between the nodes carry at most on this machine). Runs alternate (node, pod,
 * node, pod, ...) so both see the same load; the figure is the median. Also the MTU as the
 * CNI plugin and felix set it, DF pings at the largest size that must pass and one byte more,
 * and the IP fragments the nodes created or reassembled during the runs (must be none).
 * A second anchor is the kernel's own path without Tricolor between the same nodes: in VXLAN
 * mode a bare kernel VXLAN pair (what encapsulation alone costs), in direct mode bare routed
 * veths (what two veth hops and two forwarding decisions cost), so Tricolor's own share can
 * be read apart.
 */
import type { ChildProcess } from 'node:child_process';
import { type BenchRow, connectVeth, Netns } from '@tricolor/testkit';
import { Cluster, type Mode } from '../src/cluster.js';
import { iperf, startIperfServer } from './iperf.js';
import { median } from './stats.js';

export interface DataPathOptions {
  /** iperf3 runs of each kind (alternating). */
  runs: number;
  /** Seconds per iperf3 run. */
  seconds: number;
  /** Echo requests per ping run (one run per iperf3 run, 10 ms apart). */
  pings: number;
  log: (line: string) => void;
}

/** Bytes a VXLAN encapsulation adds on IPv4: outer IP 20, UDP 8, VXLAN 8, inner Ethernet 14. */
export const VXLAN_OVERHEAD = 50;
/** ICMP echo payload = MTU − IPv4 header (20) − ICMP header (8). */
const ICMP_OVERHEAD = 28;

/** Tunnel-mode overhead the pod MTU must leave below the link's. */
export const podMtuFor = (mode: Mode, linkMtu: number): number =>
  mode === 'vxlan' ? linkMtu - VXLAN_OVERHEAD : linkMtu;

/**
 * The kernel's own VXLAN between the two nodes, without Tricolor: a bare pair on a VNI, port
 * and addresses of its own (no routes, rules or neighbors of ours), so the VXLAN rows can be
 * read against what encapsulation alone costs on this kernel, in the same run.
 */
const BARE_VXLAN = { dev: 'vxlan.bare', vni: 4097, port: 4790, prefix: '198.19.255', len: 30 };

/** The kernel's own path between the nodes: where iperf3 and ping run from and to. */
interface BarePath {
  /** Named in the rows: "bare kernel VXLAN pair", "bare routed veths". */
  name: string;
  /** The name after "over": "a bare kernel VXLAN pair", "bare routed veths". */
  over: string;
  from: Netns;
  to: string;
  /** Where the iperf3 server runs (the nodes' own server serves the VXLAN pair). */
  serverNs?: Netns;
}

async function bareVxlanPair(
  a: { ns: Netns; ip: string },
  b: { ns: Netns; ip: string },
  mtu: number,
): Promise<BarePath> {
  const ends = [
    { ns: a.ns, local: a.ip, remote: b.ip, addr: `${BARE_VXLAN.prefix}.1` },
    { ns: b.ns, local: b.ip, remote: a.ip, addr: `${BARE_VXLAN.prefix}.2` },
  ];
  for (const e of ends) {
    await e.ns.exec('ip', [
      'link',
      'add',
      BARE_VXLAN.dev,
      'type',
      'vxlan',
      'id',
      String(BARE_VXLAN.vni),
      'local',
      e.local,
      'remote',
      e.remote,
      'dstport',
      String(BARE_VXLAN.port),
      'dev',
      'eth0',
    ]);
    await e.ns.exec('ip', ['link', 'set', BARE_VXLAN.dev, 'mtu', String(mtu), 'up']);
    await e.ns.exec('ip', ['addr', 'add', `${e.addr}/${BARE_VXLAN.len}`, 'dev', BARE_VXLAN.dev]);
  }
  return { name: 'bare kernel VXLAN pair', over: 'a bare kernel VXLAN pair', from: a.ns, to: ends[1]!.addr };
}

/**
 * The kernel's own routed path between two pods, without Tricolor: on each node a namespace of
 * its own joined by a plain veth pair (a /30 each, the node's end the pod's gateway) and one
 * static route per node towards the other's /30, so a packet crosses the same two veth hops and
 * two forwarding decisions as a pod's, with none of our devices, routes, neighbors or ARP
 * proxying. The direct rows read against it say what is Tricolor's and what is the kernel's.
 */
const BARE_ROUTED = { prefix: '198.19.254', hostIf: 'bare0', len: 30 };

async function bareRoutedPath(
  a: { ns: Netns; ip: string },
  b: { ns: Netns; ip: string },
  mtu: number,
  created: Netns[],
): Promise<BarePath> {
  const p = BARE_ROUTED.prefix;
  const sides = [
    { node: a, gw: `${p}.1`, pod: `${p}.2`, net: `${p}.0/${BARE_ROUTED.len}` },
    { node: b, gw: `${p}.5`, pod: `${p}.6`, net: `${p}.4/${BARE_ROUTED.len}` },
  ];
  const pods: Netns[] = [];
  for (const [i, s] of sides.entries()) {
    const pod = await Netns.create(`bare${i + 1}`);
    created.push(pod);
    pods.push(pod);
    await connectVeth(s.node.ns, `${s.gw}/${BARE_ROUTED.len}`, pod, `${s.pod}/${BARE_ROUTED.len}`, {
      a: BARE_ROUTED.hostIf,
    });
    await s.node.ns.exec('ip', ['link', 'set', BARE_ROUTED.hostIf, 'mtu', String(mtu)]);
    await pod.exec('ip', ['link', 'set', 'eth0', 'mtu', String(mtu)]);
    await pod.exec('ip', ['route', 'add', 'default', 'via', s.gw]);
  }
  const [one, two] = sides as [(typeof sides)[0], (typeof sides)[0]];
  await one.node.ns.exec('ip', ['route', 'add', two.net, 'via', two.node.ip]);
  await two.node.ns.exec('ip', ['route', 'add', one.net, 'via', one.node.ip]);
  return {
    name: 'bare routed veths',
    over: 'bare routed veths',
    from: pods[0]!,
    to: two.pod,
    serverNs: pods[1]!,
  };
}

/** Round-trip times (ms) of `count` echo requests 10 ms apart. */
async function pingRtts(ns: Netns, ip: string, count: number): Promise<number[]> {
  const r = await ns.exec('ping', ['-n', '-c', String(count), '-i', '0.01', '-W', '1', ip], {
    allowFail: true,
  });
  const rtts = [...r.stdout.matchAll(/time=([\d.]+) ms/g)].map((m) => Number(m[1]));
  if (rtts.length === 0) throw new Error(`ping ${ip}: no reply\n${r.stdout}${r.stderr}`);
  return rtts;
}

/** Whether a ping with DF set and `payload` bytes gets a reply. */
async function dfPing(ns: Netns, ip: string, payload: number): Promise<boolean> {
  const r = await ns.exec('ping', ['-n', '-c', '1', '-W', '2', '-M', 'do', '-s', String(payload), ip], {
    allowFail: true,
  });
  return r.code === 0;
}

async function linkMtu(ns: Netns, dev: string): Promise<number> {
  const [l] = await ns.ipJson<{ mtu: number }[]>(['link', 'show', 'dev', dev]);
  return l!.mtu;
}

/** IPv4 fragmentation counters of a namespace (/proc/net/snmp is per network namespace). */
async function fragCounters(ns: Netns): Promise<number> {
  const { stdout } = await ns.exec('cat', ['/proc/net/snmp']);
  const [head, values] = stdout.split('\n').filter((l) => l.startsWith('Ip:'));
  const names = head!.split(/\s+/);
  const vals = values!.split(/\s+/).map(Number);
  const get = (n: string) => vals[names.indexOf(n)] ?? 0;
  return get('FragCreates') + get('ReasmReqds') + get('FragFails');
}

/** The offload features that decide per-packet cost on veth and vxlan devices. */
async function offloads(ns: Netns, dev: string): Promise<string> {
  const r = await ns.exec('ethtool', ['-k', dev], { allowFail: true });
  if (r.code !== 0) return 'ethtool failed';
  const keep = [
    'tx-checksumming',
    'rx-checksumming',
    'tcp-segmentation-offload',
    'generic-segmentation-offload',
    'generic-receive-offload',
    'rx-gro-list',
    'rx-udp-gro-forwarding',
  ];
  return r.stdout
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => keep.some((k) => l.startsWith(`${k}:`)))
    .map((l) => l.replace(/: /, '=').replace(/ \[fixed\]/, '(fixed)'))
    .join(' ');
}

export async function measureDataPath(mode: 'mesh' | 'vxlan', o: DataPathOptions): Promise<BenchRow[]> {
  const cluster = await Cluster.up({ nodes: 2, mode });
  const servers: ChildProcess[] = [];
  const barePods: Netns[] = [];
  try {
    const n1 = cluster.nodes.get('node-1')!;
    const n2 = cluster.nodes.get('node-2')!;
    const a = await cluster.createPod('node-1', 'dp-a');
    const b = await cluster.createPod('node-2', 'dp-b');
    if ((await cluster.firstReplyMs(a, b.ip, 30)) === undefined)
      throw new Error(`${mode}: ${b.ip} unreachable`);

    // MTU: the link's, the pod's (CNI plugin), the tunnel's (felix); DF pings at the limit.
    const link = await linkMtu(n1.ns, 'eth0');
    const want = podMtuFor(mode, link);
    const problems: string[] = [];
    const podMtu = await linkMtu(a.ns, 'eth0');
    if (podMtu !== want) problems.push(`pod eth0 MTU ${podMtu}, want ${want}`);
    if (mode === 'vxlan') {
      const tunnel = await linkMtu(n1.ns, 'vxlan.tricolor');
      if (tunnel !== want) problems.push(`vxlan.tricolor MTU ${tunnel}, want ${want}`);
    }
    const largest = want - ICMP_OVERHEAD;
    if (!(await dfPing(a.ns, b.ip, largest))) problems.push(`DF ping of ${largest} B payload failed`);
    if (await dfPing(a.ns, b.ip, largest + 1)) problems.push(`DF ping of ${largest + 1} B payload passed`);
    o.log(
      `${mode}: link MTU ${link}, pod MTU ${podMtu}; DF ${largest} B / ${largest + 1} B: ${problems.length ? problems.join('; ') : 'pass / fail as they should'}`,
    );
    const hostIf = (await n1.ns.ipJson<{ dst: string; dev: string }[]>(['route', 'show', `${a.ip}/32`]))[0]
      ?.dev;
    o.log(`${mode}: offloads pod eth0: ${await offloads(a.ns, 'eth0')}`);
    if (hostIf) o.log(`${mode}: offloads node ${hostIf}: ${await offloads(n1.ns, hostIf)}`);
    o.log(`${mode}: offloads node eth0: ${await offloads(n1.ns, 'eth0')}`);
    if (mode === 'vxlan')
      o.log(`${mode}: offloads vxlan.tricolor: ${await offloads(n1.ns, 'vxlan.tricolor')}`);

    const bare =
      mode === 'vxlan' ? await bareVxlanPair(n1, n2, want) : await bareRoutedPath(n1, n2, want, barePods);
    servers.push(await startIperfServer(n2.ns), await startIperfServer(b.ns));
    if (bare.serverNs) servers.push(await startIperfServer(bare.serverNs));
    const fragsBefore = (await fragCounters(n1.ns)) + (await fragCounters(n2.ns));
    const nodeGbps: number[] = [];
    const podGbps: number[] = [];
    const nodeRtt: number[] = [];
    const podRtt: number[] = [];
    const bareGbps: number[] = [];
    const bareRtt: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      const nn = await iperf(n1.ns, n2.ip, o.seconds);
      const bb = await iperf(bare.from, bare.to, o.seconds);
      const pp = await iperf(a.ns, b.ip, o.seconds);
      nodeGbps.push(nn.gbps);
      podGbps.push(pp.gbps);
      bareGbps.push(bb.gbps);
      nodeRtt.push(...(await pingRtts(n1.ns, n2.ip, o.pings)));
      bareRtt.push(...(await pingRtts(bare.from, bare.to, o.pings)));
      podRtt.push(...(await pingRtts(a.ns, b.ip, o.pings)));
      o.log(
        `${mode}: run ${i + 1}: node↔node ${nn.gbps.toFixed(2)} Gbit/s (${nn.retransmits} retr), ${bare.name} ${bb.gbps.toFixed(2)} Gbit/s (${bb.retransmits} retr), pod↔pod ${pp.gbps.toFixed(2)} Gbit/s (${pp.retransmits} retr)`,
      );
    }
    const frags = (await fragCounters(n1.ns)) + (await fragCounters(n2.ns)) - fragsBefore;
    const label = mode === 'mesh' ? 'direct (mesh)' : 'VXLAN';
    const anchor = (figure: number) => ({ name: 'node↔node', figure });
    const againstBare = (figure: number) => ({ name: bare.name, figure });
    // What the kernel's own path costs here (encapsulation; or veths and forwarding), and
    // Tricolor's share beyond it (its devices, routes, rules).
    const bareRows: BenchRow[] = [
      {
        row: `${label}: TCP over ${bare.over} (no Tricolor), median of ${o.runs}`,
        figure: median(bareGbps),
        unit: 'Gbit/s',
        anchor: anchor(median(nodeGbps)),
      },
      {
        row: `${label}: TCP pod↔pod against the ${bare.name}, median of ${o.runs}`,
        figure: median(podGbps),
        unit: 'Gbit/s',
        anchor: againstBare(median(bareGbps)),
        target: { on: 'ratio', op: '>=', value: 0.95 },
      },
      {
        row: `${label}: ping RTT over ${bare.over} (no Tricolor), median of ${bareRtt.length}`,
        figure: median(bareRtt) * 1000,
        unit: 'µs',
        anchor: anchor(median(nodeRtt) * 1000),
      },
      {
        row: `${label}: ping RTT pod↔pod against the ${bare.name}, median of ${podRtt.length}`,
        figure: median(podRtt) * 1000,
        unit: 'µs',
        anchor: againstBare(median(bareRtt) * 1000),
        target: { on: 'ratio', op: '<=', value: 1.1 },
      },
    ];
    return [
      {
        row: `${label}: TCP pod↔pod across nodes, median of ${o.runs}`,
        figure: median(podGbps),
        unit: 'Gbit/s',
        anchor: anchor(median(nodeGbps)),
        target: { on: 'ratio', op: '>=', value: mode === 'mesh' ? 0.95 : 0.8 },
      },
      {
        row: `${label}: ping RTT pod↔pod, median of ${podRtt.length}`,
        figure: median(podRtt) * 1000,
        unit: 'µs',
        anchor: anchor(median(nodeRtt) * 1000),
        target: { on: 'ratio', op: '<=', value: 1.1 },
      },
      ...bareRows,
      {
        row: `${label}: MTU and DF-ping checks failed`,
        figure: problems.length,
        unit: '',
        target: { on: 'figure', op: '<=', value: 0 },
      },
      {
        row: `${label}: IP fragments on the nodes during the runs`,
        figure: frags,
        unit: '',
        target: { on: 'figure', op: '<=', value: 0 },
      },
    ];
  } finally {
    for (const s of servers) s.kill('SIGTERM');
    for (const ns of barePods) await ns.destroy();
    await cluster.down();
  }
}
