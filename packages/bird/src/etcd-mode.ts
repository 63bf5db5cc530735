/**
 * etcd mode: the node's identity from NODENAME / IP, peers from Node, BGPConfiguration
 * and BGPPeer resources (config/etcd.ts), exports from IPAM (confirmed affinities of this
 * node; /32s this node borrowed from other nodes' blocks), import policy from IP pools —
 * all watched with datastore Reflectors and applied live.
 *
 * Every allocation in the cluster is a block write that reaches every node, so the block
 * reflector keeps only what this node needs of each block (the addresses it borrowed),
 * derived once per write, and the affinities are watched under this node's key prefix alone.
 */
import { hostname } from 'node:os';
import { ownedBlocksFromAffinities } from '@tricolor/contract';
import {
  type BGPConfiguration,
  type BGPPeer,
  configFromEnv,
  Datastore,
  DEFAULT_BGP_CONFIGURATION,
  type IPPool,
  ipamKeys,
  type Node,
  NodeInputChanges,
  Reflector,
  type WatchEvent,
} from '@tricolor/datastore';
import { addressesBorrowedInStored } from '@tricolor/ipam';
import type { Logger } from 'pino';
import { peersFromResources } from './config/etcd.js';
import { DEFAULT_SECRETS_DIR, resolvePassword } from './config/password.js';
import { BirdConfigError, type SpeakerConfig } from './config/types.js';
import { makeImportPolicy } from './policy/import.js';
import { exportedPrefixes, type PoolInfo } from './policy/originate.js';
import { Speaker } from './speaker.js';

/** How often passwords from mounted Secrets are read again. */
const SECRET_REREAD_MS = 30_000;

export interface EtcdModeOptions {
  /**
   * A datastore shared with another daemon of the process (tricolor-node: felix's); it is left
   * open on stop. Without one, bird connects from ETCD_* and closes its connection on stop.
   */
  ds?: Datastore;
}

