import { type ChildProcess, spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import type { PodHandle } from '../cluster.js';
import type { ProberEvent } from './probe-protocol.js';

const PROBER = fileURLToPath(new URL('./prober.js', import.meta.url));

/** One probe between established pods that got no reply (at = when it was sent). */
export interface Loss {
  from: string;
  to: string;
  at: number;
}

interface Prober {
  pod: PodHandle;
  child: ChildProcess;
  exited: Promise<void>;
  stats: { sent: number; received: number; lost: number };
  established: Set<string>;
  /** The newest peer-list version this prober has put in force. */
  acked: number;
}

/**
 * A long-lived prober in every pod (one process per pod, not one per probe), all probing all:
 * collects every lost probe between established pairs, with its send time, for the report to
 * charge to the fault whose window it fell in.
 */
export class ProbeHub {
  private readonly probers = new Map<string, Prober>();
  readonly losses: Loss[] = [];
  /** Probes of pods that are gone, summed when their prober stops. */
  private retired = { sent: 0, received: 0, lost: 0 };
  private version = 0;
  private readonly ackWaiters = new Set<() => void>();

  constructor(private readonly log: (l: string) => void) {}

  /** Starts the pod's prober and tells every prober the new peer list. */
  async add(pod: PodHandle): Promise<void> {
    const child = spawn('ip', ['netns', 'exec', pod.ns.name, process.execPath, PROBER], {
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const p: Prober = {
      pod,
      child,
      exited: new Promise((r) => child.once('close', () => r())), // after its last stdout line
      stats: { sent: 0, received: 0, lost: 0 },
      established: new Set(),
      acked: 0,
    };
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    const ready = new Promise<void>((resolve, reject) => {
      child.once('exit', (code) => reject(new Error(`prober of ${pod.name} exited ${code}: ${stderr}`)));
      createInterface({ input: child.stdout! }).on('line', (line) => {
        const ev = JSON.parse(line) as ProberEvent;
        if ('ready' in ev) resolve();
        else if ('lost' in ev) this.losses.push({ from: pod.name, to: ev.lost.peer, at: ev.lost.at });
        else if ('established' in ev) p.established.add(ev.established.peer);
        else if ('stats' in ev) p.stats = ev.stats;
        else if ('ack' in ev) {
          p.acked = ev.ack;
          for (const w of this.ackWaiters) w();
        }
      });
    });
    child.stdin!.on('error', () => undefined);
    this.probers.set(pod.name, p);
    await ready;
    await this.broadcast();
  }

  /**
   * Stops probing a pod before it is deleted: every other prober drops it (its pending probes
   * are not losses) and says so, then the pod's own prober stops.
   */
  async remove(name: string): Promise<void> {
    const p = this.probers.get(name);
    if (!p) return;
    this.probers.delete(name);
    await this.broadcast();
    p.child.stdin!.end();
    setTimeout(() => p.child.kill('SIGKILL'), 2_000).unref();
    await p.exited;
    this.retire(p);
  }

  private retire(p: Prober): void {
    this.retired.sent += p.stats.sent;
    this.retired.received += p.stats.received;
    this.retired.lost += p.stats.lost;
  }

  /** Sends every prober the list of the others and waits until each has put it in force. */
  private async broadcast(): Promise<void> {
    const v = ++this.version;
    const all = [...this.probers.values()];
    for (const p of all) {
      const peers = all.filter((q) => q !== p).map((q) => ({ name: q.pod.name, ip: q.pod.ip }));
      p.child.stdin!.write(`${JSON.stringify({ v, peers })}\n`);
    }
    const done = () => [...this.probers.values()].every((p) => p.acked >= v || p.child.exitCode !== null);
    if (done()) return;
    await new Promise<void>((resolve) => {
      const finish = () => {
        clearTimeout(timer);
        this.ackWaiters.delete(check);
        resolve();
      };
      const check = () => {
        if (done()) finish();
      };
      const timer = setTimeout(finish, 10_000);
      this.ackWaiters.add(check);
    });
  }

  /** Directed pairs that have seen a reply, of all pairs among the live pods. */
  establishedPairs(): { established: number; pairs: number; missing: string[] } {
    const all = [...this.probers.values()];
    const missing: string[] = [];
    let established = 0;
    for (const p of all)
      for (const q of all) {
        if (p === q) continue;
        if (p.established.has(q.pod.name)) established++;
        else missing.push(`${p.pod.name}→${q.pod.name}`);
      }
    return { established, pairs: all.length * (all.length - 1), missing };
  }

  /** Waits until every pair has seen a reply (new pods' routes have spread). */
  async waitEstablished(timeoutMs: number): Promise<string[]> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      const { missing } = this.establishedPairs();
      if (missing.length === 0 || Date.now() > end) return missing;
      await new Promise((r) => setTimeout(r, 200));
    }
  }

  /** Sent, received and lost probes so far (live probers' counters plus the retired ones). */
  totals(): { sent: number; received: number; lost: number } {
    const t = { ...this.retired };
    for (const p of this.probers.values()) {
      t.sent += p.stats.sent;
      t.received += p.stats.received;
      t.lost += p.stats.lost;
    }
    return t;
  }

  async stopAll(): Promise<void> {
    for (const name of [...this.probers.keys()]) {
      const p = this.probers.get(name)!;
      this.probers.delete(name);
      p.child.stdin!.end();
      p.child.kill('SIGTERM');
      await p.exited;
      this.retire(p);
    }
    this.log('probers stopped');
  }
}
