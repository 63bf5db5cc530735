import type {
  FelixConfiguration,
  GlobalNetworkPolicy,
  IPPool,
  NetworkPolicy,
  Node,
  Profile,
  WorkloadEndpoint,
} from '@tricolor/datastore';
import type { FelixSettings } from '../config-types.js';
import type { Rule } from './iptables/rules.js';

/** An IPAM block affinity (`@tricolor/contract` decodes it); only `confirmed` gives ownership. */
export interface Affinity {
  node: string;
  block: string;
  state: string;
}

/**
 * What the syncer feeds the graph: one datastore object set (or removed: `undefined`) under
 * its datastore key. A new input kind (NetworkPolicy, Profile, …) is one line here and one
 * reflector in the syncer; calculators that want it subscribe with `graph.on(kind, …)`.
 */
export interface InputKinds {
  endpoint: WorkloadEndpoint;
  pool: IPPool;
  node: Node;
  affinity: Affinity;
  config: FelixConfiguration;
  networkPolicy: NetworkPolicy;
  globalNetworkPolicy: GlobalNetworkPolicy;
  profile: Profile;
}

/** A local workload endpoint as the interface it owns (the first endpoint by name owns an interface). */
export interface LocalEndpoint {
  iface: string;
  /** Datastore key of the endpoint. */
  key: string;
  endpoint: WorkloadEndpoint;
  /** Profiles that apply, in order. */
  profiles: string[];
}

/**
 * The rules of one interface's endpoint chains (`from`: `tri-fw-<iface>`, egress; `to`:
 * `tri-tw-<iface>`, ingress), computed by the policy calculators: a packet the chain
 * accepts returns with the accept mark set; one it denies is dropped.
 */
export interface EndpointRules {
  from: Rule[];
  to: Rule[];
}

/** What calculators emit for other calculators. */
export interface DerivedKinds {
  /** The resolved FelixSettings (key `settings`). */
  settings: FelixSettings;
  /** Local endpoints by interface name. */
  localEndpoint: LocalEndpoint;
  /** Endpoint chain rules by interface name (the policy calculator's output). */
  endpointRules: EndpointRules;
  /** Which IP families felix programs (key `families`): IPv6 while an IPv6 pool exists, or as configured. */
  ipFamilies: { v6: boolean };
}

export type GraphKinds = InputKinds & DerivedKinds;

export type Update = {
  [K in keyof InputKinds]: { kind: K; key: string; value: Readonly<InputKinds[K]> | undefined };
}[keyof InputKinds];

type Handler<K extends keyof GraphKinds> = (key: string, value: Readonly<GraphKinds[K]> | undefined) => void;

/**
 * A calculator: subscribes to the kinds it needs and emits desired kernel items (into the
 * trackers) or derived kinds (for other calculators). `flush` runs after each batch of
 * updates, for work that is cheaper once per batch (a dispatch tree, remote nodes).
 */
export interface Calculator {
  register(g: CalcGraph): void;
  flush?(): void;
}

/**
 * Calico's calculation graph, small: updates are dispatched synchronously to the handlers
 * of their kind in registration order, then every calculator flushes (again while flushes
 * emit). Inputs are read-only snapshots (the syncer freezes them); outputs are set/delete
 * operations on trackers, so no result ever aliases a calculator's state.
 */
export class CalcGraph {
  private readonly handlers = new Map<string, Handler<keyof GraphKinds>[]>();
  private readonly calculators: Calculator[] = [];
  private emitted = 0;

  add<C extends Calculator>(c: C): C {
    this.calculators.push(c);
    c.register(this);
    return c;
  }

  on<K extends keyof GraphKinds>(kind: K, h: Handler<K>): void {
    let list = this.handlers.get(kind);
    if (!list) {
      list = [];
      this.handlers.set(kind, list);
    }
    list.push(h as unknown as Handler<keyof GraphKinds>);
  }

  /** Keeps `into` equal to the current objects of one kind, by key; `changed` runs after each update. */
  mirror<K extends keyof GraphKinds>(
    kind: K,
    into: Map<string, Readonly<GraphKinds[K]>>,
    changed: (key: string) => void,
  ): void {
    this.on(kind, (key, v) => {
      if (v) into.set(key, v);
      else into.delete(key);
      changed(key);
    });
  }

  emit<K extends keyof GraphKinds>(kind: K, key: string, value: Readonly<GraphKinds[K]> | undefined): void {
    this.emitted++;
    for (const h of this.handlers.get(kind) ?? []) h(key, value as Readonly<GraphKinds[keyof GraphKinds]>);
  }

  /** Feeds a batch of datastore updates through the graph. */
  apply(updates: Iterable<Update>): void {
    for (const u of updates) this.emit(u.kind, u.key, u.value);
    for (let round = 0; ; round++) {
      const before = this.emitted;
      for (const c of this.calculators) c.flush?.();
      if (this.emitted === before) return;
      if (round > 10) throw new Error('calculation graph: flushes keep emitting');
    }
  }
}