/** Starts the speaker in etcd mode; resolves to the function that stops it. */
export async function runEtcdMode(
  base: SpeakerConfig,
  env: NodeJS.ProcessEnv,
  log: Logger,
  opts: EtcdModeOptions = {},
): Promise<() => Promise<void>> {
  const node = env.NODENAME || hostname();
  const ds = opts.ds ?? Datastore.connect(configFromEnv(env));
  const P = ds.prefix;
  const mk = <T>(
    prefix: string,
    decode: (v: { key: string; value: string; modRevision: string }) => T | undefined,
  ) => new Reflector<T>(ds.etcd, prefix, { decode: decode as never });
  const nodes = mk<Node>(ds.listPrefix('Node'), (v) => ds.decode('Node', v as never));
  const peers = mk<BGPPeer>(ds.listPrefix('BGPPeer'), (v) => ds.decode('BGPPeer', v as never));
  const cfgs = mk<BGPConfiguration>(ds.listPrefix('BGPConfiguration'), (v) =>
    ds.decode('BGPConfiguration', v as never),
  );
  const pools = mk<IPPool>(ds.listPrefix('IPPool'), (v) => ds.decode('IPPool', v as never));
  const affinities = mk<string>(ipamKeys.hostPrefix(P, node), (v) => v.value);
  const borrowedByBlock = mk<string[]>(ipamKeys.blocksPrefix(P, 4), (v) => {
    try {
      return addressesBorrowedInStored(v.value, node);
    } catch {
      return []; // malformed block: not ours to judge here
    }
  });
  await Promise.all([nodes, peers, cfgs, pools, affinities, borrowedByBlock].map((r) => r.start()));

  const me = [...nodes.cache.values()].map((v) => v.value).find((n) => n.metadata.name === node);
  const ipEnv = env.IP && env.IP !== 'autodetect' ? env.IP.split('/')[0] : undefined;
  const routerId = ipEnv ?? me?.spec.bgp?.ipv4Address?.split('/')[0];
  if (!routerId)
    throw new BirdConfigError(
      'IP',
      `node ${node} has no IPv4 BGP address (set IP or the Node's spec.bgp.ipv4Address)`,
    );
  const bgpCfg = () =>
    [...cfgs.cache.values()].find((v) => v.value.metadata.name === 'default')?.value.spec ??
    DEFAULT_BGP_CONFIGURATION;
  const c0 = bgpCfg();
  const warned = new Set<string>();
  const warnOnce = (message: string) => {
    if (warned.has(message)) return;
    warned.add(message);
    log.error(message);
  };
  const secretsDir = env.TRICOLOR_BGP_SECRETS_DIR || DEFAULT_SECRETS_DIR;
  const desiredPeers = () =>
    peersFromResources(
      node,
      [...nodes.cache.values()].map((v) => v.value),
      bgpCfg(),
      [...peers.cache.values()].map((v) => v.value),
      warnOnce,
      (field, p) => resolvePassword(field, p, secretsDir),
    );
  const speaker = new Speaker(
    {
      ...base,
      routerId,
      localAs: me?.spec.bgp?.asNumber ?? c0.asNumber,
      listen: { host: base.listen?.host ?? '0.0.0.0', port: c0.listenPort },
      holdTime: c0.holdTime,
      keepaliveTime: c0.keepaliveTime,
      gracefulRestart: { enabled: c0.gracefulRestartTime > 0, restartTime: c0.gracefulRestartTime },
      clusterId: me?.spec.bgp?.routeReflectorClusterID,
      // Known before the first accept, so a peer connecting during the start is not refused.
      // Signed peers follow from applyPeers: one whose key cannot be set here is left out
      // with an error there, where the start would refuse to run.
      peers: desiredPeers().filter((p) => p.password === undefined),
    },
    { logger: log },
  );
  const poolInfo = (): PoolInfo[] =>
    [...pools.cache.values()].map(({ value: p }) => ({
      cidr: p.spec.cidr,
      disabled: p.spec.disabled,
      disableBGPExport: p.spec.disableBGPExport,
      ipip: p.spec.ipipMode !== 'Never',
    }));
  const applyPeers = () => speaker.setPeers(desiredPeers());
  const applyExports = () => {
    const own = ownedBlocksFromAffinities(
      node,
      [...affinities.cache.values()].map((v) => ({ key: v.key, value: v.value })),
      P,
    );
    const borrowed = [...borrowedByBlock.cache.values()].flatMap((v) => v.value);
    speaker.setExports(exportedPrefixes({ ownBlocks: own, borrowed, pools: poolInfo() }));
  };
  const applyImportPolicy = () => speaker.setImportPolicy(makeImportPolicy({ pools: poolInfo() }), true);
  const applyPools = () => {
    applyImportPolicy();
    applyExports();
  };
  // The pools' import policy is in place before any session can be: peers are known from the start.
  applyImportPolicy();
  await speaker.start();
  applyPools();
  applyPeers();
  // Status-only writes (each node's daemons reporting) change no peer.
  const nodeChanges = new NodeInputChanges();
  nodes.on('event', (e: WatchEvent<Node>) => {
    if (nodeChanges.changed(e.key, e.type === 'put' ? e.value : undefined)) applyPeers();
  });
  peers.on('event', () => applyPeers());
  cfgs.on('event', () => applyPeers());
  // Secrets mounted as files change without an etcd event (a rotated password): read again.
  const reread = setInterval(applyPeers, SECRET_REREAD_MS);
  reread.unref();
  affinities.on('event', () => applyExports());
  // Most block writes are other nodes' allocations: nothing borrowed before or after.
  borrowedByBlock.on('event', (e: WatchEvent<string[]>) => {
    const after = e.type === 'put' ? e.value.length : 0;
    if (after > 0 || (e.previous?.length ?? 0) > 0) applyExports();
  });
  pools.on('event', () => applyPools());
  log.info({ node, routerId }, 'etcd mode: peers and exports follow the datastore');
  return async () => {
    clearInterval(reread);
    await Promise.all([nodes, peers, cfgs, pools, affinities, borrowedByBlock].map((r) => r.stop()));
    await speaker.stop();
    if (!opts.ds) ds.close();
  };
}
