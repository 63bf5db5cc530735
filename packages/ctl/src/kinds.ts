import { type AnyResource, KINDS, type Kind } from '@tricolor/datastore';
import { UsageError } from './args.js';

/**
 * The names a kind answers to on the command line: calicoctl's (singular, plural and short
 * names), case-insensitive.
 */
export const KIND_NAMES: Record<Kind, readonly string[]> = {
  IPPool: ['ippool', 'ippools', 'ipp', 'ipps', 'pool', 'pools'],
  Node: ['node', 'nodes', 'no', 'nos'],
  BGPConfiguration: ['bgpconfiguration', 'bgpconfigurations', 'bgpconfig', 'bgpconfigs'],
  BGPPeer: ['bgppeer', 'bgppeers', 'bgpp', 'bgpps', 'bp', 'bps'],
  WorkloadEndpoint: ['workloadendpoint', 'workloadendpoints', 'wep', 'weps'],
  NetworkPolicy: ['networkpolicy', 'networkpolicies', 'policy', 'policies', 'np', 'pol', 'pols'],
  GlobalNetworkPolicy: ['globalnetworkpolicy', 'globalnetworkpolicies', 'gnp', 'gnps'],
  Profile: ['profile', 'profiles', 'pro', 'pros'],
  FelixConfiguration: ['felixconfiguration', 'felixconfigurations', 'felixconfig', 'felixconfigs'],
};

const BY_NAME = new Map<string, Kind>(
  Object.entries(KIND_NAMES).flatMap(([kind, names]) => names.map((n) => [n, kind as Kind] as const)),
);

export function kindByCliName(name: string): Kind | undefined {
  return BY_NAME.get(name.toLowerCase());
}

export function kindArg(name: string | undefined): Kind {
  const known = () => Object.values(KIND_NAMES).map((n) => n[0]);
  if (!name) throw new UsageError(`missing kind (one of ${known().join(', ')})`);
  const k = kindByCliName(name);
  if (!k) throw new UsageError(`${JSON.stringify(name)} is not a kind (one of ${known().join(', ')})`);
  return k;
}

/** `ippool/default`, `workloadendpoint/ns/name`: how results are named on the terminal. */
export function refOf(r: { kind: string; metadata: { name: string; namespace?: string } }): string {
  return `${r.kind.toLowerCase()}/${r.metadata.namespace ? `${r.metadata.namespace}/` : ''}${r.metadata.name}`;
}

/** One table column: header and the cell of a resource. */
export type Column = [header: string, cell: (r: AnyResource, extra: ColumnContext) => unknown];

/** What some cells need besides the resource (read only for `-o wide`). */
export interface ColumnContext {
  /** The cluster's AS number (BGPConfiguration default), shown for nodes without their own. */
  clusterAs?: number;
}

const spec = (r: AnyResource) => r.spec as unknown as Record<string, unknown>;
const bgp = (r: AnyResource) => (spec(r).bgp ?? {}) as Record<string, unknown>;
const status = (r: AnyResource) =>
  ((r as { status?: Record<string, unknown> }).status ?? {}) as Record<
    string,
    Record<string, unknown> | undefined
  >;
const list = (v: unknown) => (Array.isArray(v) ? v.join(',') : '');
const labels = (m: unknown) =>
  Object.entries((m ?? {}) as Record<string, string>)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
const name: Column = ['NAME', (r) => r.metadata.name];
const BGP_CONFIGURATION: Column[] = [
  name,
  ['LOGSEVERITY', (r) => spec(r).logSeverity ?? ''],
  ['MESHENABLED', (r) => spec(r).nodeToNodeMeshEnabled],
  ['ASNUMBER', (r) => spec(r).asNumber],
];
const BGP_PEER: Column[] = [
  name,
  ['PEERIP', (r) => spec(r).peerIP],
  ['NODE', (r) => peerNode(r)],
  ['ASN', (r) => spec(r).asNumber],
];
const WORKLOAD_ENDPOINT: Column[] = [
  ['WORKLOAD', (r) => spec(r).workload],
  ['NODE', (r) => spec(r).node],
  ['NETWORKS', (r) => list(spec(r).ipNetworks)],
  ['INTERFACE', (r) => spec(r).interfaceName],
];

