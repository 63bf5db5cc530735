import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import type { Netns } from '@tricolor/testkit';

const live = new Set<Daemon>();
process.once('exit', () => {
  for (const d of live) d.killSync();
});

/**
 * One daemon (felix or bird) of a test node, run inside the node's network namespace as on
 * a real node, its output appended to a log file. Killing it targets its own process group.
 */
export class Daemon {
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  restarts = 0;

  constructor(
    readonly name: string,
    readonly ns: Netns,
    readonly argv: string[],
    readonly env: Record<string, string>,
    readonly logFile: string,
  ) {}

  get pid(): number | undefined {
    return this.child?.pid;
  }

  get running(): boolean {
    return this.child !== undefined;
  }

  start(): void {
    const fd = openSync(this.logFile, 'a');
    const child = spawn('ip', ['netns', 'exec', this.ns.name, ...this.argv], {
      env: { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin', ...this.env },
      stdio: ['ignore', fd, fd],
      detached: true,
    });
    closeSync(fd);
    this.child = child;
    live.add(this);
    this.exited = new Promise((resolve) => child.once('exit', () => resolve()));
    child.once('exit', () => {
      if (this.child === child) this.child = undefined;
    });
  }

  /** Sends a signal to the daemon's process group and waits for it to exit. */
  async stop(signal: NodeJS.Signals = 'SIGTERM', timeoutMs = 10_000): Promise<void> {
    const child = this.child;
    if (!child?.pid) return;
    try {
      process.kill(-child.pid, signal);
    } catch {
      /* already gone */
    }
    const timer = setTimeout(() => {
      try {
        process.kill(-child.pid!, 'SIGKILL');
      } catch {
        /* gone */
      }
    }, timeoutMs);
    await this.exited;
    clearTimeout(timer);
    live.delete(this);
  }

  async restart(): Promise<void> {
    await this.stop();
    this.restarts++;
    this.start();
  }

  /** Leaves the daemon running when this process exits (demo --keep). */
  keep(): number | undefined {
    live.delete(this);
    this.child?.unref();
    return this.child?.pid;
  }

  killSync(): void {
    if (this.child?.pid) {
      try {
        process.kill(-this.child.pid, 'SIGKILL');
      } catch {
        /* gone */
      }
    }
  }

  log(): string {
    try {
      return readFileSync(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }
}
