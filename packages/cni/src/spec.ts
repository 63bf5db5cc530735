import { CniCode, CniError } from './errors.js';

export const SUPPORTED_VERSIONS = ['0.3.0', '0.3.1', '0.4.0', '1.0.0', '1.1.0'] as const;
export const PLUGIN_TYPE = 'tricolor';

/** The network configuration kubelet hands the plugin on stdin (one plugin of a conflist). */
export interface NetConf {
  cniVersion: string;
  name: string;
  type: string;
  mtu: number;
  nodename?: string;
  /** Where felix writes the node name, read when `nodename` is not given (Calico's `nodename_file`). */
  nodename_file?: string;
  etcd_endpoints?: string;
  etcd_ca_cert_file?: string;
  etcd_cert_file?: string;
  etcd_key_file?: string;
  datastore_prefix?: string;
  ipam: {
    type: string;
    assign_ipv4: boolean;
    assign_ipv6: boolean;
    ipv4_pools?: string[];
    ipv6_pools?: string[];
  };
  /** Where the plugin reads its pod (Calico's `kubernetes.kubeconfig`); without it, no API read. */
  kubernetes?: { kubeconfig: string };
  /** STATUS is ready only when each of these answers 200 (the local felix's and bird's /readiness). */
  health_urls?: string[];
  /** Appends one JSON line per command here (Calico's `log_file_path`). */
  log_file_path?: string;
  /** CNI conventions: args.cni.labels become the endpoint's labels. */
  args?: { cni?: { labels?: { key: string; value: string }[] } };
  prevResult?: CniResult;
  runtimeConfig?: Record<string, unknown>;
}

export interface CniResult {
  cniVersion: string;
  interfaces: { name: string; mac?: string; sandbox?: string; mtu?: number }[];
  ips: { address: string; gateway?: string; interface?: number }[];
  routes: { dst: string; gw?: string }[];
  dns: Record<string, unknown>;
}

function fail(field: string, problem: string): never {
  throw new CniError(CniCode.InvalidNetworkConfig, `network config: ${field} ${problem}`);
}