/**
 * Table columns per kind, as calicoctl prints them: [normal, wide]. The NAMESPACE column is
 * put in front by `get` when listing across namespaces.
 */
export const COLUMNS: Record<Kind, [Column[], Column[]]> = {
  IPPool: [
    [name, ['CIDR', (r) => spec(r).cidr], ['SELECTOR', (r) => spec(r).nodeSelector]],
    [
      name,
      ['CIDR', (r) => spec(r).cidr],
      ['BLOCKSIZE', (r) => spec(r).blockSize],
      ['NAT', (r) => spec(r).natOutgoing],
      ['IPIPMODE', (r) => spec(r).ipipMode],
      ['VXLANMODE', (r) => spec(r).vxlanMode],
      ['DISABLED', (r) => spec(r).disabled],
      ['DISABLEBGPEXPORT', (r) => spec(r).disableBGPExport],
      ['SELECTOR', (r) => spec(r).nodeSelector],
    ],
  ],
  Node: [
    [name],
    [
      name,
      ['ASN', (r, x) => bgp(r).asNumber ?? (x.clusterAs === undefined ? '' : `(${x.clusterAs})`)],
      ['IPV4', (r) => bgp(r).ipv4Address],
      ['IPV6', (r) => bgp(r).ipv6Address],
      ['RR-CLUSTER', (r) => bgp(r).routeReflectorClusterID],
      ['FELIX', (r) => readiness(status(r).felix?.ready)],
      [
        'BIRD',
        (r) => {
          const b = status(r).bird;
          if (!b) return '';
          const peers =
            b.configuredPeers === undefined ? '' : ` ${b.establishedPeers ?? 0}/${b.configuredPeers}`;
          return `${readiness(b.ready)}${peers}`;
        },
      ],
    ],
  ],
  BGPConfiguration: [
    BGP_CONFIGURATION,
    [
      ...BGP_CONFIGURATION,
      ['LISTENPORT', (r) => spec(r).listenPort],
      ['HOLD', (r) => spec(r).holdTime],
      ['KEEPALIVE', (r) => spec(r).keepaliveTime],
    ],
  ],
  BGPPeer: [BGP_PEER, [...BGP_PEER, ['PEERSELECTOR', (r) => spec(r).peerSelector]]],
  WorkloadEndpoint: [
    WORKLOAD_ENDPOINT,
    [name, ...WORKLOAD_ENDPOINT, ['PROFILES', (r) => list(spec(r).profiles)], ['MAC', (r) => spec(r).mac]],
  ],
  NetworkPolicy: [[name], [name, ['ORDER', (r) => spec(r).order], ['SELECTOR', (r) => spec(r).selector]]],
  GlobalNetworkPolicy: [
    [name],
    [name, ['ORDER', (r) => spec(r).order], ['SELECTOR', (r) => spec(r).selector]],
  ],
  Profile: [[name], [name, ['LABELS', (r) => labels(spec(r).labelsToApply)]]],
  FelixConfiguration: [
    [name],
    [
      name,
      ['LOGSEVERITY', (r) => spec(r).logSeverityScreen],
      ['IPTABLESBACKEND', (r) => spec(r).iptablesBackend],
      ['MTU', (r) => spec(r).mtu],
    ],
  ],
};

function readiness(ready: unknown): string {
  return ready === undefined ? '' : ready ? 'ready' : 'not-ready';
}

/** calicoctl's NODE cell of a BGPPeer: the node, else the node selector, else (global). */
function peerNode(r: AnyResource): string {
  const s = spec(r);
  return (s.node as string) || (s.nodeSelector as string) || '(global)';
}

export const isNamespaced = (k: Kind): boolean => KINDS[k].namespaced;
