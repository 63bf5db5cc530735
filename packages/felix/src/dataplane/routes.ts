import { existsSync } from 'node:fs';
import { canonicalCidr } from '@tricolor/datastore';
import { type DesiredRoute, FELIX_RT_PROTO, routeKey } from '../calc/desired-state.js';
import { walkDiff } from './diff-walk.js';
import { ipJson } from './exec.js';

/** A route of the main table as the kernel reports it (normalized). */
export interface KernelRoute extends DesiredRoute {
  protocol: string;
}

interface IpRoute {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  flags?: string[];
}

function normalize(r: IpRoute, family: 4 | 6): KernelRoute | undefined {
  if (r.dst === 'default') return undefined;
  const dst = canonicalCidr(r.dst);
  if (!dst) return undefined;
  const out: KernelRoute = {
    family,
    dst,
    type: r.type === 'blackhole' ? 'blackhole' : 'unicast',
    protocol: String(r.protocol ?? 'boot'),
  };
  if (r.type && r.type !== 'unicast' && r.type !== 'blackhole') return undefined;
  if (r.dev) out.dev = r.dev;
  if (r.gateway) out.via = r.gateway;
  if (r.flags?.includes('onlink')) out.onlink = true;
  if (r.scope === 'link') out.scope = 'link';
  return out;
}

/** Reads the main table (both families); the read-back used by the driver and by tests. */
export async function readRoutes(): Promise<KernelRoute[]> {
  const [v4, v6] = await Promise.all([
    ipJson<IpRoute>(['-4', 'route', 'show', 'table', 'main']),
    ipJson<IpRoute>(['-6', 'route', 'show', 'table', 'main']).catch(() => [] as IpRoute[]),
  ]);
  const out: KernelRoute[] = [];
  for (const r of v4) {
    const n = normalize(r, 4);
    if (n) out.push(n);
  }
  for (const r of v6) {
    const n = normalize(r, 6);
    if (n) out.push(n);
  }
  return out;
}

/**
 * Which routes felix may change or delete: everything with protocol 80, and on workload
 * interfaces everything but the kernel's own (link-local, `proto kernel`) routes.
 */
export function isOwnedRoute(r: KernelRoute, interfacePrefix: string): boolean {
  if (r.protocol === String(FELIX_RT_PROTO)) return true;
  if (!r.dev?.startsWith(interfacePrefix)) return false;
  return r.protocol !== 'kernel' && !r.dst.startsWith('fe80:');
}

function sameRoute(a: DesiredRoute, b: KernelRoute): boolean {
  return (
    a.type === b.type &&
    (a.dev ?? '') === (b.dev ?? '') &&
    (a.via ?? '') === (b.via ?? '') &&
    Boolean(a.onlink) === Boolean(b.onlink) &&
    b.protocol === String(FELIX_RT_PROTO) &&
    (a.type === 'blackhole' || (a.scope ?? '') === (b.scope ?? ''))
  );
}

export function routeCommand(verb: 'replace' | 'del', r: DesiredRoute): string {
  if (verb === 'del')
    return `route del ${r.type === 'blackhole' ? 'blackhole ' : ''}${r.dst}${r.dev ? ` dev ${r.dev}` : ''}`;
  const parts = ['route', 'replace'];
  if (r.type === 'blackhole') parts.push('blackhole');
  parts.push(r.dst);
  if (r.via) parts.push('via', r.via);
  if (r.dev) parts.push('dev', r.dev);
  if (r.onlink) parts.push('onlink');
  if (r.scope) parts.push('scope', r.scope);
  parts.push('proto', String(FELIX_RT_PROTO));
  return parts.join(' ');
}

export interface RouteDiff {
  commands: string[];
  /** Keys of the routes the commands delete, and the desired routes they write. */
  deleted: string[];
  replaced: [string, DesiredRoute][];
  /** Desired routes left out because the operator already has a route for that destination. */
  conflicts: string[];
  /** Desired routes left out because their device does not exist (yet). */
  waiting: string[];
}

export const linkExists = (dev: string) => existsSync(`/sys/class/net/${dev}`);

/** The `ip -batch` lines that make the kernel's routes match `desired`. */
export function diffRoutes(
  desired: Map<string, DesiredRoute>,
  kernel: Map<string, KernelRoute>,
  interfacePrefix: string,
  devExists: (dev: string) => boolean = linkExists,
  /** Only these keys (the calculation's delta); all of both maps when undefined. */
  keys?: Iterable<string>,
): RouteDiff {
  const out: RouteDiff = { commands: [], deleted: [], replaced: [], conflicts: [], waiting: [] };
  const del = (key: string, r: KernelRoute) => {
    if (isOwnedRoute(r, interfacePrefix) && !desired.has(key)) {
      out.commands.push(routeCommand('del', r));
      out.deleted.push(key);
    }
  };
  const put = (key: string, d: DesiredRoute) => {
    const k = kernel.get(key);
    if (k && sameRoute(d, k)) return;
    if (k && !isOwnedRoute(k, interfacePrefix)) {
      out.conflicts.push(d.dst);
      return;
    }
    if (d.dev && !devExists(d.dev)) {
      out.waiting.push(d.dst);
      return;
    }
    out.commands.push(routeCommand('replace', d));
    out.replaced.push([key, d]);
  };
  walkDiff(kernel, desired, keys, del, put);
  return out;
}

export function routeMap(routes: KernelRoute[]): Map<string, KernelRoute> {
  const m = new Map<string, KernelRoute>();
  // Several kernel routes can share a prefix (different metrics); keep the first, as the kernel would use it.
  for (const r of routes) if (!m.has(routeKey(r))) m.set(routeKey(r), r);
  return m;
}