/** Parses and validates the config from stdin; errors name the field. */
export function parseNetConf(text: string): NetConf {
  let raw: Record<string, unknown>;
  try {
    raw = JSON.parse(text) as Record<string, unknown>;
  } catch (e) {
    throw new CniError(CniCode.DecodeFailure, `network config is not JSON: ${(e as Error).message}`);
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) fail('(root)', 'must be a JSON object');
  const version = raw.cniVersion;
  if (typeof version !== 'string') fail('cniVersion', 'is required');
  if (!(SUPPORTED_VERSIONS as readonly string[]).includes(version)) {
    throw new CniError(
      CniCode.IncompatibleVersion,
      `cniVersion ${JSON.stringify(version)} is not supported (supported: ${SUPPORTED_VERSIONS.join(', ')})`,
    );
  }
  if (typeof raw.name !== 'string' || !/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(raw.name))
    fail('name', 'must be a network name of letters, digits, "_", "." and "-"');
  if (raw.type !== PLUGIN_TYPE) fail('type', `must be ${JSON.stringify(PLUGIN_TYPE)}`);
  const mtu = raw.mtu ?? 1500;
  if (typeof mtu !== 'number' || !Number.isInteger(mtu) || mtu < 576 || mtu > 9216)
    fail('mtu', `${JSON.stringify(mtu)} is not an MTU between 576 and 9216`);
  const ipamRaw = (raw.ipam ?? {}) as Record<string, unknown>;
  if (typeof ipamRaw !== 'object') fail('ipam', 'must be an object');
  if (ipamRaw.type !== undefined && ipamRaw.type !== 'tricolor-ipam')
    fail('ipam.type', 'must be "tricolor-ipam" (other IPAM plugins are not supported)');
  const bool = (v: unknown, field: string, dflt: boolean) => {
    if (v === undefined) return dflt;
    if (typeof v === 'boolean') return v;
    if (v === 'true' || v === 'false') return v === 'true';
    return fail(field, `${JSON.stringify(v)} is not true or false`);
  };
  const pools = (v: unknown, field: string) => {
    if (v === undefined) return undefined;
    if (!Array.isArray(v) || v.some((p) => typeof p !== 'string'))
      fail(field, 'must be a list of pool names or CIDRs');
    return v as string[];
  };
  for (const f of [
    'nodename',
    'etcd_endpoints',
    'etcd_ca_cert_file',
    'etcd_cert_file',
    'etcd_key_file',
    'datastore_prefix',
  ] as const) {
    if (raw[f] !== undefined && typeof raw[f] !== 'string') fail(f, 'must be a string');
  }
  if (raw.kubernetes !== undefined) {
    const k = raw.kubernetes as Record<string, unknown>;
    if (typeof k !== 'object' || k === null || Array.isArray(k)) fail('kubernetes', 'must be an object');
    if (typeof k.kubeconfig !== 'string' || !k.kubeconfig)
      fail('kubernetes.kubeconfig', 'must be a file path');
    for (const key of Object.keys(k))
      if (key !== 'kubeconfig') fail(`kubernetes.${key}`, 'is not a known field');
  }
  if (raw.health_urls !== undefined) {
    const h = raw.health_urls;
    if (!Array.isArray(h) || h.some((u) => typeof u !== 'string' || !/^https?:\/\//.test(u)))
      fail('health_urls', 'must be a list of http(s) URLs');
  }
  if (
    raw.nodename_file !== undefined &&
    (typeof raw.nodename_file !== 'string' || !raw.nodename_file.startsWith('/'))
  )
    fail('nodename_file', 'must be an absolute file path');
  if (
    raw.log_file_path !== undefined &&
    (typeof raw.log_file_path !== 'string' || !raw.log_file_path.startsWith('/'))
  )
    fail('log_file_path', 'must be an absolute file path');
  const ipam = {
    type: 'tricolor-ipam',
    assign_ipv4: bool(ipamRaw.assign_ipv4, 'ipam.assign_ipv4', true),
    assign_ipv6: bool(ipamRaw.assign_ipv6, 'ipam.assign_ipv6', false),
    ipv4_pools: pools(ipamRaw.ipv4_pools, 'ipam.ipv4_pools'),
    ipv6_pools: pools(ipamRaw.ipv6_pools, 'ipam.ipv6_pools'),
  };
  if (!ipam.assign_ipv4 && !ipam.assign_ipv6)
    fail('ipam', 'assigns no address: set assign_ipv4 or assign_ipv6');
  return { ...(raw as unknown as NetConf), mtu, ipam };
}

/** What the runtime tells the plugin through the environment (CNI spec §"Parameters"). */
export interface CniRequest {
  command: 'ADD' | 'DEL' | 'CHECK' | 'VERSION' | 'STATUS' | 'GC';
  containerId: string;
  netns: string;
  ifname: string;
  args: Record<string, string>;
  path: string;
}

export function parseEnv(env: NodeJS.ProcessEnv): CniRequest {
  const command = env.CNI_COMMAND;
  const commands = ['ADD', 'DEL', 'CHECK', 'VERSION', 'STATUS', 'GC'] as const;
  if (!command || !(commands as readonly string[]).includes(command)) {
    throw new CniError(
      CniCode.InvalidEnvironment,
      `CNI_COMMAND ${JSON.stringify(command ?? '')} is not one of ${commands.join(', ')}`,
    );
  }
  const args: Record<string, string> = {};
  for (const pair of (env.CNI_ARGS ?? '').split(';').filter(Boolean)) {
    const eq = pair.indexOf('=');
    if (eq <= 0)
      throw new CniError(CniCode.InvalidEnvironment, `CNI_ARGS: ${JSON.stringify(pair)} is not KEY=VALUE`);
    args[pair.slice(0, eq)] = pair.slice(eq + 1);
  }
  const req: CniRequest = {
    command: command as CniRequest['command'],
    containerId: env.CNI_CONTAINERID ?? '',
    netns: env.CNI_NETNS ?? '',
    ifname: env.CNI_IFNAME ?? '',
    args,
    path: env.CNI_PATH ?? '',
  };
  const needs = (name: string, value: string) => {
    if (!value) throw new CniError(CniCode.InvalidEnvironment, `${name} is required for ${command}`);
  };
  if (req.command === 'ADD' || req.command === 'DEL' || req.command === 'CHECK') {
    needs('CNI_CONTAINERID', req.containerId);
    needs('CNI_IFNAME', req.ifname);
    if (req.command !== 'DEL') needs('CNI_NETNS', req.netns);
    if (!/^[A-Za-z0-9][A-Za-z0-9_.-]*$/.test(req.containerId)) {
      throw new CniError(
        CniCode.InvalidEnvironment,
        `CNI_CONTAINERID ${JSON.stringify(req.containerId)} may hold only letters, digits, "_", "." and "-"`,
      );
    }
    if (!/^[^\s/:]{1,15}$/.test(req.ifname))
      throw new CniError(
        CniCode.InvalidEnvironment,
        `CNI_IFNAME ${JSON.stringify(req.ifname)} is not an interface name`,
      );
  }
  return req;
}
