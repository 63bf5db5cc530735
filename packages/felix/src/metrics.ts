import { Counter, Gauge, Histogram, Registry } from 'prom-client';

/** felix's Prometheus metrics, named as Calico's felix names them where they mean the same. */
export class FelixMetrics {
  readonly registry = new Registry();
  readonly activeLocalEndpoints = new Gauge({
    name: 'felix_active_local_endpoints',
    help: 'Number of active endpoints on this host.',
    registers: [this.registry],
  });
  readonly clusterNumHosts = new Gauge({
    name: 'felix_cluster_num_hosts',
    help: 'Total number of hosts in the cluster.',
    registers: [this.registry],
  });
  readonly clusterNumWorkloadEndpoints = new Gauge({
    name: 'felix_cluster_num_workload_endpoints',
    help: 'Total number of workload endpoints in the cluster.',
    registers: [this.registry],
  });
  /** This node's IPAM view (Calico's kube-controllers names, per node here). */
  readonly ipamBlocks = new Gauge({
    name: 'ipam_blocks',
    help: 'IPAM blocks affine to this node, per IP pool.',
    labelNames: ['ippool', 'node'],
    registers: [this.registry],
  });
  readonly ipamAllocationsInUse = new Gauge({
    name: 'ipam_allocations_in_use',
    help: "Addresses allocated in this node's IPAM blocks, per IP pool.",
    labelNames: ['ippool', 'node'],
    registers: [this.registry],
  });
  readonly iptablesRestoreCalls = new Counter({
    name: 'felix_iptables_restore_calls',
    help: 'Number of iptables-restore calls.',
    registers: [this.registry],
  });
  readonly iptablesRestoreErrors = new Counter({
    name: 'felix_iptables_restore_errors',
    help: 'Number of iptables-restore errors.',
    registers: [this.registry],
  });
  readonly iptablesSaveCalls = new Counter({
    name: 'felix_iptables_save_calls',
    help: 'Number of iptables-save calls.',
    registers: [this.registry],
  });
  readonly iptablesRules = new Gauge({
    name: 'felix_iptables_rules',
    help: 'Number of active iptables rules.',
    labelNames: ['ip_version', 'table'],
    registers: [this.registry],
  });
  readonly iptablesChains = new Gauge({
    name: 'felix_iptables_chains',
    help: 'Number of active iptables chains.',
    labelNames: ['ip_version', 'table'],
    registers: [this.registry],
  });
  readonly ipsetsCalls = new Counter({
    name: 'felix_ipsets_calls',
    help: 'Number of ipset commands executed.',
    registers: [this.registry],
  });
  readonly ipsetsTotal = new Gauge({
    name: 'felix_ipsets_calico',
    help: 'Number of active ipsets owned by felix.',
    registers: [this.registry],
  });
  readonly routeTableNumRoutes = new Gauge({
    name: 'felix_route_table_num_routes',
    help: 'Number of routes felix owns in the main table.',
    registers: [this.registry],
  });
  readonly applyTime = new Histogram({
    name: 'felix_int_dataplane_apply_time_seconds',
    help: 'Time in seconds for each dataplane apply (routes, sysctls, tunnels, ipsets, iptables; not neighbors).',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly datastoreConvergence = new Histogram({
    name: 'felix_datastore_convergence_seconds',
    help: 'Time from a datastore change reaching felix to the dataplane reflecting it (batching, calculation, apply; not neighbors).',
    buckets: [0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly neighborApplyTime = new Histogram({
    name: 'felix_int_dataplane_neighbor_apply_time_seconds',
    help: 'Time in seconds for each apply of the static-neighbor lane (after the dataplane apply).',
    buckets: [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [this.registry],
  });
  readonly dataplaneFailures = new Counter({
    name: 'felix_int_dataplane_failures',
    help: 'Number of failed dataplane applies.',
    registers: [this.registry],
  });
  readonly resyncsStarted = new Counter({
    name: 'felix_resyncs_started',
    help: 'Number of times felix started a resync with the datastore.',
    registers: [this.registry],
  });
  readonly routeRefreshes = new Counter({
    name: 'felix_route_refreshes',
    help: 'Number of full re-reads of the kernel routes (refresh timer or netlink event).',
    registers: [this.registry],
  });
}
