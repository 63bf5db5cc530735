import {
  AlreadyExistsError,
  configFromEnv,
  Datastore,
  type KeyValueStore,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import { Ipam, IpamNodeNotFoundError } from '@tricolor/ipam';
import { CniCode, CniError } from './errors.js';
import { checkAgentsReady } from './health.js';
import { kubePodInfo } from './k8s/add.js';
import { endpointProfiles } from './k8s/pod.js';
import { endpointName, handleId, hostInterfaceName, workloadOf } from './names.js';
import { nodeNotRegistered, requireNodeResource, resolveNodename } from './node.js';
import { type CniRequest, type CniResult, type NetConf, parseNetConf, SUPPORTED_VERSIONS } from './spec.js';
import { checkVeth, createVeth, deleteVeth, GATEWAY_V4, GATEWAY_V6 } from './veth.js';

/** Everything a command needs, resolved once: who we are, the datastore, names. */
export interface Context {
  conf: NetConf;
  req: CniRequest;
  /** This node (config `nodename`, else felix's node name file); undefined when neither says. */
  node: string | undefined;
  /** Why `node` is unknown: ADD, CHECK and GC fail with it; DEL manages without. */
  nodeError: CniError | undefined;
  /** On the HTTP transport: a per-pod process must not spend 150–300 ms loading gRPC. */
  ds: Datastore<KeyValueStore>;
  ipam: Ipam;
  namespace: string;
  pod: string;
  hostIf: string;
  handle: string;
}

export function openContext(conf: NetConf, req: CniRequest, env: NodeJS.ProcessEnv): Context {
  const overrides: Parameters<typeof configFromEnv>[1] = { dialTimeoutMs: 3000 };
  if (conf.etcd_endpoints) overrides.endpoints = conf.etcd_endpoints.split(',').map((s) => s.trim());
  if (conf.etcd_ca_cert_file) overrides.caFile = conf.etcd_ca_cert_file;
  if (conf.etcd_cert_file) overrides.certFile = conf.etcd_cert_file;
  if (conf.etcd_key_file) overrides.keyFile = conf.etcd_key_file;
  if (conf.datastore_prefix) overrides.prefix = conf.datastore_prefix;
  let ds: Datastore<KeyValueStore>;
  try {
    // etcd's JSON gateway over node:http(s): nothing of etcd3/grpc-js is loaded (README "Start-up cost").
    ds = Datastore.connect(configFromEnv(env, overrides), { transport: 'http', requestTimeoutMs: 10_000 });
  } catch (e) {
    throw new CniError(CniCode.InvalidNetworkConfig, (e as Error).message);
  }
  let node: string | undefined;
  let nodeError: CniError | undefined;
  try {
    node = resolveNodename(conf);
  } catch (e) {
    nodeError = e as CniError;
  }
  const { namespace, pod } = workloadOf(req.args, req.containerId);
  return {
    conf,
    req,
    node,
    nodeError,
    ds,
    ipam: new Ipam(ds),
    namespace,
    pod,
    hostIf: hostInterfaceName(namespace, pod),
    handle: handleId(conf.name, req.containerId),
  };
}

/** This node's name, or the reason it is unknown (ADD, CHECK, GC cannot go on without it). */
function nodeOf(ctx: Context): string {
  if (ctx.node === undefined) throw ctx.nodeError!;
  return ctx.node;
}

/** The pod's endpoint name on a node (Calico's "<node>-k8s-<pod>-<endpoint>"). */
function wepNameOn(ctx: Context, node: string): string {
  return endpointName(node, ctx.pod, ctx.req.ifname || 'eth0');
}

/** Maps failures of the layers below to CNI codes, so kubelet and users see what went wrong. */
export function classify(e: unknown): CniError {
  if (e instanceof CniError) return e;
  const err = e as Error;
  const name = err?.constructor?.name ?? '';
  if (/^(GRPC|Etcd)/.test(name) || /etcd|ECONNREFUSED|UNAVAILABLE|deadline/i.test(err?.message ?? '')) {
    return new CniError(CniCode.DatastoreUnavailable, `datastore unavailable: ${err.message}`);
  }
  if (/no free address|exhausted|no .*pool/i.test(err?.message ?? ''))
    return new CniError(CniCode.AddressesExhausted, err.message);
  return new CniError(CniCode.Internal, err?.message ?? String(e));
}

function labelsOf(ctx: Context): Record<string, string> {
  const labels: Record<string, string> = {
    'tricolor.dev/namespace': ctx.namespace,
    'tricolor.dev/orchestrator': 'k8s',
  };
  for (const { key, value } of ctx.conf.args?.cni?.labels ?? []) labels[key] = value;
  return labels;
}

function result(ctx: Context, ips: string[], hostMac: string, podMac: string): CniResult {
  const legacy = ctx.conf.cniVersion.startsWith('0.3');
  const res: CniResult = {
    cniVersion: ctx.conf.cniVersion,
    interfaces: [
      { name: ctx.hostIf, mac: hostMac },
      { name: ctx.req.ifname, mac: podMac, sandbox: ctx.req.netns },
    ],
    ips: ips.map((address) => {
      const ip: CniResult['ips'][number] & { version?: string } = {
        address,
        gateway: address.includes(':') ? GATEWAY_V6 : GATEWAY_V4,
        interface: 1,
      };
      if (legacy) ip.version = address.includes(':') ? '6' : '4';
      return ip;
    }),
    routes: [
      ...(ips.some((a) => !a.includes(':')) ? [{ dst: '0.0.0.0/0' }] : []),
      ...(ips.some((a) => a.includes(':')) ? [{ dst: '::/0' }] : []),
    ],
    dns: {},
  };
  return res;
}

/** ADD: address, veth, endpoint record. A failure undoes what the ADD had started, the addresses included. */
export async function cmdAdd(ctx: Context): Promise<CniResult> {
  const { conf, ipam } = ctx;
  const node = nodeOf(ctx);
  // With a kubeconfig: the pod (labels, service account, ports, UID, IPAM annotations) is read
  // before anything is allocated, so an unreachable API server leaves nothing behind.
  const kube = await kubePodInfo(conf, ctx.namespace, ctx.pod);
  let ips: string[] = [];
  // How far this ADD got: a failure undoes only what it started, so an ADD that fails on its
  // first reads (etcd without quorum) answers after one request timeout, not three.
  let step: 'read' | 'assign' | 'veth' | 'endpoint' = 'read';
  try {
    const attributes: Record<string, string> = {
      namespace: ctx.namespace,
      pod: ctx.pod,
      node,
      containerID: ctx.req.containerId,
    };
    // The IPAM GC of tricolor-kube-controllers judges an address by the UID of its pod.
    const podUID = kube?.uid ?? ctx.req.args.K8S_POD_UID;
    if (podUID) attributes.podUID = podUID;
    if (kube?.ipam.ipAddrs) {
      // Never claim blocks for a node without a Node resource (nobody would export them).
      // A retried ADD (kubelet does retry) keeps the addresses it already holds.
      const [held] = await Promise.all([ipam.ipsByHandle(ctx.handle), requireNodeResource(ctx.ds, node)]);
      ips = held;
      step = 'assign';
      if (ips.length === 0) {
        for (const ip of kube.ipam.ipAddrs) await ipam.assignIp({ ip, node, handle: ctx.handle, attributes });
        ips = await ipam.ipsByHandle(ctx.handle);
      }
    } else {
      // The same two rules inside the allocation, at no extra round trip: the Node is read with
      // the pools, and a handle in use is found by the allocation's guarded write. autoAssign
      // releases what it allocated when it fails, so step stays 'read' until it returns.
      const got = await ipam
        .autoAssign({
          node,
          handle: ctx.handle,
          attributes,
          num4: conf.ipam.assign_ipv4 ? 1 : 0,
          num6: conf.ipam.assign_ipv6 ? 1 : 0,
          pools: [
            ...(kube?.ipam.ipv4Pools ?? conf.ipam.ipv4_pools ?? []),
            ...(kube?.ipam.ipv6Pools ?? conf.ipam.ipv6_pools ?? []),
          ].filter(Boolean),
          requireNode: true,
          reuseHandle: true,
        })
        .catch((e: unknown) => {
          throw e instanceof IpamNodeNotFoundError ? nodeNotRegistered(node) : e;
        });
      ips = [...got.ipv4, ...got.ipv6];
      step = 'assign';
    }
    if (ips.length === 0) throw new CniError(CniCode.AddressesExhausted, 'IPAM assigned no address');
    step = 'veth';
    const veth = await createVeth({
      netns: ctx.req.netns,
      ifname: ctx.req.ifname,
      hostIf: ctx.hostIf,
      mtu: conf.mtu,
      addresses: ips,
    });
    const wep: WorkloadEndpoint = {
      kind: 'WorkloadEndpoint',
      apiVersion: 'tricolor.dev/v1',
      metadata: {
        name: wepNameOn(ctx, node),
        namespace: ctx.namespace,
        labels: kube ? { ...labelsOf(ctx), ...kube.endpoint.labels } : labelsOf(ctx),
      },
      spec: {
        node,
        orchestrator: 'k8s',
        workload: `${ctx.namespace}/${ctx.pod}`,
        pod: ctx.pod,
        containerID: ctx.req.containerId,
        endpoint: ctx.req.ifname,
        interfaceName: ctx.hostIf,
        mac: veth.podMac,
        ipNetworks: ips,
        profiles: kube?.endpoint.profiles ?? endpointProfiles(ctx.namespace, undefined),
      },
    };
    if (kube?.endpoint.serviceAccountName) wep.spec.serviceAccountName = kube.endpoint.serviceAccountName;
    if (kube?.endpoint.ports.length) wep.spec.ports = kube.endpoint.ports;
    // Create first: the record almost never exists yet; a retried ADD finds it and replaces it.
    step = 'endpoint';
    await ctx.ds.create(wep).catch((e: unknown) => {
      if (e instanceof AlreadyExistsError) return ctx.ds.apply(wep);
      throw e;
    });
    return result(ctx, ips, veth.hostMac, veth.podMac);
  } catch (e) {
    // Failed on the first reads (datastore unavailable, no Node resource): nothing was
    // allocated, and addresses an earlier ADD holds under the handle are kept for its retry.
    if (step !== 'read') await undo(ctx, node, step).catch(() => undefined);
    throw classify(e);
  }
}

async function undo(ctx: Context, node: string, step: 'assign' | 'veth' | 'endpoint'): Promise<void> {
  if (step !== 'assign') await deleteVeth(ctx.hostIf).catch(() => undefined);
  if (step === 'endpoint') await deleteEndpointIfOurs(ctx, node).catch(() => undefined);
  await ctx.ipam.releaseByHandle(ctx.handle);
}

/**
 * Deletes the pod's endpoint on `node` unless it belongs to a newer container of the same
 * pod. Returns whether an endpoint of this container was there (deleted now).
 */
async function deleteEndpointIfOurs(ctx: Context, node: string): Promise<'ours' | 'newer' | 'none'> {
  const name = wepNameOn(ctx, node);
  const wep = await ctx.ds.get('WorkloadEndpoint', name, ctx.namespace);
  if (!wep) return 'none';
  if (wep.spec.containerID && wep.spec.containerID !== ctx.req.containerId) return 'newer';
  await ctx.ds.delete('WorkloadEndpoint', name, ctx.namespace, {
    resourceVersion: wep.metadata.resourceVersion!,
  });
  return 'ours';
}

/**
 * DEL: idempotent; works when the netns is already gone, ADD never finished, or this node's
 * name cannot be found any more. The endpoint is looked for on the node that allocated the
 * addresses (recorded with them) as well as on the node of the config, so a DEL under another
 * config than the ADD's still removes what the ADD wrote (issue 17: the address was freed, the
 * endpoint stayed behind as a ghost).
 */
export async function cmdDel(ctx: Context): Promise<void> {
  try {
    const released = await ctx.ipam.releaseAllocationsByHandle(ctx.handle);
    const nodes = new Set<string>();
    for (const r of released) if (r.attributes.node) nodes.add(r.attributes.node);
    if (ctx.node) nodes.add(ctx.node);
    let newer = false;
    for (const node of nodes) if ((await deleteEndpointIfOurs(ctx, node)) === 'newer') newer = true;
    // Never tear down the veth of a newer sandbox of the same pod.
    if (!newer) await deleteVeth(ctx.hostIf);
  } catch (e) {
    throw classify(e);
  }
}

/** CHECK: the interface, addresses and routes are as ADD left them, and IPAM agrees. */
export async function cmdCheck(ctx: Context): Promise<void> {
  const prev = ctx.conf.prevResult;
  if (!prev)
    throw new CniError(CniCode.InvalidNetworkConfig, 'network config: prevResult is required for CHECK');
  const ips = prev.ips.map((i) => i.address);
  try {
    await checkVeth({
      netns: ctx.req.netns,
      ifname: ctx.req.ifname,
      hostIf: ctx.hostIf,
      mtu: ctx.conf.mtu,
      addresses: ips,
    });
    const held = new Set(await ctx.ipam.ipsByHandle(ctx.handle));
    for (const ip of ips)
      if (!held.has(ip)) throw new CniError(CniCode.Internal, `IPAM does not hold ${ip} for ${ctx.handle}`);
    const name = wepNameOn(ctx, nodeOf(ctx));
    if (!(await ctx.ds.get('WorkloadEndpoint', name, ctx.namespace))) {
      throw new CniError(CniCode.Internal, `WorkloadEndpoint ${ctx.namespace}/${name} is missing`);
    }
  } catch (e) {
    throw classify(e);
  }
}

/**
 * STATUS (CNI 1.1): ready when the datastore answers, an enabled pool exists and the local
 * agents named by `health_urls` (felix, bird) are ready.
 */
export async function cmdStatus(ctx: Context): Promise<void> {
  const agents = ctx.conf.health_urls?.length ? checkAgentsReady(ctx.conf.health_urls) : Promise.resolve();
  agents.catch(() => undefined); // awaited below
  let pools: { spec: { disabled: boolean } }[];
  try {
    pools = (await ctx.ds.list('IPPool')).items;
  } catch (e) {
    throw new CniError(CniCode.PluginNotAvailable, `datastore unavailable: ${(e as Error).message}`);
  }
  if (!pools.some((p) => !p.spec.disabled))
    throw new CniError(CniCode.PluginNotAvailable, 'no enabled IPPool: pods cannot get addresses');
  await agents;
}

/**
 * GC (CNI 1.1): releases the addresses of this network that this node's runtime no longer
 * knows (allocated by this node: the runtime speaks only for its own attachments), and removes
 * the endpoints of the containers whose addresses it released.
 */
export async function cmdGc(ctx: Context): Promise<string[]> {
  const node = nodeOf(ctx);
  const valid = new Set(
    (
      (ctx.conf as unknown as Record<string, unknown>)['cni.dev/valid-attachments'] as
        | { containerID: string }[]
        | undefined
    )?.map((a) => handleId(ctx.conf.name, a.containerID)) ?? [],
  );
  const stale = new Set<string>();
  for (const a of await ctx.ipam.allocations()) {
    if (!a.handle?.startsWith(`${ctx.conf.name}.`) || valid.has(a.handle) || a.attributes.node !== node)
      continue;
    stale.add(a.handle);
  }
  const released: string[] = [];
  const gone = new Map<string, Set<string>>(); // namespace → container ids
  for (const handle of stale) {
    for (const r of await ctx.ipam.releaseAllocationsByHandle(handle)) {
      released.push(r.ip);
      const ns = r.attributes.namespace ?? 'default';
      const set = gone.get(ns) ?? new Set<string>();
      set.add(handle.slice(ctx.conf.name.length + 1));
      gone.set(ns, set);
    }
  }
  for (const [ns, containers] of gone) {
    for (const w of (await ctx.ds.list('WorkloadEndpoint', ns)).items) {
      if (w.spec.node !== node || !w.spec.containerID || !containers.has(w.spec.containerID)) continue;
      await ctx.ds
        .delete('WorkloadEndpoint', w.metadata.name, ns, { resourceVersion: w.metadata.resourceVersion! })
        .catch(() => undefined); // rewritten meanwhile by a new ADD: not ours any more
    }
  }
  return released;
}

export function versionInfo(cniVersion = '1.1.0'): Record<string, unknown> {
  return { cniVersion, supportedVersions: [...SUPPORTED_VERSIONS] };
}

export { parseNetConf };
