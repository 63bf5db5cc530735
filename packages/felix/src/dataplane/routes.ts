import { RT_PROTO_FELIX } from '@tricolor/contract';
import { type KernelRoute, rereadIfInterrupted } from '@tricolor/linux';
import type { DeltaTracker } from '../tracker/delta-tracker.js';
import { deviceCheck, writePending } from './batch.js';
import { isOwnedRoute, type Route, routeKey } from './items.js';
import type { KernelIO } from './kernel-io.js';
import { type DataplaneObserver, NO_OBSERVER } from './observer.js';

export function routeCommand(verb: 'replace' | 'del', r: Route | KernelRoute): string {
  if (verb === 'del')
    return `route del ${r.type === 'blackhole' ? 'blackhole ' : ''}${r.dst}${r.dev ? ` dev ${r.dev}` : ''}`;
  const parts = ['route', 'replace'];
  if (r.type === 'blackhole') parts.push('blackhole');
  parts.push(r.dst);
  if (r.via) parts.push('via', r.via);
  if (r.dev) parts.push('dev', r.dev);
  if (r.onlink) parts.push('onlink');
  if (r.scope) parts.push('scope', r.scope);
  parts.push('proto', String(RT_PROTO_FELIX));
  return parts.join(' ');
}

/**
 * The main-table routes the tracker follows: unicast and blackhole, the first of each
 * destination. A dump that a concurrent change interrupted (felix's own writes, beside a
 * background read) is read again.
 */
export function routeEntries(
  each: (add: (r: KernelRoute) => void) => Promise<void>,
): Promise<Map<string, KernelRoute>> {
  return rereadIfInterrupted(async () => {
    const m = new Map<string, KernelRoute>();
    await each((r) => {
      if (r.type !== 'unicast' && r.type !== 'blackhole') return;
      if (r.dst === '0.0.0.0/0' || r.dst === '::/0') return;
      // Several kernel routes can share a prefix (different metrics); the first is the one used.
      const k = routeKey(r);
      if (!m.has(k)) m.set(k, r);
    });
    return m;
  });
}

export interface RouteReport {
  commands: number;
  /** Routes left pending because their device does not exist (yet). */
  waiting: number;
  /** Destinations left pending because an operator's route holds them. */
  conflicts: string[];
}

/**
 * Routes of the main table: reads them (streamed) into the tracker, writes what is pending
 * in one `ip -force -batch`. A route onto a missing device, or whose destination an
 * operator's route holds, stays pending (tried again by every apply).
 */
export class RouteDriver {
  constructor(
    private readonly t: DeltaTracker<string, Route, KernelRoute>,
    private readonly io: KernelIO,
    private readonly interfacePrefix: string,
    private readonly observer: DataplaneObserver = NO_OBSERVER,
  ) {}

  read(): Promise<void> {
    return this.t.resync(async () => {
      const t0 = performance.now();
      const routes = await routeEntries((add) => this.io.readRoutes(add));
      this.observer.routesRead((performance.now() - t0) / 1000);
      return routes;
    });
  }

  async apply(): Promise<RouteReport> {
    if (!this.t.synced) await this.read();
    const rep: RouteReport = { commands: 0, waiting: 0, conflicts: [] };
    const exists = deviceCheck(this.io, this.t.pendingCount);
    rep.commands = await writePending(
      this.t,
      {
        del: (r) => routeCommand('del', r),
        set: (r) => {
          const cur = this.t.dataplane.get(routeKey(r));
          if (cur && !isOwnedRoute(cur, this.interfacePrefix)) {
            rep.conflicts.push(r.dst);
            return undefined;
          }
          if (!r.dev || exists(r.dev)) return routeCommand('replace', r);
          // Waits for its device. A route of ours still there for the destination leads
          // elsewhere (the address moved to an endpoint whose interface is not up yet): it goes.
          rep.waiting++;
          return cur ? { remove: routeCommand('del', cur) } : undefined;
        },
        after: (r) => ({ ...r, protocol: String(RT_PROTO_FELIX) }),
      },
      (lines) => this.io.ipBatch(lines),
    );
    return rep;
  }
}
