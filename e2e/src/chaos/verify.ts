import { hostInterfaceName } from '@tricolor/cni';
import { run } from '@tricolor/testkit';
import type { Cluster } from '../cluster.js';
import { BINARIES } from '../paths.js';
import type { GonePod } from './pods.js';

/**
 * The end state, read without the project's own code wherever that can be: etcd with etcdctl
 * (blocks and endpoints decoded here from the JSON of DESIGN.md), the kernel with `ip -json`.
 * Only the repair goes through the project: `tricolorctl ipam check --repair --leak-grace 0`,
 * which the budget is about ("0 leaked addresses after ipam check --repair").
 */
export interface FinalCheck {
  repair: { exit: number; output: string };
  /** An address held twice: in two blocks, by two endpoints, or on two pods' eth0. */
  duplicates: string[];
  /** An allocation of a container that is no live pod (after the repair). */
  leaked: string[];
  /** An endpoint of no live pod, or whose address is not allocated to its container. */
  ghosts: string[];
  /** Routes and veths of deleted pods still in a node's kernel. */
  leftovers: string[];
  /** A live pod without its endpoint, allocation, veth or route. */
  livePods: string[];
  counts: { allocations: number; endpoints: number; livePods: number; gonePods: number };
}

interface Kv {
  key: string;
  value: string;
}

/** Every key under the prefix, straight from etcd (etcdctl, base64 as etcd gives it). */
async function etcdDump(cluster: Cluster, prefix: string): Promise<Kv[]> {
  const env = cluster.etcdEnv();
  const r = await run(
    'etcdctl',
    [
      '--endpoints',
      env.ETCD_ENDPOINTS!,
      ...(env.ETCD_CA_CERT_FILE
        ? ['--cacert', env.ETCD_CA_CERT_FILE, '--cert', env.ETCD_CERT_FILE!, '--key', env.ETCD_KEY_FILE!]
        : []),
      'get',
      '--prefix',
      prefix,
      '-w',
      'json',
    ],
    { env: { ...process.env, ETCDCTL_API: '3' } },
  );
  const out = JSON.parse(r.stdout) as { kvs?: { key: string; value: string }[] };
  const b64 = (s: string) => Buffer.from(s, 'base64').toString('utf8');
  return (out.kvs ?? []).map((kv) => ({ key: b64(kv.key), value: b64(kv.value) }));
}

const ipToInt = (ip: string) => ip.split('.').reduce((a, o) => a * 256 + Number(o), 0);
const intToIp = (n: number) => [24, 16, 8, 0].map((s) => Math.floor(n / 2 ** s) % 256).join('.');

