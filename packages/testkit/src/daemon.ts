import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import type { Netns } from './netns.js';
import { waitFor } from './wait.js';

/**
 * A long-running process inside a network namespace (`ip netns exec`, which execs into the
 * command, so `child.pid` is the daemon's own pid). Its stdout and stderr are kept (the last
 * ~1000 chunks) for `logs()`, to print when a test fails.
 */
export class Daemon {
  readonly output: string[] = [];
  private constructor(
    readonly child: ChildProcess,
    readonly name: string,
  ) {
    const keep = (d: Buffer) => {
      this.output.push(d.toString());
      if (this.output.length > 2000) this.output.splice(0, 1000);
    };
    child.stdout?.on('data', keep);
    child.stderr?.on('data', keep);
  }

  static spawn(ns: Netns, cmd: string, args: string[], name = cmd): Daemon {
    const child = spawn('ip', ['netns', 'exec', ns.name, cmd, ...args], {
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    return new Daemon(child, name);
  }

  get alive(): boolean {
    return this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Sends a signal to the daemon (e.g. SIGSTOP to freeze it), if it still runs. */
  signal(sig: NodeJS.Signals): void {
    if (this.alive) this.child.kill(sig);
  }

  /** Sends `sig` (SIGTERM by default), then SIGKILL after `graceMs`; resolves once it exited. */
  stop(sig: NodeJS.Signals = 'SIGTERM', graceMs = 5000): Promise<void> {
    if (!this.alive) return Promise.resolve();
    return new Promise((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill(sig);
      setTimeout(() => this.child.kill('SIGKILL'), graceMs).unref();
    });
  }

  logs(): string {
    return this.output.join('');
  }

  /**
   * Resolves once `path` exists (a control socket, a pid file); on timeout rejects, with the
   * daemon's logs when it has exited meanwhile.
   */
  async waitForFile(path: string, what = path, timeoutMs = 15_000): Promise<void> {
    await waitFor(
      `${this.name} ${what}`,
      () => existsSync(path) || (!this.alive && Promise.reject(new Error(this.logs()))),
      timeoutMs,
    );
  }
}
