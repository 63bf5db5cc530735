import type { FelixSettings } from '../config-types.js';
import type { KernelState } from '../dataplane/kernel-state.js';
import { BlockCalculator } from './blocks.js';
import { EndpointCalculator } from './endpoints.js';
import { CalcGraph, type Update } from './graph.js';
import { EndpointChainsCalculator } from './iptables/endpoint-chains.js';
import { StaticChainsCalculator } from './iptables/static-chains.js';
import { Outputs } from './outputs.js';
import { PolicyCalculator } from './policy/policy-calculator.js';
import { PoolCalculator } from './pools.js';
import { type PinnedSettings, SettingsCalculator } from './settings.js';
import { VxlanCalculator } from './vxlan.js';

export interface CalculationOptions {
  nodeName: string;
  /** FELIX_* values over FelixConfiguration. */
  overrides?: Partial<FelixSettings>;
  /** Fixed for the life of the process. */
  pinned: PinnedSettings;
}

/**
 * felix's calculation graph, wired: datastore updates in, desired kernel items out into the
 * trackers of `state`.
 *
 * ```
 *  syncer ─ updates ─▶ settings ─▶ (every calculator below reads `settings`)
 *                      endpoints ─▶ routes, neighbors, sysctls ─┐   localEndpoint ─▶ endpoint chains ─┐
 *                      blocks ───▶ blackholes ──────────────────┤                                     │
 *                      tunnels ──▶ VXLAN device, FDB, VTEP      │   pools ─▶ ipsets, ipFamilies ──────┤
 *                                  neighbors, remote blocks; tunl0 ┤  static chains ───────────────────┤
 *                                                               ▼                                     ▼
 *                                                      KernelState: one DeltaTracker per kind ─▶ drivers
 * ```
 *
 * Policy (`calc/policy/`) subscribes to every endpoint, the local endpoints, policies and
 * profiles: it emits `endpointRules` (the endpoint chains' rules), the policy and profile
 * chains through `out.iptables` and the rules' ipsets into `out.state`.
 */
export class Calculation {
  readonly graph = new CalcGraph();
  readonly out: Outputs;
  readonly settings: SettingsCalculator;
  readonly endpoints: EndpointCalculator;
  readonly blocks: BlockCalculator;
  readonly vxlan: VxlanCalculator;
  readonly pools: PoolCalculator;
  readonly endpointChains: EndpointChainsCalculator;
  readonly policy: PolicyCalculator;

  constructor(
    readonly state: KernelState,
    o: CalculationOptions,
  ) {
    const { chainPrefix, interfacePrefix } = o.pinned;
    const out = new Outputs(state);
    this.out = out;
    const g = this.graph;
    this.settings = g.add(new SettingsCalculator(o.nodeName, o.overrides ?? {}, o.pinned));
    g.add(out.iptables);
    this.pools = g.add(new PoolCalculator(chainPrefix, out));
    g.add(new StaticChainsCalculator(out.iptables));
    this.endpoints = g.add(new EndpointCalculator(o.nodeName, out));
    // Before the endpoint chains: its endpointRules are in place when they flush.
    this.policy = g.add(new PolicyCalculator(chainPrefix, state, out.iptables));
    this.endpointChains = g.add(new EndpointChainsCalculator(chainPrefix, interfacePrefix, out.iptables));
    this.blocks = g.add(new BlockCalculator(o.nodeName, out));
    this.vxlan = g.add(new VxlanCalculator(o.nodeName, out));
  }

  /** Feeds a batch of datastore updates through the graph (an empty batch settles the start). */
  apply(updates: Iterable<Update>): void {
    this.graph.apply(updates);
  }
}