export async function finalCheck(cluster: Cluster, gone: readonly GonePod[]): Promise<FinalCheck> {
  const repair = await run(
    process.execPath,
    [BINARIES.ctl, 'ipam', 'check', '--repair', '--leak-grace', '0'],
    {
      env: { ...process.env, ...cluster.etcdEnv() },
      allowFail: true,
    },
  );
  const kvs = await etcdDump(cluster, '/tricolor/');
  const live = [...cluster.pods.values()];
  const liveByContainer = new Map(live.map((p) => [p.containerId, p]));
  const duplicates: string[] = [];
  const leaked: string[] = [];
  const ghosts: string[] = [];
  const leftovers: string[] = [];
  const livePods: string[] = [];

  // Allocations, from the blocks' JSON (DESIGN.md "IPAM values in etcd").
  const owner = new Map<string, string>(); // ip → handle
  let allocations = 0;
  for (const kv of kvs.filter((k) => k.key.includes('/ipam/v2/assignment/ipv4/block/'))) {
    const b = JSON.parse(kv.value) as {
      cidr: string;
      allocations: (number | null)[];
      attributes: { handleId: string | null }[];
    };
    const base = ipToInt(b.cidr.split('/')[0]!);
    b.allocations.forEach((a, ordinal) => {
      if (a === null) return;
      allocations++;
      const ip = intToIp(base + ordinal);
      const handle = b.attributes[a]?.handleId ?? '(none)';
      if (owner.has(ip)) duplicates.push(`${ip} allocated twice (${owner.get(ip)}, ${handle})`);
      owner.set(ip, handle);
      const cid = handle.startsWith('k8s-pod-network.') ? handle.slice('k8s-pod-network.'.length) : undefined;
      if (cid !== undefined && !liveByContainer.has(cid))
        leaked.push(`${ip} (handle ${handle}) belongs to no live pod`);
    });
  }

  // Endpoints.
  const endpoints = kvs
    .filter((k) => k.key.includes('/resources/workloadendpoints/'))
    .map(
      (k) =>
        JSON.parse(k.value) as {
          metadata: { name: string; namespace: string };
          spec: { containerID?: string; ipNetworks: string[]; node: string };
        },
    );
  const epByIp = new Map<string, string>();
  for (const e of endpoints) {
    const name = `${e.metadata.namespace}/${e.metadata.name}`;
    const pod = e.spec.containerID ? liveByContainer.get(e.spec.containerID) : undefined;
    if (!pod) ghosts.push(`${name} (container ${e.spec.containerID}) is no live pod's`);
    for (const net of e.spec.ipNetworks) {
      const ip = net.split('/')[0]!;
      if (epByIp.has(ip)) duplicates.push(`${ip} on two endpoints (${epByIp.get(ip)}, ${name})`);
      epByIp.set(ip, name);
      if (pod && owner.get(ip) !== `k8s-pod-network.${e.spec.containerID}`)
        ghosts.push(`${name}: ${ip} is allocated to ${owner.get(ip) ?? 'nobody'}, not to its container`);
    }
  }

  // The kernel of every pod and node.
  const podIp = new Map<string, string>();
  for (const p of live) {
    const addrs = await p.ns
      .ipJson<{ addr_info: { family: string; local: string }[] }[]>(['addr', 'show', 'dev', 'eth0'])
      .catch(() => []);
    const ip = addrs[0]?.addr_info.find((a) => a.family === 'inet')?.local;
    if (!ip) livePods.push(`${p.name}: no IPv4 address on eth0`);
    else if (podIp.has(ip)) duplicates.push(`${ip} on two pods' eth0 (${podIp.get(ip)}, ${p.name})`);
    else podIp.set(ip, p.name);
    if (!endpoints.some((e) => e.spec.containerID === p.containerId))
      livePods.push(`${p.name}: no WorkloadEndpoint`);
    if (owner.get(p.ip) !== `k8s-pod-network.${p.containerId}`)
      livePods.push(`${p.name}: ${p.ip} is not allocated to it`);
  }
  const liveIps = new Set(live.map((p) => p.ip));
  for (const node of cluster.nodes.values()) {
    const links = await node.ns.ipJson<{ ifname: string }[]>(['link', 'show']);
    const routes = await node.ns.ipJson<{ dst: string; dev?: string; type?: string }[]>([
      'route',
      'show',
      'table',
      'main',
    ]);
    const names = new Set(links.map((l) => l.ifname));
    for (const g of gone.filter((x) => x.node === node.name)) {
      if (names.has(g.hostIf)) leftovers.push(`${node.name}: veth ${g.hostIf} of deleted pod ${g.name}`);
      if (g.ip && !liveIps.has(g.ip) && routes.some((r) => r.dst === g.ip || r.dst === `${g.ip}/32`))
        leftovers.push(`${node.name}: route to ${g.ip} of deleted pod ${g.name}`);
    }
    for (const r of routes.filter((x) => x.dev?.startsWith('cali'))) {
      const p = live.find((x) => x.node === node.name && hostInterfaceName(x.namespace, x.name) === r.dev);
      if (!p) leftovers.push(`${node.name}: route ${r.dst} dev ${r.dev} of no live pod`);
    }
    for (const p of live.filter((x) => x.node === node.name)) {
      const dev = hostInterfaceName(p.namespace, p.name);
      if (!names.has(dev)) livePods.push(`${p.name}: no ${dev} on ${node.name}`);
      if (!routes.some((r) => r.dst === p.ip && r.dev === dev))
        livePods.push(`${p.name}: no route ${p.ip} dev ${dev} on ${node.name}`);
    }
  }
  return {
    repair: { exit: repair.code, output: (repair.stdout + repair.stderr).trim() },
    duplicates,
    leaked,
    ghosts,
    leftovers,
    livePods,
    counts: { allocations, endpoints: endpoints.length, livePods: live.length, gonePods: gone.length },
  };
}
