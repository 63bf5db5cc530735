/**
 * The kernel as bird's kernel exporter sees it: write route lines, read our routes back,
 * ask which device reaches an address, watch route changes. One small interface, and one
 * implementation on the project's Linux adapter (@tricolor/linux): a long-running
 * `ip -force -batch -` fed in bounded chunks pulled lazily from the exporter (a million
 * routes never sit in memory as one batch), `ip -json route show proto bird` read back
 * streamed, `ip route get`, and `ip monitor route`.
 */
import { RT_PROTO_BIRD_NAME } from '@tricolor/contract';
import {
  BatchError,
  BatchSession,
  eachRoute,
  type KernelRoute as LinuxRoute,
  type RouteEvent,
  routeGet,
  routeGetMany,
  watchRoutes,
} from '@tricolor/linux';
import { type KernelRoute, routeSpec } from './routes.js';

export interface ApplyResult {
  lines: number;
  /** Lines the kernel refused (removing a route already gone is not counted). */
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
  /** Applies `route replace|del … proto bird` lines, pulled lazily from `lines`. */
  apply(lines: Iterable<string>): Promise<ApplyResult>;
  /** Our routes (proto bird, main table) as the kernel has them, both families, one by one. */
  routes(each: (r: KernelRoute) => void): Promise<void>;
  /** The device through which an address is reached ('' when none). */
  deviceFor(address: string): Promise<string>;
  /** Calls `onChanges` with the main table's route changes as they happen, until stopped. */
  watch?(onChanges: (changes: KernelChange[]) => void): { stop(): void };
  /** Ends the processes it keeps (the batch writer finishes what it was given). */
  close?(): void;
}

/** Lines handed to `ip` per batch, and batches queued at once (bounded memory, ip kept busy). */
const CHUNK_LINES = 4096;
const IN_FLIGHT = 2;
/** `ip -force` keeps going past these, and so do we: removing a route that is already gone. */
const HARMLESS = /No such process|Cannot find device|does not exist/;

/** The next hops of a kernel route as the exporter writes them. */
function specOf(r: LinuxRoute): string {
  const hops = r.nexthops ?? (r.via || r.dev ? [{ via: r.via ?? '', dev: r.dev ?? '' }] : []);
  return hops.length ? routeSpec(hops) : '';
}

export class LinuxKernel implements KernelIo {
  private readonly batches = new BatchSession('ip');

  async apply(lines: Iterable<string>): Promise<ApplyResult> {
    const result: ApplyResult = { lines: 0, failed: 0, errors: [] };
    const inFlight: Promise<void>[] = [];
    const send = (chunk: string[]) =>
      this.batches.run(chunk).catch((e: unknown) => {
        const failures = e instanceof BatchError ? e.failures : [(e as Error).message];
        for (const f of failures) {
          if (HARMLESS.test(f)) continue;
          result.failed++;
          if (result.errors.length < 10) result.errors.push(f);
        }
      });
    let chunk: string[] = [];
    for (const line of lines) {
      chunk.push(line);
      result.lines++;
      if (chunk.length < CHUNK_LINES) continue;
      inFlight.push(send(chunk));
      chunk = [];
      if (inFlight.length >= IN_FLIGHT) await inFlight.shift();
    }
    if (chunk.length) inFlight.push(send(chunk));
    await Promise.all(inFlight);
    return result;
  }

  routes(each: (r: KernelRoute) => void): Promise<void> {
    return eachRoute({ proto: RT_PROTO_BIRD_NAME }, (r) => each({ prefix: r.dst, spec: specOf(r) }));
  }

  /** Next hops asked for in the same turn of the event loop, looked up together. */
  private lookups = new Map<string, ((dev: string) => void)[]>();

  /**
   * One `ip` process for every next hop asked for in the same turn: a node joining a mesh of
   * N learns N-1 next hops at once, and a process start per next hop was most of its CPU.
   */
  deviceFor(address: string): Promise<string> {
    return new Promise((resolve) => {
      const waiting = this.lookups.get(address);
      if (waiting) return void waiting.push(resolve);
      this.lookups.set(address, [resolve]);
      if (this.lookups.size === 1) setImmediate(() => void this.lookUp());
    });
  }

  private async lookUp(): Promise<void> {
    const asked = this.lookups;
    this.lookups = new Map();
    const found = await routeGetMany([...asked.keys()]).catch(() => new Map<string, { dev?: string }>());
    for (const [address, waiters] of asked) {
      // `ip` prints the destination its own way (IPv6 text): one not matched is asked alone.
      const dev = found.has(address)
        ? (found.get(address)!.dev ?? '')
        : await routeGet(address).then(
            (r) => r?.dev ?? '',
            () => '',
          );
      for (const w of waiters) w(dev);
    }
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
    this.batches.close();
  }
}
