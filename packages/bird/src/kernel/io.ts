/**
 * The kernel as bird's kernel exporter sees it: write routes, read our routes back, ask
 * which device reaches an address, watch route changes. One small interface, and one
 * implementation on the project's Linux adapter (@tricolor/linux): writes, read-back and
 * lookups over rtnetlink from this process (`RouteSocket`: many routes to a datagram, pulled
 * lazily from the exporter, so a million routes never sit in memory at once), as BIRD's
 * kernel protocol does, and `ip monitor route` for the changes (a process of its own keeps
 * reading them while this one writes a full table).
 */
import { RT_PROTO_BIRD, RT_PROTO_BIRD_NAME } from '@tricolor/contract';
import { type KernelRoute as LinuxRoute, type RouteEvent, watchRoutes } from '@tricolor/linux';
import { RouteSocket, type RouteWrite } from '@tricolor/linux/route-socket';
import { type KernelRoute, routeSpec } from './routes.js';

export type { RouteWrite };

export interface ApplyResult {
  /** Routes written or removed. */
  writes: number;
  /** Writes the kernel refused (removing a route already gone is not counted). */
  failed: number;
  /** The first errors, for the log. */
  errors: string[];
}

/** A change to a route of the main table, as the kernel announced it. */
export interface KernelChange {
  prefix: string;
  deleted: boolean;
  /** A `proto bird` route (ours, or one added in our name). */
  ours: boolean;
  /** Its next hops as a route spec (routes.ts), '' when it has none. */
  spec: string;
}

export interface KernelIo {
  /** Writes (next hops given) or removes our routes (proto bird, main table), pulled lazily. */
  apply(writes: Iterable<RouteWrite>): Promise<ApplyResult>;
  /** Our routes (proto bird, main table) as the kernel has them, both families, one by one. */
  routes(each: (r: KernelRoute) => void): Promise<void>;
  /** The device through which an address is reached ('' when none). */
  deviceFor(address: string): Promise<string>;
  /** Calls `onChanges` with the main table's route changes as they happen, until stopped. */
  watch?(onChanges: (changes: KernelChange[]) => void): { stop(): void };
  /** Closes what it keeps open. */
  close?(): void;
}

const RT_TABLE_MAIN = 254;
/** Removing a route that is already gone (ESRCH), or one through a device that went away. */
const HARMLESS = new Set(['ESRCH', 'ENODEV']);

/** The next hops of a kernel route as the exporter writes them. */
function specOf(r: LinuxRoute): string {
  const hops = r.nexthops ?? (r.via || r.dev ? [{ via: r.via ?? '', dev: r.dev ?? '' }] : []);
  return hops.length ? routeSpec(hops) : '';
}

export class LinuxKernel implements KernelIo {
  private readonly socket = new RouteSocket();

  async apply(writes: Iterable<RouteWrite>): Promise<ApplyResult> {
    const r = await this.socket.write(writes, RT_PROTO_BIRD);
    const result: ApplyResult = { writes: r.written, failed: 0, errors: [] };
    for (const f of r.failures) {
      if (HARMLESS.has(f.code)) continue;
      result.failed++;
      if (result.errors.length < 10) result.errors.push(`${f.write.prefix}: ${f.message}`);
    }
    return result;
  }

  routes(each: (r: KernelRoute) => void): Promise<void> {
    return this.socket.eachRoute((r) => {
      if (r.protocolNumber === RT_PROTO_BIRD && r.table === RT_TABLE_MAIN)
        each({ prefix: r.dst, spec: specOf(r) });
    });
  }

  async deviceFor(address: string): Promise<string> {
    return (await this.socket.deviceFor(address).catch(() => undefined)) ?? '';
  }

  watch(onChanges: (changes: KernelChange[]) => void): { stop(): void } {
    return watchRoutes((events: RouteEvent[]) => {
      const changes: KernelChange[] = [];
      for (const e of events)
        if (e.table === 'main' && e.type === 'unicast')
          changes.push({
            prefix: e.dst,
            deleted: e.deleted,
            ours: e.protocol === RT_PROTO_BIRD_NAME,
            spec: specOf(e),
          });
      if (changes.length) onChanges(changes);
    });
  }

  close(): void {
    this.socket.close();
  }
}
