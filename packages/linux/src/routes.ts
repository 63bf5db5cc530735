import { type IpOptions, ipJsonEach, rereadIfInterrupted } from './ip.js';

/** One next hop of a multipath route. */
export interface NextHop {
  via: string;
  dev: string;
  onlink?: boolean;
}

/** A kernel route as `ip -json route` reports it, normalized. */
export interface KernelRoute {
  family: 4 | 6;
  /** CIDR with its prefix length always written (`10.0.0.5/32`); the default route is `0.0.0.0/0` / `::/0`. */
  dst: string;
  /** `unicast`, `blackhole`, `local`, `unreachable`, … */
  type: string;
  dev?: string;
  via?: string;
  onlink?: boolean;
  scope?: 'link' | 'host';
  /** Name or number as ip prints it: `kernel`, `boot`, `static`, `bird`, `80`. */
  protocol: string;
  metric?: number;
  /** Multipath routes: every next hop (then `via`/`dev` are unset). */
  nexthops?: NextHop[];
}

interface IpRoute {
  type?: string;
  dst: string;
  gateway?: string;
  dev?: string;
  protocol?: string;
  scope?: string;
  metric?: number;
  flags?: string[];
  nexthops?: { gateway?: string; dev?: string; flags?: string[] }[];
}

/** Turns one element of `ip -json route` output into a KernelRoute. */
export function normalizeRoute(r: IpRoute, family: 4 | 6): KernelRoute {
  const full = family === 4 ? '/32' : '/128';
  const dst =
    r.dst === 'default' ? (family === 4 ? '0.0.0.0/0' : '::/0') : r.dst.includes('/') ? r.dst : r.dst + full;
  const out: KernelRoute = { family, dst, type: r.type ?? 'unicast', protocol: String(r.protocol ?? 'boot') };
  if (r.dev) out.dev = r.dev;
  if (r.gateway) out.via = r.gateway;
  if (r.flags?.includes('onlink')) out.onlink = true;
  if (r.scope === 'link' || r.scope === 'host') out.scope = r.scope;
  if (r.metric !== undefined) out.metric = r.metric;
  if (r.nexthops)
    out.nexthops = r.nexthops.map((n) => ({
      via: n.gateway ?? '',
      dev: n.dev ?? '',
      ...(n.flags?.includes('onlink') ? { onlink: true } : {}),
    }));
  return out;
}

export interface RouteQuery extends IpOptions {
  /** Both families when unset. */
  family?: 4 | 6;
  /** Default `main`. */
  table?: string;
  /** Only routes of this protocol (`bird`, `80`). */
  proto?: string;
}

/**
 * Reads routes (both families unless told), streamed: `each` gets every route while `ip`
 * still prints (10,000 routes do not block the event loop in one parse). A host without
 * IPv6 gives no IPv6 routes rather than an error.
 */
export async function eachRoute(q: RouteQuery, each: (r: KernelRoute) => void): Promise<void> {
  const families = q.family ? [q.family] : ([4, 6] as const);
  await Promise.all(
    families.map(async (family) => {
      const args = [`-${family}`, 'route', 'show', 'table', q.table ?? 'main'];
      if (q.proto) args.push('proto', q.proto);
      // ip leaves out the field it filtered on (and `boot`, the default).
      const proto = q.proto;
      const read = ipJsonEach<IpRoute>(
        args,
        (r) =>
          each(normalizeRoute(proto && r.protocol === undefined ? { ...r, protocol: proto } : r, family)),
        q,
      );
      await (family === 6 && !q.family ? read.catch(() => undefined) : read);
    }),
  );
}

/**
 * The routes of a table, in a list (see `eachRoute`); read again when a concurrent change
 * interrupted the kernel's dump.
 */
export function readRoutes(q: RouteQuery = {}): Promise<KernelRoute[]> {
  return rereadIfInterrupted(async () => {
    const out: KernelRoute[] = [];
    await eachRoute(q, (r) => out.push(r));
    return out;
  });
}
