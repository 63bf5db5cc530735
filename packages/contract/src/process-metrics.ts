import type * as PromClient from 'prom-client';

/** The GC kinds prom-client labels `nodejs_gc_duration_seconds` with. */
const GC_KINDS = ['minor', 'major', 'incremental', 'weakcb'] as const;

/**
 * Registers the process metrics every Tricolor daemon serves (`process_*`, `nodejs_*`: CPU,
 * memory, file descriptors, event-loop lag, GC). prom-client creates a GC series only when a GC
 * of that kind happens, so an idle daemon would serve none and the GC panels would show "no
 * data" instead of 0; every kind starts at zero here. `prom` is passed in so that a daemon
 * loading prom-client lazily keeps doing so.
 */
export function collectProcessMetrics(prom: typeof PromClient, registry: PromClient.Registry): void {
  prom.collectDefaultMetrics({ register: registry });
  const gc = registry.getSingleMetric('nodejs_gc_duration_seconds');
  if (gc instanceof prom.Histogram) for (const kind of GC_KINDS) gc.zero({ kind });
}
