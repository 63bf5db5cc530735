import { follow } from './follow.js';
import type { IpOptions } from './ip.js';
import type { KernelRoute, NextHop } from './routes.js';

/** A route the kernel added, changed or deleted, as `ip monitor route` reports it. */
export interface RouteEvent extends KernelRoute {
  deleted: boolean;
  /** `main` unless the line names another table (`local`, `5`, …). */
  table: string;
}

/**
 * Parses `ip monitor route` output (iproute2 prints no JSON for monitor), line by line:
 * `[Deleted ]<type> <dst> via <gw> dev <dev> table <t> proto <p> metric <m> onlink`, a
 * multipath route as its first line followed by one tab-indented `nexthop via … dev …` line
 * per next hop. Fed in the batches `follow` hands over; `end()` at the end of a batch
 * completes the route in progress (ip writes each event whole).
 */
export class RouteEventParser {
  private current: RouteEvent | undefined;

  /** Feeds one line; returns the event it completed, if any. */
  push(line: string): RouteEvent | undefined {
    if (!line.trim()) return undefined;
    if (/^\s/.test(line)) {
      const w = line.trim().split(/\s+/);
      if (w[0] === 'nexthop' && this.current) {
        const hop: NextHop = { via: wordAfter(w, 'via') ?? '', dev: wordAfter(w, 'dev') ?? '' };
        if (w.includes('onlink')) hop.onlink = true;
        this.current.nexthops ??= [];
        this.current.nexthops.push(hop);
      }
      return undefined;
    }
    const done = this.end();
    let w = line.trim().split(/\s+/);
    const deleted = w[0] === 'Deleted';
    if (deleted) w = w.slice(1);
    let type = 'unicast';
    if (ROUTE_TYPES.includes(w[0]!)) type = w.shift()!;
    let dst = w[0] ?? '';
    // Link and address events are not routes (when the monitor watches more than routes).
    if (!ROUTE_DST.test(dst)) return done;
    const via = wordAfter(w, 'via');
    const family: 4 | 6 = dst.includes(':') || via?.includes(':') ? 6 : 4;
    if (dst === 'default') dst = family === 4 ? '0.0.0.0/0' : '::/0';
    else if (!dst.includes('/')) dst += family === 4 ? '/32' : '/128';
    const e: RouteEvent = {
      deleted,
      table: wordAfter(w, 'table') ?? 'main',
      family,
      dst,
      type,
      protocol: wordAfter(w, 'proto') ?? 'boot',
    };
    const dev = wordAfter(w, 'dev');
    if (dev) e.dev = dev;
    if (via) e.via = via;
    if (w.includes('onlink')) e.onlink = true;
    const metric = wordAfter(w, 'metric');
    if (metric !== undefined) e.metric = Number(metric);
    this.current = e;
    return done;
  }

  /** The event in progress, at the end of a batch. */
  end(): RouteEvent | undefined {
    const e = this.current;
    this.current = undefined;
    return e;
  }
}

/** Route types ip names before the destination (unicast is not named). */
const ROUTE_TYPES = [
  'unicast',
  'local',
  'broadcast',
  'multicast',
  'blackhole',
  'unreachable',
  'prohibit',
  'throw',
  'anycast',
  'nat',
];

/** `default`, an IPv4 or an IPv6 destination (IPv6 has two colons at least: `3:` is a link index). */
const ROUTE_DST = /^(default|\d{1,3}(\.\d{1,3}){3}(\/\d+)?|[0-9a-f]*:[0-9a-f.]*:[0-9a-f.:]*(\/\d+)?)$/i;

function wordAfter(words: string[], key: string): string | undefined {
  const i = words.indexOf(key);
  if (i < 0) return undefined;
  const v = words[i + 1];
  // `via inet6 fe80::1` (a next hop of the other family) names the family first.
  return v === 'inet' || v === 'inet6' ? words[i + 2] : v;
}

/** Every route event of a batch of `ip monitor route` lines. */
export function parseRouteEvents(lines: readonly string[], parser = new RouteEventParser()): RouteEvent[] {
  const out: RouteEvent[] = [];
  for (const l of lines) {
    const e = parser.push(l);
    if (e) out.push(e);
  }
  const last = parser.end();
  if (last) out.push(last);
  return out;
}

/**
 * Watches the kernel's routes (`ip monitor route`, both families, every table): `onEvents`
 * gets each batch of changes as they arrive; when `ip` ends by itself it is started again a
 * second later, until `stop()`. `netns`: inside the namespace bound at that path.
 */
export function watchRoutes(
  onEvents: (events: RouteEvent[]) => void,
  o: Pick<IpOptions, 'netns'> = {},
): { stop(): void } {
  const [file, args] = o.netns
    ? ['nsenter', [`--net=${o.netns}`, 'ip', 'monitor', 'route']]
    : ['ip', ['monitor', 'route']];
  let stopped = false;
  let current: { stop(): void } | undefined;
  let retry: NodeJS.Timeout | undefined;
  const start = () => {
    const parser = new RouteEventParser();
    current = follow(
      file,
      args,
      (lines) => {
        const events = parseRouteEvents(lines, parser);
        if (events.length) onEvents(events);
      },
      () => {
        if (stopped) return;
        retry = setTimeout(start, 1000);
        retry.unref();
      },
    );
  };
  start();
  return {
    stop() {
      stopped = true;
      clearTimeout(retry);
      current?.stop();
    },
  };
}
