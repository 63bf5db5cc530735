import { collectProcessMetrics } from '@tricolor/contract';
import * as prom from 'prom-client';
import { Counter, Gauge, Histogram, Registry, Summary } from 'prom-client';
import type { Table } from './calc/iptables/rules.js';
import type { DataplaneObserver } from './dataplane/observer.js';
import { PolicyMetrics } from './policy-metrics.js';

/**
 * Calico's summaries (libcalico-go `prometheus.NewSummary`): quantiles 0.5, 0.9 and 0.99
 * over the last 10 minutes, in 5 age buckets (client_golang's defaults).
 */
const CALICO_SUMMARY = { percentiles: [0.5, 0.9, 0.99], maxAgeSeconds: 600, ageBuckets: 5 };

/** The datastore's state as Calico's `felix_resync_state` numbers it. */
export const RESYNC_STATE = { 'wait-for-datastore': 1, 'resync-in-progress': 2, 'in-sync': 3 } as const;

/**
 * felix's Prometheus metrics: Calico Felix's names, types and labels where the meaning is
 * the same (so Calico's dashboards and alerts read them), the process metrics every
 * prom-client process has (`process_*`, `nodejs_*`), and a few of Tricolor's own. The
 * drivers report through `DataplaneObserver`, which this class implements.
 */
export class FelixMetrics implements DataplaneObserver {
  readonly registry = new Registry();
  private readonly r = [this.registry];

  constructor(opts: { processMetrics?: boolean } = {}) {
    if (opts.processMetrics !== false) collectProcessMetrics(prom, this.registry);
  }

  // ---- the cluster and this node, as the calculation graph sees them ----
  readonly activeLocalEndpoints = new Gauge({
    name: 'felix_active_local_endpoints',
    help: 'Number of active endpoints on this host.',
    registers: this.r,
  });
  readonly clusterNumHosts = new Gauge({
    name: 'felix_cluster_num_hosts',
    help: 'Total number of hosts in the cluster.',
    registers: this.r,
  });
  readonly clusterNumWorkloadEndpoints = new Gauge({
    name: 'felix_cluster_num_workload_endpoints',
    help: 'Total number of workload endpoints in the cluster.',
    registers: this.r,
  });
  /** This node's IPAM view (Calico's kube-controllers names, per node here). */
  readonly ipamBlocks = new Gauge({
    name: 'ipam_blocks',
    help: 'IPAM blocks affine to this node, per IP pool.',
    labelNames: ['ippool', 'node'],
    registers: this.r,
  });
  readonly ipamAllocationsInUse = new Gauge({
    name: 'ipam_allocations_in_use',
    help: "Addresses allocated in this node's IPAM blocks, per IP pool.",
    labelNames: ['ippool', 'node'],
    registers: this.r,
  });

  // ---- policy: felix_active_local_policies, felix_active_local_selectors,
  // felix_cluster_num_policies, felix_cluster_num_profiles, felix_ipsets_total
  // (policy-metrics.ts; test/fixtures/calico-felix-dashboard-metrics.json lists them under
  // `policy`).
  readonly policy = new PolicyMetrics(this.registry);

  // ---- the datastore and the calculation graph ----
  readonly resyncState = new Gauge({
    name: 'felix_resync_state',
    help: 'Current datastore state: 1 waiting for the datastore, 2 resync in progress, 3 in sync.',
    registers: this.r,
  });
  readonly resyncsStarted = new Counter({
    name: 'felix_resyncs_started',
    help: 'Number of times felix started a resync with the datastore.',
    registers: this.r,
  });
  readonly calcGraphUpdatesProcessed = new Counter({
    name: 'felix_calc_graph_updates_processed',
    help: 'Number of datastore updates processed by the calculation graph.',
    labelNames: ['type'],
    registers: this.r,
  });
  readonly calcGraphUpdateTime = new Summary({
    name: 'felix_calc_graph_update_time_seconds',
    help: 'Seconds to update the calculation graph for each batch of datastore updates.',
    ...CALICO_SUMMARY,
    registers: this.r,
  });
  readonly dataplaneMessages = new Counter({
    name: 'felix_int_dataplane_messages',
    help: 'Number of dataplane messages (desired kernel items the calculation graph set or removed), by type.',
    labelNames: ['type'],
    registers: this.r,
  });

