/** Prometheus metrics (prom-client, own registry). */
import { Counter, Gauge, Histogram, Registry } from 'prom-client';

export const STATE_NUMBER: Record<string, number> = {
  Idle: 1,
  Connect: 2,
  Active: 3,
  OpenSent: 4,
  OpenConfirm: 5,
  Established: 6,
};

export class Metrics {
  readonly registry = new Registry();
  readonly sessionState = new Gauge({
    name: 'bgp_session_state',
    help: 'BGP FSM state per peer: 1 Idle, 2 Connect, 3 Active, 4 OpenSent, 5 OpenConfirm, 6 Established',
    labelNames: ['peer'],
    registers: [this.registry],
  });
  readonly establishedTotal = new Counter({
    name: 'bgp_session_established_total',
    help: 'Times a session reached Established',
    labelNames: ['peer'],
    registers: [this.registry],
  });
  readonly updatesReceived = new Counter({
    name: 'bgp_updates_received_total',
    help: 'UPDATE messages received',
    labelNames: ['peer'],
    registers: [this.registry],
  });
  readonly updatesSent = new Counter({
    name: 'bgp_updates_sent_total',
    help: 'UPDATE messages sent',
    labelNames: ['peer'],
    registers: [this.registry],
  });
  readonly notifications = new Counter({
    name: 'bgp_notifications_total',
    help: 'NOTIFICATION messages by direction',
    labelNames: ['peer', 'direction'],
    registers: [this.registry],
  });
  readonly updateErrors = new Counter({
    name: 'bgp_update_errors_total',
    help: 'UPDATE errors handled per RFC 7606, by action',
    labelNames: ['peer', 'action'],
    registers: [this.registry],
  });
  readonly prefixesReceived = new Gauge({
    name: 'bgp_prefixes_received',
    help: 'Prefixes in the Adj-RIB-In of a peer',
    labelNames: ['peer'],
    registers: [this.registry],
  });
  readonly locRibPrefixes = new Gauge({
    name: 'bgp_loc_rib_prefixes',
    help: 'Prefixes in the Loc-RIB',
    registers: [this.registry],
  });
  readonly routesInstalled = new Gauge({
    name: 'bgp_routes_installed',
    help: 'Routes bird keeps in the kernel (proto bird)',
    registers: [this.registry],
  });
  readonly kernelWriteSeconds = new Histogram({
    name: 'bird_kernel_write_seconds',
    help: 'Duration of one batched kernel route write (ip -batch)',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly kernelRepairs = new Counter({
    name: 'bird_kernel_repairs_total',
    help: 'Kernel route lines rewritten by the drift read-back',
    registers: [this.registry],
  });
}
