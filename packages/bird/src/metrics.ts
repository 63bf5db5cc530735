/**
 * Prometheus metrics (prom-client, own registry). prom-client is loaded only when metrics
 * are served (`Metrics.load()`); a speaker that serves none keeps `Metrics.none()`, whose
 * instruments do nothing.
 */
import type { Registry } from 'prom-client';

type PromClient = typeof import('prom-client');
type Labels = Record<string, string>;

export interface GaugeLike {
  set(labels: Labels, value: number): void;
  set(value: number): void;
  remove(labels: Labels): void;
}
export interface CounterLike {
  inc(labels: Labels, value?: number): void;
  inc(value?: number): void;
}
export interface HistogramLike {
  observe(value: number): void;
}

const NOOP = { set() {}, remove() {}, inc() {}, observe() {} } as GaugeLike & CounterLike & HistogramLike;

export const STATE_NUMBER: Record<string, number> = {
  Idle: 1,
  Connect: 2,
  Active: 3,
  OpenSent: 4,
  OpenConfirm: 5,
  Established: 6,
};

export class Metrics {
  readonly registry: Registry | undefined;
  readonly sessionState: GaugeLike;
  readonly establishedTotal: CounterLike;
  readonly updatesReceived: CounterLike;
  readonly updatesSent: CounterLike;
  readonly notifications: CounterLike;
  readonly updateErrors: CounterLike;
  readonly prefixesReceived: GaugeLike;
  readonly locRibPrefixes: GaugeLike;
  readonly routesInstalled: GaugeLike;
  readonly kernelWriteSeconds: HistogramLike;
  readonly kernelRepairs: CounterLike;

  /** Instruments that record nothing (no metrics served). */
  static none(): Metrics {
    return new Metrics(undefined);
  }

  /** Loads prom-client and registers the instruments in a registry of their own. */
  static async load(): Promise<Metrics> {
    return new Metrics(await import('prom-client'));
  }

  private constructor(prom: PromClient | undefined) {
    if (!prom) {
      this.registry = undefined;
      this.sessionState = this.establishedTotal = this.updatesReceived = this.updatesSent = NOOP;
      this.notifications = this.updateErrors = this.prefixesReceived = this.locRibPrefixes = NOOP;
      this.routesInstalled = this.kernelWriteSeconds = this.kernelRepairs = NOOP;
      return;
    }
    const { Counter, Gauge, Histogram, Registry } = prom;
    const registry = new Registry();
    this.registry = registry;
    this.sessionState = new Gauge({
      name: 'bgp_session_state',
      help: 'BGP FSM state per peer: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established',
      labelNames: ['peer'],
      registers: [registry],
    });
    this.establishedTotal = new Counter({
      name: 'bgp_session_established_total',
      help: 'Times a session reached Established',
      labelNames: ['peer'],
      registers: [registry],
    });
    this.updatesReceived = new Counter({
      name: 'bgp_updates_received_total',
      help: 'UPDATE messages received',
      labelNames: ['peer'],
      registers: [registry],
    });
    this.updatesSent = new Counter({
      name: 'bgp_updates_sent_total',
      help: 'UPDATE messages sent',
      labelNames: ['peer'],
      registers: [registry],
    });
    this.notifications = new Counter({
      name: 'bgp_notifications_total',
      help: 'NOTIFICATION messages by direction',
      labelNames: ['peer', 'direction'],
      registers: [registry],
    });
    this.updateErrors = new Counter({
      name: 'bgp_update_errors_total',
      help: 'UPDATE errors handled per RFC 7606, by action',
      labelNames: ['peer', 'action'],
      registers: [registry],
    });
    this.prefixesReceived = new Gauge({
      name: 'bgp_prefixes_received',
      help: 'Prefixes in the Adj-RIB-In of a peer',
      labelNames: ['peer'],
      registers: [registry],
    });
    this.locRibPrefixes = new Gauge({
      name: 'bgp_loc_rib_prefixes',
      help: 'Prefixes in the Loc-RIB',
      registers: [registry],
    });
    this.routesInstalled = new Gauge({
      name: 'bgp_routes_installed',
      help: 'Routes bird keeps in the kernel (proto bird)',
      registers: [registry],
    });
    this.kernelWriteSeconds = new Histogram({
      name: 'bird_kernel_write_seconds',
      help: 'Duration of one batched kernel route write (ip -batch)',
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
      registers: [registry],
    });
    this.kernelRepairs = new Counter({
      name: 'bird_kernel_repairs_total',
      help: 'Kernel route lines rewritten by the drift read-back',
      registers: [registry],
    });
  }
}
