import { EventEmitter } from 'node:events';
import { type AffinityEntry, decodeAffinityEntry } from '@tricolor/contract';
import {
  type Datastore,
  type FelixConfiguration,
  type GlobalNetworkPolicy,
  type IPPool,
  ipamKeys,
  type NetworkPolicy,
  type Node,
  NodeInputChanges,
  type Profile,
  Reflector,
  type WatchEvent,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import type { InputKinds, Update } from './calc/graph.js';

/** Freezes a decoded datastore object and everything in it: the calculation graph's inputs are read-only. */
function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object' && !Object.isFrozen(v)) {
    Object.freeze(v);
    for (const x of Object.values(v)) deepFreeze(x);
  }
  return v;
}

export interface Syncer {
  /** One datastore object set or removed, as a typed update for the calculation graph. */
  on(event: 'update', fn: (u: Update) => void): this;
  /** A reflector re-listed (its watch could not resume); only differences follow as updates. */
  on(event: 'resync', fn: (info: { reason: string }) => void): this;
  /** The datastore's state changed (see `SyncStatus`). */
  on(event: 'status', fn: (status: SyncStatus) => void): this;
  on(event: 'warning', fn: (err: Error) => void): this;
}

/**
 * The datastore as felix sees it, Calico's sync states: waiting for the datastore (before
 * the first complete listing, or while a watch is disconnected), a resync in progress (a
 * re-list after a watch could not resume), in sync.
 */
export type SyncStatus = 'wait-for-datastore' | 'resync-in-progress' | 'in-sync';
const STATUS_ORDER: SyncStatus[] = ['wait-for-datastore', 'resync-in-progress', 'in-sync'];

/**
 * List+watch of everything felix reads — WorkloadEndpoints, IPPools, Nodes,
 * FelixConfigurations, IPAM block affinities, NetworkPolicies, GlobalNetworkPolicies and
 * Profiles — turned into typed updates for the calculation graph (`endpoint`, `pool`,
 * `node`, `config`, `affinity`, `networkPolicy`, `globalNetworkPolicy`, `profile`). Each is a datastore
 * Reflector, so an etcd restart or a compaction produces a resync that emits only the
 * differences: the dataplane is never flushed on a resync.
 */
// biome-ignore lint/suspicious/noUnsafeDeclarationMerging: typed event overloads for EventEmitter
export class Syncer extends EventEmitter {
  readonly endpoints: Reflector<WorkloadEndpoint>;
  readonly pools: Reflector<IPPool>;
  readonly nodes: Reflector<Node>;
  readonly configs: Reflector<FelixConfiguration>;
  readonly affinities: Reflector<AffinityEntry>;
  readonly networkPolicies: Reflector<NetworkPolicy>;
  readonly globalNetworkPolicies: Reflector<GlobalNetworkPolicy>;
  readonly profiles: Reflector<Profile>;
  private readonly all: Reflector<unknown>[];
  /** Each reflector's own state; the syncer's is the least advanced of them. */
  private readonly states: SyncStatus[] = [];
  status: SyncStatus = 'wait-for-datastore';

  constructor(readonly ds: Datastore) {
    super();
    this.endpoints = ds.reflector('WorkloadEndpoint');
    this.pools = ds.reflector('IPPool');
    this.nodes = ds.reflector('Node');
    this.configs = ds.reflector('FelixConfiguration');
    this.networkPolicies = ds.reflector('NetworkPolicy');
    this.globalNetworkPolicies = ds.reflector('GlobalNetworkPolicy');
    this.profiles = ds.reflector('Profile');
    const prefix = ds.prefix;
    this.affinities = new Reflector<AffinityEntry>(ds.etcd, ipamKeys.affinitiesPrefix(prefix), {
      decode: (v) => decodeAffinityEntry(prefix, v.key, v.value),
    });
    // Status-only writes of a Node (each node's daemons reporting) are not passed on.
    const nodeChanges = new NodeInputChanges();
    const feed = <K extends keyof InputKinds>(kind: K, r: Reflector<InputKinds[K]>) => {
      r.on('event', (e: WatchEvent<InputKinds[K]>) => {
        if (kind === 'node' && !nodeChanges.changed(e.key, e.type === 'put' ? (e.value as Node) : undefined))
          return;
        this.emit('update', {
          kind,
          key: e.key,
          value: e.type === 'put' ? deepFreeze(e.value) : undefined,
        } as Update);
      });
      const i = this.states.push('wait-for-datastore') - 1;
      r.on('resync', (info) => {
        this.setState(i, 'resync-in-progress');
        this.emit('resync', info);
      });
      r.on('synced', () => this.setState(i, 'in-sync'));
      r.on('disconnected', () => this.setState(i, 'wait-for-datastore'));
      r.on('connected', () => this.setState(i, 'in-sync'));
      r.on('error', (err) => this.emit('warning', err));
    };
    feed('endpoint', this.endpoints);
    feed('pool', this.pools);
    feed('node', this.nodes);
    feed('config', this.configs);
    feed('affinity', this.affinities);
    feed('networkPolicy', this.networkPolicies);
    feed('globalNetworkPolicy', this.globalNetworkPolicies);
    feed('profile', this.profiles);
    this.all = [
      this.endpoints,
      this.pools,
      this.nodes,
      this.configs,
      this.affinities,
      this.networkPolicies,
      this.globalNetworkPolicies,
      this.profiles,
    ] as Reflector<unknown>[];
  }

  /**
   * The datastore revision every reflector has read up to: each delivers its events in
   * revision order and advances on etcd's progress notifications while idle, so every
   * change at or below this revision has been emitted as an update. (etcd sends those
   * notifications every `--experimental-watch-progress-notify-interval`, 10 min by default:
   * an idle kind holds this back until then.)
   */
  revision(): string {
    let min: bigint | undefined;
    for (const r of this.all) {
      const v = BigInt(r.currentRevision);
      if (min === undefined || v < min) min = v;
    }
    return String(min ?? 0n);
  }

  private setState(i: number, st: SyncStatus): void {
    this.states[i] = st;
    const least = STATUS_ORDER[Math.min(...this.states.map((x) => STATUS_ORDER.indexOf(x)))]!;
    if (least === this.status) return;
    this.status = least;
    this.emit('status', least);
  }

  /** Resolves once every reflector has its first complete listing (its objects were emitted as updates). */
  async start(): Promise<void> {
    await Promise.all(this.all.map((r) => r.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((r) => r.stop()));
  }
}
