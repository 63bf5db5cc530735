import { EventEmitter } from 'node:events';
import {
  type Datastore,
  type FelixConfiguration,
  formatCidr,
  type IPPool,
  ipamKeys,
  type Node,
  parseAffinityKey,
  Reflector,
  type WorkloadEndpoint,
} from '@tricolor/datastore';
import type { Affinity } from './calc/desired-state.js';
import { EndpointIndex } from './calc/endpoint-index.js';

/** The calculation's inputs as the datastore currently has them. */
export interface Snapshot {
  /** This node's endpoints, with the history of which changed (see EndpointIndex). */
  endpoints: EndpointIndex;
  pools: IPPool[];
  nodes: Iterable<Node>;
  affinities: Iterable<Affinity>;
  felixConfigs: FelixConfiguration[];
}

/**
 * List+watch of everything felix reads: WorkloadEndpoints, IPPools, Nodes,
 * FelixConfigurations and IPAM block affinities. Each is a datastore Reflector, so an
 * etcd restart or a compaction produces a resync that emits only the differences; the
 * syncer never forgets state, so the dataplane is never flushed on a resync. This node's
 * endpoints are also kept in an `EndpointIndex`, so the calculation visits only the
 * endpoints that changed.
 */
export class Syncer extends EventEmitter {
  readonly endpoints: Reflector<WorkloadEndpoint>;
  readonly pools: Reflector<IPPool>;
  readonly nodes: Reflector<Node>;
  readonly configs: Reflector<FelixConfiguration>;
  readonly affinities: Reflector<Affinity>;
  readonly localEndpoints: EndpointIndex;
  private readonly all: Reflector<unknown>[];
  resyncs = 0;

  constructor(
    readonly ds: Datastore,
    nodeName: string,
  ) {
    super();
    this.endpoints = ds.reflector('WorkloadEndpoint');
    this.localEndpoints = new EndpointIndex(nodeName);
    // Registered before the others' listeners: the index is current when 'change' fires.
    this.endpoints.on('event', (e) => this.localEndpoints.set(e.key, e.type === 'put' ? e.value : undefined));
    this.pools = ds.reflector('IPPool');
    this.nodes = ds.reflector('Node');
    this.configs = ds.reflector('FelixConfiguration');
    const prefix = ds.prefix;
    this.affinities = new Reflector<Affinity>(ds.etcd, ipamKeys.affinitiesPrefix(prefix), {
      decode: (v) => {
        const k = parseAffinityKey(prefix, v.key);
        if (!k) return undefined;
        try {
          const state = (JSON.parse(v.value) as { state?: unknown }).state;
          return {
            node: k.node,
            block: formatCidr(k.block),
            state: typeof state === 'string' ? state : 'unknown',
          };
        } catch {
          return undefined;
        }
      },
    });
    this.all = [
      this.endpoints,
      this.pools,
      this.nodes,
      this.configs,
      this.affinities,
    ] as Reflector<unknown>[];
    for (const r of this.all) {
      r.on('event', (e) =>
        this.emit('change', r === (this.configs as Reflector<unknown>) ? 'config' : 'data', e),
      );
      r.on('synced', (i) => this.emit('synced', i));
      r.on('resync', (i) => {
        this.resyncs++;
        this.emit('resync', i);
      });
      r.on('error', (err) => this.emit('warning', err));
      r.on('disconnected', () => this.emit('disconnected'));
      r.on('connected', () => this.emit('connected'));
    }
  }

  /** Resolves once every reflector has its first complete listing. */
  async start(): Promise<void> {
    await Promise.all(this.all.map((r) => r.start()));
  }

  async stop(): Promise<void> {
    await Promise.all(this.all.map((r) => r.stop()));
  }

  snapshot(): Snapshot {
    const vals = <T>(r: Reflector<T>) => [...r.cache.values()].map((v) => v.value);
    return {
      endpoints: this.localEndpoints,
      pools: vals(this.pools),
      nodes: vals(this.nodes),
      affinities: vals(this.affinities),
      felixConfigs: vals(this.configs),
    };
  }
}
