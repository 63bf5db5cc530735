/**
 * Kernel routes owned by bird, as text: `proto bird` in the main table, `via <nh> dev <dev>
 * onlink` (several `nexthop` for ECMP). Pure: the route spec of a set of next hops, the
 * `ip -batch` lines that write or remove one, and the parser of `ip route show` output.
 */

export interface NextHop {
  via: string;
  dev: string;
}

/** "via 10.0.0.2 dev eth0 onlink", or "nexthop via … onlink nexthop via … onlink" for ECMP. */
export function routeSpec(nexthops: readonly NextHop[]): string {
  const sorted = [...nexthops].sort((a, b) => (a.via < b.via ? -1 : a.via > b.via ? 1 : 0));
  if (sorted.length === 1) return `via ${sorted[0]!.via} dev ${sorted[0]!.dev} onlink`;
  return sorted.map((n) => `nexthop via ${n.via} dev ${n.dev} onlink`).join(' ');
}

/** The `ip -batch` line that installs (spec) or removes (no spec) our route for a prefix. */
export function routeLine(prefix: string, spec: string | undefined): string {
  return spec === undefined ? `route del ${prefix} proto bird` : `route replace ${prefix} proto bird ${spec}`;
}

export interface KernelRoute {
  prefix: string;
  spec: string;
}

/**
 * Routes from `ip [-6] route show table main proto bird` output, fed line by line (so a
 * million routes need not be held at once). Multipath routes span several lines: the
 * prefix alone, then one indented `nexthop via … dev …` line per next hop.
 */
export class RouteLineParser {
  private prefix: string | undefined;
  private hops: NextHop[] = [];

  constructor(private readonly family: 4 | 6) {}

  /** Feeds one line; returns the route it completed, if any. */
  push(line: string): KernelRoute | undefined {
    if (!line.trim()) return undefined;
    if (/^\s/.test(line)) {
      const hop = hopOf(line.trim().split(/\s+/));
      if (hop && this.prefix !== undefined) this.hops.push(hop);
      return undefined;
    }
    const done = this.end();
    const words = line.trim().split(/\s+/);
    let dst = words[0]!;
    if (dst === 'default') dst = this.family === 4 ? '0.0.0.0/0' : '::/0';
    else if (!dst.includes('/')) dst += this.family === 4 ? '/32' : '/128';
    this.prefix = dst;
    const hop = hopOf(words.slice(1));
    this.hops = hop ? [hop] : [];
    return done;
  }

  /** The route in progress, at the end of the output. */
  end(): KernelRoute | undefined {
    const p = this.prefix;
    this.prefix = undefined;
    if (p === undefined) return undefined;
    return { prefix: p, spec: this.hops.length ? routeSpec(this.hops) : '' };
  }
}

function hopOf(words: string[]): NextHop | undefined {
  const via = words.indexOf('via');
  const dev = words.indexOf('dev');
  if (via < 0 && dev < 0) return undefined;
  let gw = via >= 0 ? (words[via + 1] ?? '') : '';
  // `via inet6 fe80::1` (RFC 5549 style) names the family first.
  if (gw === 'inet' || gw === 'inet6') gw = words[via + 2] ?? '';
  return { via: gw, dev: dev >= 0 ? (words[dev + 1] ?? '') : '' };
}

/** Every route of an `ip route show` output. */
export function parseRouteLines(text: string, family: 4 | 6): KernelRoute[] {
  const p = new RouteLineParser(family);
  const out: KernelRoute[] = [];
  for (const line of text.split('\n')) {
    const r = p.push(line);
    if (r) out.push(r);
  }
  const last = p.end();
  if (last) out.push(last);
  return out;
}