  // ---- the dataplane apply ----
  readonly initialResyncTime = new Gauge({
    name: 'felix_int_dataplane_initial_resync_time_seconds',
    help: 'Time in seconds that it took to do the initial resync with the dataplane and bring the dataplane into sync for the first time.',
    registers: this.r,
  });
  /** Calico's summary: every apply after the first converge (the critical path: sysctls, tunnels, routes, ipsets, iptables). */
  readonly applyTime = new Summary({
    name: 'felix_int_dataplane_apply_time_seconds',
    help: 'Time in seconds for each incremental update to the dataplane (after the initial resync).',
    ...CALICO_SUMMARY,
    registers: this.r,
  });
  /** The same applies as a histogram, which (unlike a summary) aggregates across nodes. */
  readonly applyDuration = new Histogram({
    name: 'felix_int_dataplane_apply_duration_seconds',
    help: 'Time in seconds for each incremental update to the dataplane (after the initial resync), as a histogram.',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: this.r,
  });
  readonly datastoreConvergence = new Histogram({
    name: 'felix_datastore_convergence_seconds',
    help: 'Time from a datastore change reaching felix to the dataplane reflecting it (batching, calculation, apply; not neighbors).',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: this.r,
  });
  readonly neighborApplyTime = new Histogram({
    name: 'felix_int_dataplane_neighbor_apply_time_seconds',
    help: 'Time in seconds for each apply of the static-neighbor lane (after the dataplane apply).',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: this.r,
  });
  readonly dataplaneFailures = new Counter({
    name: 'felix_int_dataplane_failures',
    help: 'Number of times dataplane updates failed and will be retried.',
    registers: this.r,
  });

  // ---- routes ----
  readonly routeTableNumRoutes = new Gauge({
    name: 'felix_route_table_num_routes',
    help: 'Number of routes that felix is managing in the particular routing table.',
    labelNames: ['table', 'ip_version'],
    registers: this.r,
  });
  readonly routeTableResyncTime = new Summary({
    name: 'felix_route_table_resync_seconds',
    help: 'Time taken to list all the routes during a resync.',
    ...CALICO_SUMMARY,
    registers: this.r,
  });
  readonly routeRefreshes = new Counter({
    name: 'felix_route_refreshes',
    help: 'Number of full re-reads of the kernel routes (refresh timer or netlink event).',
    registers: this.r,
  });

  // ---- iptables ----
  readonly iptablesRestoreCalls = new Counter({
    name: 'felix_iptables_restore_calls',
    help: 'Number of iptables-restore calls.',
    registers: this.r,
  });
  readonly iptablesRestoreErrors = new Counter({
    name: 'felix_iptables_restore_errors',
    help: 'Number of iptables-restore errors.',
    registers: this.r,
  });
  readonly iptablesSaveCalls = new Counter({
    name: 'felix_iptables_save_calls',
    help: 'Number of iptables-save calls.',
    registers: this.r,
  });
  readonly iptablesSaveErrors = new Counter({
    name: 'felix_iptables_save_errors',
    help: 'Number of iptables-save errors.',
    registers: this.r,
  });
  readonly iptablesLinesExecuted = new Counter({
    name: 'felix_iptables_lines_executed',
    help: 'Number of iptables rule updates executed.',
    labelNames: ['ip_version', 'table'],
    registers: this.r,
  });
  readonly iptablesRules = new Gauge({
    name: 'felix_iptables_rules',
    help: 'Number of active iptables rules.',
    labelNames: ['ip_version', 'table'],
    registers: this.r,
  });
  readonly iptablesChains = new Gauge({
    name: 'felix_iptables_chains',
    help: 'Number of active iptables chains.',
    labelNames: ['ip_version', 'table'],
    registers: this.r,
  });

  // ---- ipsets ----
  readonly ipsetCalls = new Counter({
    name: 'felix_ipset_calls',
    help: 'Number of ipset commands executed.',
    registers: this.r,
  });
  readonly ipsetErrors = new Counter({
    name: 'felix_ipset_errors',
    help: 'Number of ipset command failures.',
    registers: this.r,
  });
  readonly ipsetLinesExecuted = new Counter({
    name: 'felix_ipset_lines_executed',
    help: 'Number of ipset operations executed.',
    registers: this.r,
  });
  /** Calico's label: the ipset family, `inet` or `inet6`. */
  readonly ipsetsCalico = new Gauge({
    name: 'felix_ipsets_calico',
    help: 'Number of active felix IP sets.',
    labelNames: ['ip_version'],
    registers: this.r,
  });

  // ---- logging ----
  readonly logErrors = new Counter({
    name: 'felix_log_errors',
    help: 'Number of errors encountered while logging.',
    registers: this.r,
  });
  readonly logsDropped = new Counter({
    name: 'felix_logs_dropped',
    help: 'Number of logs dropped because the output stream was blocked.',
    registers: this.r,
  });

  // ---- DataplaneObserver: what the drivers report as they run the tools ----
  iptablesSave(_family: 4 | 6, ok: boolean): void {
    this.iptablesSaveCalls.inc();
    if (!ok) this.iptablesSaveErrors.inc();
  }

  iptablesRestore(family: 4 | 6, linesPerTable: ReadonlyMap<Table, number>, ok: boolean): void {
    this.iptablesRestoreCalls.inc();
    if (!ok) {
      this.iptablesRestoreErrors.inc();
      return;
    }
    const ip_version = String(family);
    for (const [table, n] of linesPerTable) this.iptablesLinesExecuted.inc({ ip_version, table }, n);
  }

  ipset(lines: number, ok: boolean): void {
    this.ipsetCalls.inc();
    if (!ok) this.ipsetErrors.inc();
    else if (lines) this.ipsetLinesExecuted.inc(lines);
  }

  routesRead(seconds: number): void {
    this.routeTableResyncTime.observe(seconds);
  }
}
