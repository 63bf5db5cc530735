/**
 * Kernel routes owned by bird: `proto bird` (12) in the main table, `via <nh> dev <dev>
 * onlink`. Desired state is kept per prefix as a route spec string; writes are batched
 * through `ip -force -batch -`; a periodic read-back (`ip -json route show proto bird`)
 * repairs drift (deleted or changed routes) and removes stray bird routes.
 */
import { execa } from 'execa';

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

interface IpJsonRoute {
  dst: string;
  gateway?: string;
  dev?: string;
  nexthops?: { gateway?: string; dev?: string }[];
}

/** Route specs of `ip -json route show proto bird` output, keyed by prefix. */
export function parseIpRoutes(json: string, family: 4 | 6): Map<string, string> {
  const out = new Map<string, string>();
  const list = json.trim() ? (JSON.parse(json) as IpJsonRoute[]) : [];
  for (const r of list) {
    let dst = r.dst;
    if (dst === 'default') dst = family === 4 ? '0.0.0.0/0' : '::/0';
    else if (!dst.includes('/')) dst += family === 4 ? '/32' : '/128';
    const hops: NextHop[] = r.nexthops
      ? r.nexthops.map((n) => ({ via: n.gateway ?? '', dev: n.dev ?? '' }))
      : [{ via: r.gateway ?? '', dev: r.dev ?? '' }];
    out.set(dst, routeSpec(hops));
  }
  return out;
}

/** The `ip -batch` lines that turn `current` into `desired` (only our routes are ever touched). */
export function diffRoutes(
  desired: ReadonlyMap<string, string>,
  current: ReadonlyMap<string, string>,
  removeStray: boolean,
): string[] {
  const lines: string[] = [];
  for (const [p, spec] of desired)
    if (current.get(p) !== spec) lines.push(`route replace ${p} proto bird ${spec}`);
  if (removeStray)
    for (const p of current.keys()) if (!desired.has(p)) lines.push(`route del ${p} proto bird`);
  return lines;
}

export interface KernelOptions {
  /** Runs `ip` with args (and stdin); replaced in tests. */
  ip?: (args: string[], input?: string) => Promise<string>;
  onWrite?: (seconds: number, lines: number) => void;
  onError?: (err: Error) => void;
}

const defaultIp = async (args: string[], input?: string): Promise<string> => {
  const r = await execa('ip', args, input === undefined ? {} : { input });
  return r.stdout;
};

export class KernelRoutes {
  readonly desired = new Map<string, string>();
  private readonly pending = new Set<string>();
  private readonly devCache = new Map<string, string>();
  private flushing: Promise<void> | undefined;
  private again = false;
  /** false until initial convergence: stray bird routes (from before a restart) are kept. */
  sweepAllowed = false;
  installed = 0;
  readonly ip: (args: string[], input?: string) => Promise<string>;

  constructor(private readonly opts: KernelOptions = {}) {
    this.ip = opts.ip ?? defaultIp;
  }

  /** The device through which a next hop is reached (cached). */
  async deviceFor(via: string): Promise<string> {
    const hit = this.devCache.get(via);
    if (hit) return hit;
    try {
      const out = await this.ip(['-json', 'route', 'get', via]);
      const dev = (JSON.parse(out) as { dev?: string }[])[0]?.dev ?? '';
      if (dev) this.devCache.set(via, dev);
      return dev;
    } catch {
      return '';
    }
  }

  /** Sets (spec) or removes (undefined) the route of a prefix; written on the next flush. */
  set(prefix: string, spec: string | undefined): void {
    const cur = this.desired.get(prefix);
    if (cur === spec) return;
    if (spec === undefined) this.desired.delete(prefix);
    else this.desired.set(prefix, spec);
    this.pending.add(prefix);
  }

  /** Writes pending changes in one batch. */
  flush(): Promise<void> {
    if (this.flushing) {
      this.again = true;
      return this.flushing;
    }
    const run = async () => {
      await Promise.resolve(); // set `flushing` before any work finishes
      try {
        do {
          this.again = false;
          if (this.pending.size === 0) break;
          const lines: string[] = [];
          for (const p of this.pending) {
            const spec = this.desired.get(p);
            lines.push(
              spec === undefined ? `route del ${p} proto bird` : `route replace ${p} proto bird ${spec}`,
            );
          }
          this.pending.clear();
          await this.write(lines);
        } while (this.again || this.pending.size > 0);
      } finally {
        this.flushing = undefined;
      }
    };
    this.flushing = run();
    return this.flushing;
  }

  private async write(lines: string[]): Promise<void> {
    const t0 = process.hrtime.bigint();
    const CHUNK = 50_000;
    for (let i = 0; i < lines.length; i += CHUNK) {
      try {
        await this.ip(['-force', '-batch', '-'], `${lines.slice(i, i + CHUNK).join('\n')}\n`);
      } catch (e) {
        // -force continues past failing lines (e.g. deleting a route already gone) and exits 1.
        const msg = (e as Error).message;
        if (!/No such process|Cannot find device|does not exist/.test(msg)) this.opts.onError?.(e as Error);
      }
    }
    this.installed = this.desired.size;
    this.opts.onWrite?.(Number(process.hrtime.bigint() - t0) / 1e9, lines.length);
  }

  /** Reads the kernel back and repairs drift; returns the number of lines written. */
  async reconcile(): Promise<number> {
    const [v4, v6] = await Promise.all([
      this.ip(['-json', 'route', 'show', 'table', 'main', 'proto', 'bird']),
      this.ip(['-json', '-6', 'route', 'show', 'table', 'main', 'proto', 'bird']),
    ]);
    const current = new Map([...parseIpRoutes(v4, 4), ...parseIpRoutes(v6, 6)]);
    const lines = diffRoutes(this.desired, current, this.sweepAllowed);
    if (lines.length) await this.write(lines);
    return lines.length;
  }

  /** Removes every route we installed (used on a clean shutdown without graceful restart). */
  async removeAll(): Promise<void> {
    const lines = [...this.desired.keys()].map((p) => `route del ${p} proto bird`);
    this.desired.clear();
    if (lines.length) await this.write(lines);
  }
}
