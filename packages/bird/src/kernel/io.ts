/**
 * The kernel as bird's kernel exporter sees it: write route lines, read our routes back,
 * ask which device reaches an address. One small interface so the `ip` implementation
 * below can give way to the project's Linux adapter (or netlink) without touching the
 * exporter. The `ip` implementation streams: lines are pulled from the caller as the
 * `ip -batch` process takes them, and read-backs are parsed line by line.
 */
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { type KernelRoute, RouteLineParser } from './routes.js';

export interface ApplyResult {
  lines: number;
  /** Lines the kernel refused (removing a route already gone is not counted). */
  failed: number;
  /** The first errors, for the log. */
  errors: string[];
}

export interface KernelIo {
  /** Applies `route replace|del … proto bird` lines, pulled lazily from `lines`. */
  apply(lines: Iterable<string>): Promise<ApplyResult>;
  /** Our routes (proto bird, main table) as the kernel has them, both families. */
  routes(): AsyncIterable<KernelRoute>;
  /** The device through which an address is reached ('' when none). */
  deviceFor(address: string): Promise<string>;
}

/** Bytes of lines handed to `ip` per write. */
const CHUNK = 64 * 1024;
/** `ip -force` keeps going past these, and so do we. */
const HARMLESS = /No such process|Cannot find device|does not exist/;

export class IpCommand implements KernelIo {
  /** `ip` with `global` options first (e.g. `['-n', 'ns1']` for another namespace). */
  constructor(private readonly global: string[] = []) {}

  private spawnIp(args: string[], stdio: ('pipe' | 'ignore')[]) {
    return spawn('ip', [...this.global, ...args], { stdio: stdio as ['pipe', 'pipe', 'pipe'] });
  }

  async apply(lines: Iterable<string>): Promise<ApplyResult> {
    const child = this.spawnIp(['-force', '-batch', '-'], ['pipe', 'ignore', 'pipe']);
    const errors: string[] = [];
    let failed = 0;
    let stderr = '';
    child.stderr.setEncoding('utf8');
    child.stderr.on('data', (d: string) => {
      stderr += d;
      let nl = stderr.indexOf('\n');
      while (nl >= 0) {
        const line = stderr.slice(0, nl);
        stderr = stderr.slice(nl + 1);
        if (line.startsWith('Command failed')) failed++;
        else if (line && !HARMLESS.test(line) && errors.length < 10) errors.push(line);
        else if (HARMLESS.test(line)) failed--; // its "Command failed" line follows
        nl = stderr.indexOf('\n');
      }
    });
    const exited = new Promise<number>((resolve, reject) => {
      child.once('error', reject);
      child.once('close', (code) => resolve(code ?? 1));
    });
    child.stdin.on('error', () => undefined); // a dead ip shows in its exit status
    let n = 0;
    let buf = '';
    for (const line of lines) {
      buf += `${line}\n`;
      n++;
      if (buf.length >= CHUNK) {
        const ok = child.stdin.write(buf);
        buf = '';
        if (!ok) await new Promise<void>((r) => child.stdin.once('drain', () => r()));
      }
    }
    child.stdin.end(buf);
    const code = await exited;
    if (code !== 0 && failed <= 0 && errors.length === 0) errors.push(`ip -batch exited ${code}`);
    return { lines: n, failed: Math.max(0, failed), errors };
  }

  async *routes(): AsyncIterable<KernelRoute> {
    for (const family of [4, 6] as const) {
      const child = this.spawnIp(
        [`-${family}`, 'route', 'show', 'table', 'main', 'proto', 'bird'],
        ['ignore', 'pipe', 'ignore'],
      );
      const parser = new RouteLineParser(family);
      for await (const line of createInterface({
        input: child.stdout,
        crlfDelay: Number.POSITIVE_INFINITY,
      })) {
        const r = parser.push(line);
        if (r) yield r;
      }
      const last = parser.end();
      if (last) yield last;
    }
  }

  async deviceFor(address: string): Promise<string> {
    const out = await new Promise<string>((resolve) => {
      const child = this.spawnIp(['-json', 'route', 'get', address], ['ignore', 'pipe', 'ignore']);
      let s = '';
      child.stdout.setEncoding('utf8');
      child.stdout.on('data', (d: string) => {
        s += d;
      });
      child.once('error', () => resolve(''));
      child.once('close', () => resolve(s));
    });
    try {
      return (JSON.parse(out) as { dev?: string }[])[0]?.dev ?? '';
    } catch {
      return '';
    }
  }
}
