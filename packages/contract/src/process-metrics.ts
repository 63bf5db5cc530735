import type * as PromClient from 'prom-client';

/** The GC kinds prom-client labels `nodejs_gc_duration_seconds` with. */
const GC_KINDS = ['minor', 'major', 'incremental', 'weakcb'] as const;

/**
 * How often the event-loop lag is sampled. prom-client's 10 ms wakes an idle daemon 200 times a
 * second, most of its idle CPU (0.55% of a core against 0.1% at 100 ms, measured): paid on every
 * node, by every daemon. A stall still delays the next sample by its length past it, so the
 * lag quantiles keep their meaning over a scrape interval.
 */
export const EVENT_LOOP_SAMPLE_MS = 100;

/**
 * Registers the process metrics every Tricolor daemon serves (`process_*`, `nodejs_*`: CPU,
 * memory, file descriptors, event-loop lag, GC). prom-client creates a GC series only when a GC
 * of that kind happens, so an idle daemon would serve none and the GC panels would show "no
 * data" instead of 0; every kind starts at zero here. `prom` is passed in so that a daemon
 * loading prom-client lazily keeps doing so.
 */
export function collectProcessMetrics(prom: typeof PromClient, registry: PromClient.Registry): void {
  // Every daemon of one process (tricolor-node: felix and bird) serves these from its own
  // registry, which prom-client allows; a registry that has them already keeps them (a second
  // registration would throw "already registered").
  if (registry.getSingleMetric('process_cpu_user_seconds_total')) return;
  prom.collectDefaultMetrics({ register: registry, eventLoopMonitoringPrecision: EVENT_LOOP_SAMPLE_MS });
  const gc = registry.getSingleMetric('nodejs_gc_duration_seconds');
  if (gc instanceof prom.Histogram) for (const kind of GC_KINDS) gc.zero({ kind });
}
