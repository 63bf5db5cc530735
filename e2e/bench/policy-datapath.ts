/**
 * TCP throughput pod ↔ pod across two nodes with network policy enforced on both pods, against
 * the same pods with no policy selecting them, in the same run. The policies are those of
 * felix's policy bench at full size: P NetworkPolicies in `default`, each with an ingress and
 * an egress rule selecting remote endpoints by label (S distinct selectors, one ipset each),
 * over R remote endpoints; here every one of them applies to the iperf3 client (egress) and
 * server (ingress), and the last in order is the one that allows the client to the server. The
 * first packet of a connection walks all P policies on each node; the packets after it are
 * accepted by conntrack before policy.
 *
 * Runs alternate (policy off, on, off, on, ...): "off" relabels the two pods so no policy
 * selects them (their profile allows), "on" gives the labels back. Each switch is waited for:
 * a third pod's connection to the server must be refused (on) or pass (off), which also proves
 * the policies are enforced while measured.
 */
import type { ChildProcess } from 'node:child_process';
import { type NetworkPolicy, validateResource, type WorkloadEndpoint } from '@tricolor/datastore';
import type { BenchRow } from '@tricolor/testkit';
import { Cluster, type PodHandle } from '../src/cluster.js';
import { setNamespaceLabels, setPodLabels, writeServiceAccountProfile } from '../src/netpol/actions.js';
import { NAMESPACE_NAME_LABEL } from '../src/netpol/layout.js';
import { IPERF_PORT, iperf, startIperfServer } from './iperf.js';
import { median } from './stats.js';

export interface PolicyDataPathOptions {
  /** iperf3 runs of each kind (alternating). */
  runs: number;
  seconds: number;
  /** Policies applying to both pods (the size: 1,000). */
  policies: number;
  /** Remote endpoints the rules' selectors match (the issue's size: 5,000). */
  remote: number;
  log: (line: string) => void;
}

/** A node no felix runs on: its endpoints are remote to both nodes (selector set members only). */
const PHANTOM_NODE = 'node-elsewhere';
const remoteIp = (i: number) => `10.${200 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`;

function remoteEndpoint(i: number, role: string): WorkloadEndpoint {
  return validateResource({
    kind: 'WorkloadEndpoint',
    apiVersion: 'tricolor.dev/v1',
    metadata: {
      name: `${PHANTOM_NODE}-k8s-remote--${i}-eth0`,
      namespace: 'default',
      labels: { role, 'tricolor.dev/namespace': 'default', 'tricolor.dev/orchestrator': 'k8s' },
    },
    spec: {
      node: PHANTOM_NODE,
      orchestrator: 'k8s',
      workload: `default/remote-${i}`,
      pod: `remote-${i}`,
      endpoint: 'eth0',
      interfaceName: `calir${i.toString(16).padStart(10, '0')}`,
      ipNetworks: [`${remoteIp(i)}/32`],
      profiles: ['kns.default'],
    },
  }) as WorkloadEndpoint;
}

/** Policy j of `total`: the filler rules of felix's bench, or (the last) the one that allows. */
function policy(j: number, total: number, selectors: number): NetworkPolicy {
  const last = j === total - 1;
  const role = `role == 'role-${j % selectors}'`;
  return validateResource({
    kind: 'NetworkPolicy',
    apiVersion: 'tricolor.dev/v1',
    metadata: { name: `bench-${j}`, namespace: 'default' },
    spec: {
      order: j,
      selector: "bench in {'server', 'client'}",
      types: ['Ingress', 'Egress'],
      ingress: [
        last
          ? { action: 'Allow', protocol: 'TCP', source: { selector: "bench == 'client'" } }
          : {
              action: 'Allow',
              protocol: 'TCP',
              source: { selector: role },
              destination: { ports: [80, 443] },
            },
      ],
      egress: [
        last
          ? {
              action: 'Allow',
              protocol: 'TCP',
              destination: { selector: "bench == 'server'", ports: [IPERF_PORT] },
            }
          : { action: 'Allow', destination: { selector: role } },
      ],
    },
  }) as NetworkPolicy;
}

async function endpointName(cluster: Cluster, pod: PodHandle): Promise<string> {
  const wep = (await cluster.ds.list('WorkloadEndpoint', pod.namespace)).items.find(
    (w) => w.spec.pod === pod.name,
  );
  if (!wep) throw new Error(`no WorkloadEndpoint for ${pod.name}`);
  return wep.metadata.name;
}

/** Whether `from` can open a TCP connection to the iperf3 server at `ip` within a second. */
async function connects(from: PodHandle, ip: string): Promise<boolean> {
  const r = await from.ns.exec(
    'iperf3',
    ['-c', ip, '-p', String(IPERF_PORT), '-t', '1', '--connect-timeout', '1000', '-J'],
    { allowFail: true, timeoutMs: 15_000 },
  );
  // iperf3 3.12 with -J exits 0 on a failed connect: the JSON's "error" says it.
  const j = JSON.parse(r.stdout || '{}') as { error?: string };
  return r.code === 0 && j.error === undefined;
}

