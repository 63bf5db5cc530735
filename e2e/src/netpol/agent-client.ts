import { type ChildProcess, spawn } from 'node:child_process';
import { dirname, join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { Netns } from '@tricolor/testkit';
import type { ProbeProtocol } from './case.js';

const AGENT = join(dirname(fileURLToPath(import.meta.url)), 'agent.js');
const live = new Set<ProbeAgent>();
process.once('exit', () => {
  for (const a of live) a.killSync();
});

/** The runner's handle on one pod's agent (agent.ts) running in the pod's network namespace. */
export class ProbeAgent {
  private nextId = 1;
  private readonly pending = new Map<number, (ok: boolean) => void>();

  private constructor(
    readonly pod: string,
    private readonly child: ChildProcess,
  ) {}

  static async start(
    pod: string,
    ns: Netns,
    opts: { sctp: boolean; readyTimeoutMs?: number },
  ): Promise<ProbeAgent> {
    const child = spawn(
      'ip',
      ['netns', 'exec', ns.name, process.execPath, AGENT, ...(opts.sctp ? ['--sctp'] : [])],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
        detached: true,
      },
    );
    const agent = new ProbeAgent(pod, child);
    live.add(agent);
    let stderr = '';
    child.stderr!.on('data', (d: Buffer) => {
      stderr += d.toString();
    });
    const lines = createInterface({ input: child.stdout! });
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(
        () => reject(new Error(`agent of ${pod} not ready: ${stderr}`)),
        opts.readyTimeoutMs ?? 15_000,
      );
      child.once('exit', (code) => reject(new Error(`agent of ${pod} exited (${code}): ${stderr}`)));
      lines.on('line', (line) => {
        const msg = JSON.parse(line) as { ready?: boolean; id?: number; ok?: boolean };
        if (msg.ready) {
          clearTimeout(timer);
          resolve();
        } else if (msg.id !== undefined) {
          agent.pending.get(msg.id)?.(msg.ok === true);
          agent.pending.delete(msg.id);
        }
      });
    });
    child.once('exit', () => {
      for (const r of agent.pending.values()) r(false);
      agent.pending.clear();
      live.delete(agent);
    });
    return agent;
  }

  /** One try: reachable within `timeoutMs`? */
  probe(
    protocol: ProbeProtocol,
    address: string,
    port: number | undefined,
    timeoutMs: number,
  ): Promise<boolean> {
    const id = this.nextId++;
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      this.child.stdin!.write(`${JSON.stringify({ id, protocol, address, port, timeoutMs })}\n`);
    });
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    const exited = new Promise((r) => this.child.once('exit', r));
    this.child.stdin!.end();
    const timer = setTimeout(() => this.killSync(), 3000);
    await exited;
    clearTimeout(timer);
  }

  killSync(): void {
    try {
      if (this.child.pid) process.kill(-this.child.pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
}
