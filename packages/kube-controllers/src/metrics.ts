/** The controllers' Prometheus metrics (prom-client, one registry per process). */
import { collectProcessMetrics } from '@tricolor/contract';
import * as prom from 'prom-client';
import { Counter, Gauge, Registry } from 'prom-client';

/**
 * The controllers' metrics in `registry`, with the process metrics every prom-client process
 * has (`process_*`, `nodejs_*`: CPU, memory, file descriptors, event-loop lag, GC) unless
 * `processMetrics` is false.
 */
export function createMetrics(registry = new Registry(), { processMetrics = true } = {}) {
  if (processMetrics) collectProcessMetrics(prom, registry);
  const opts = { registers: [registry] };
  return {
    registry,
    /** Every list of an informer: the first, and each re-list (410 Gone, restart without a resourceVersion). */
    informerLists: new Counter({
      name: 'tricolor_kube_controllers_informer_lists_total',
      help: 'Lists (initial and re-lists after 410 Gone) per Kubernetes resource',
      labelNames: ['resource'],
      ...opts,
    }),
    informerRestarts: new Counter({
      name: 'tricolor_kube_controllers_informer_restarts_total',
      help: 'Informers restarted by the watchdog after they stopped on an error (dropped watch, failed list)',
      labelNames: ['resource'],
      ...opts,
    }),
    fullResyncs: new Counter({
      name: 'tricolor_kube_controllers_full_resyncs_total',
      help: 'Periodic full resyncs (every object reconciled, orphans removed)',
      ...opts,
    }),
    orphansRemoved: new Counter({
      name: 'tricolor_kube_controllers_orphans_removed_total',
      help: 'Tricolor resources removed because their Kubernetes object no longer exists',
      labelNames: ['kind'],
      ...opts,
    }),
    writes: new Counter({
      name: 'tricolor_kube_controllers_writes_total',
      help: 'Datastore writes made by the controllers',
      labelNames: ['controller', 'op'],
      ...opts,
    }),
    reconcileErrors: new Counter({
      name: 'tricolor_kube_controllers_reconcile_errors_total',
      help: 'Reconciliations that failed and were retried',
      labelNames: ['controller'],
      ...opts,
    }),
    nodesCleanedUp: new Counter({
      name: 'tricolor_kube_controllers_nodes_cleaned_up_total',
      help: 'Deleted Kubernetes nodes whose Tricolor Node, endpoints and addresses were released',
      ...opts,
    }),
    isLeader: new Gauge({
      name: 'tricolor_kube_controllers_is_leader',
      help: '1 while this instance holds the Lease and runs the controllers',
      ...opts,
    }),
    // Calico's names and meaning (kube-controllers' IPAM GC).
    gcCandidates: new Gauge({
      name: 'ipam_allocations_gc_candidates',
      help: 'Addresses whose pod no longer exists, waiting out the grace period before release',
      labelNames: ['node'],
      ...opts,
    }),
    gcReclamations: new Counter({
      name: 'ipam_allocations_gc_reclamations',
      help: 'Addresses released by the IPAM garbage collector',
      labelNames: ['node'],
      ...opts,
    }),
  };
}

export type Metrics = ReturnType<typeof createMetrics>;