export async function measurePolicyDataPath(o: PolicyDataPathOptions): Promise<BenchRow[]> {
  const cluster = await Cluster.up({ nodes: 2, mode: 'mesh' });
  let server: ChildProcess | undefined;
  try {
    const ds = cluster.ds;
    await setNamespaceLabels(ds, 'default', { [NAMESPACE_NAME_LABEL]: 'default' });
    await writeServiceAccountProfile(ds, 'default');
    const a = await cluster.createPod('node-1', 'bench-client');
    const b = await cluster.createPod('node-2', 'bench-server');
    const c = await cluster.createPod('node-1', 'bench-other');
    const names = new Map<PodHandle, string>();
    for (const p of [a, b, c]) names.set(p, await endpointName(cluster, p));
    const label = (p: PodHandle, bench: string) => setPodLabels(ds, 'default', names.get(p)!, { bench });
    await label(c, 'other');

    const selectors = Math.max(2, Math.floor(o.policies / 10));
    const t0 = performance.now();
    for (let i = 0; i < o.remote; i++) {
      const w = remoteEndpoint(i, `role-${i % selectors}`);
      await ds.create(w);
    }
    for (let j = 0; j < o.policies; j++) await ds.create(policy(j, o.policies, selectors));
    o.log(
      `policy: ${o.policies} policies, ${o.remote} remote endpoints, ${selectors} selector sets written in ${((performance.now() - t0) / 1000).toFixed(1)} s`,
    );

    server = await startIperfServer(b.ns);
    /** Switches policy on or off for the measured pods and waits until the third pod sees it. */
    const switchPolicy = async (on: boolean) => {
      await label(a, on ? 'client' : 'client-off');
      await label(b, on ? 'server' : 'server-off');
      const s = performance.now();
      try {
        await cluster.waitFor(
          async () => (await connects(c, b.ip)) === !on,
          180_000,
          `policy ${on ? 'enforced' : 'lifted'} on the server (another pod ${on ? 'refused' : 'let in'})`,
        );
      } catch (e) {
        const node2 = cluster.nodes.get('node-2')!;
        const save = (await node2.ns.exec('iptables-save', ['-t', 'filter'])).stdout.split('\n');
        const wep = await ds.get('WorkloadEndpoint', names.get(b)!, 'default');
        const tw = save.filter((l) => l.startsWith(`-A tri-tw-${wep?.spec.interfaceName}`));
        throw new Error(
          `${(e as Error).message}\nserver ${b.ip} labels ${JSON.stringify(wep?.metadata.labels)}, other ${c.ip}; ` +
            `the server's chain on node-2:\n${tw.join('\n')}`,
        );
      }
      return performance.now() - s;
    };
    const firstOn = await switchPolicy(true);
    o.log(`policy: enforced on both nodes ${(firstOn / 1000).toFixed(1)} s after the labels were set`);
    const [n1, n2] = [cluster.nodes.get('node-1')!, cluster.nodes.get('node-2')!];
    const chains = async (n: typeof n1) =>
      (await n.ns.exec('iptables-save', ['-t', 'filter'])).stdout
        .split('\n')
        .filter((l) => l.startsWith(':tri-pi-')).length;
    const programmed = [await chains(n1), await chains(n2)];
    o.log(`policy: per-policy ingress chains on node-1/node-2: ${programmed.join('/')}`);
    if (programmed.some((x) => x < o.policies))
      throw new Error(`policy chains ${programmed} < ${o.policies}`);

    const off: number[] = [];
    const on: number[] = [];
    for (let i = 0; i < o.runs; i++) {
      await switchPolicy(false);
      const x = await iperf(a.ns, b.ip, o.seconds);
      await switchPolicy(true);
      const y = await iperf(a.ns, b.ip, o.seconds);
      off.push(x.gbps);
      on.push(y.gbps);
      o.log(`policy: run ${i + 1}: without ${x.gbps.toFixed(2)} Gbit/s, with ${y.gbps.toFixed(2)} Gbit/s`);
    }
    const what = `${o.policies.toLocaleString('en-US')} policies, ${o.remote.toLocaleString('en-US')} remote endpoints`;
    return [
      {
        row: `TCP pod↔pod across nodes with ${what}, median of ${o.runs}`,
        figure: median(on),
        unit: 'Gbit/s',
        anchor: { name: 'the same pods, no policy', figure: median(off) },
        target: { on: 'ratio', op: '>=', value: 0.9 },
      },
      {
        row: `policy on the iperf3 pods enforced after their labels changed (${what})`,
        figure: firstOn / 1000,
        unit: 's',
      },
    ];
  } finally {
    server?.kill('SIGTERM');
    await cluster.down();
  }
}
