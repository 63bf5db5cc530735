import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { hostInterfaceName } from '@tricolor/cni';
import { Netns } from '@tricolor/testkit';
import type { Cluster, CniOutcome, NodeHandle, PodHandle } from '../cluster.js';
import type { ProbeHub } from './probes.js';

export const NAMESPACE = 'chaos';

/** A pod that was deleted: nothing of it may remain in etcd or any node's kernel. */
export interface GonePod {
  name: string;
  node: string;
  containerId: string;
  /** Its address, when an ADD had handed one out. */
  ip?: string;
  hostIf: string;
}

/** What a CNI command ended with (the plugin's JSON error code when it failed). */
export interface CniResult {
  ok: boolean;
  code?: number;
  msg?: string;
  ms: number;
}

/** "code 101: datastore unavailable: …", or how the command ended when the plugin wrote nothing. */
export function failureText(r: { code?: number; msg?: string }): string {
  return `${r.code === undefined ? '' : `code ${r.code}: `}${r.msg ?? ''}`;
}

/** A failed command: the plugin's error code and message, or how it ended when it wrote none. */
function failure(r: CniOutcome): CniResult {
  if (typeof r.out.code === 'number')
    return { ok: false, code: r.out.code, msg: String(r.out.msg ?? ''), ms: r.ms };
  return {
    ok: false,
    msg: `no answer from the plugin (exit ${r.code}): ${r.stderr.trim().slice(-300)}`,
    ms: r.ms,
  };
}

/** A sandbox on its way: a network namespace and a container id, as kubelet holds them. */
export interface Sandbox {
  name: string;
  node: NodeHandle;
  ns: Netns;
  containerId: string;
}

/**
 * Pods through the real CNI plugin, as kubelet drives it: ADD into a fresh sandbox, DEL before
 * the sandbox goes (retried, as kubelet retries), a killed ADD followed by a retry or a DEL.
 * Live pods are in `cluster.pods` and probed by the hub; deleted ones are remembered for the
 * final check.
 */
export class PodManager {
  readonly gone: GonePod[] = [];
  /** The pods made before the faults start: never deleted by the churn. */
  readonly core = new Set<string>();
  private seq = 0;

  constructor(
    readonly cluster: Cluster,
    private readonly hub: ProbeHub,
  ) {}

  async sandbox(nodeName: string): Promise<Sandbox> {
    const node = this.cluster.nodes.get(nodeName)!;
    return {
      name: `chaos-${++this.seq}`,
      node,
      ns: await Netns.create('cp'),
      containerId: randomBytes(16).toString('hex'),
    };
  }

  private podRef(s: Sandbox) {
    return {
      containerId: s.containerId,
      netns: `/var/run/netns/${s.ns.name}`,
      name: s.name,
      namespace: NAMESPACE,
    };
  }

  /** CNI ADD; on success the pod is live and probed. */
  async add(s: Sandbox): Promise<CniResult> {
    const r = await this.cluster.cni(s.node, 'ADD', this.podRef(s));
    if (r.code !== 0) return failure(r);
    const ip = (r.out.ips as { address: string }[])[0]!.address.split('/')[0]!;
    const pod: PodHandle = {
      name: s.name,
      namespace: NAMESPACE,
      node: s.node.name,
      ns: s.ns,
      containerId: s.containerId,
      ip,
    };
    this.cluster.pods.set(s.name, pod);
    await this.hub.add(pod);
    return { ok: true, ms: r.ms };
  }

  /** A new pod on a node: sandbox + ADD (the sandbox is given up when the ADD fails). */
  async create(nodeName: string): Promise<CniResult & { sandbox: Sandbox }> {
    const s = await this.sandbox(nodeName);
    const r = await this.add(s);
    if (!r.ok) await this.abandon(s);
    return { ...r, sandbox: s };
  }

  /** CNI DEL, retried a few times as kubelet does; true once it succeeded. */
  async del(s: Sandbox, attempts = 3): Promise<CniResult> {
    let last: CniResult = { ok: false, ms: 0 };
    for (let i = 0; i < attempts; i++) {
      const r = await this.cluster.cni(s.node, 'DEL', this.podRef(s));
      last = r.code === 0 ? { ok: true, ms: r.ms } : failure(r);
      if (last.ok) return last;
      await new Promise((res) => setTimeout(res, 1_000));
    }
    return last;
  }

  /** A failed sandbox: DEL (kubelet's cleanup after a failed ADD), namespace removed. */
  async abandon(s: Sandbox, ip?: string): Promise<CniResult> {
    const r = await this.del(s);
    await s.ns.destroy();
    this.gone.push({
      name: s.name,
      node: s.node.name,
      containerId: s.containerId,
      ip,
      hostIf: hostInterfaceName(NAMESPACE, s.name),
    });
    return r;
  }

  /** Deletes a live pod: probing stops first, then DEL, then the sandbox. */
  async delete(name: string): Promise<CniResult> {
    const pod = this.cluster.pods.get(name);
    if (!pod) throw new Error(`no pod ${name}`);
    await this.hub.remove(name);
    const s: Sandbox = {
      name,
      node: this.cluster.nodes.get(pod.node)!,
      ns: pod.ns,
      containerId: pod.containerId,
    };
    const r = await this.del(s);
    await pod.ns.destroy();
    this.cluster.pods.delete(name);
    this.gone.push({
      name,
      node: pod.node,
      containerId: pod.containerId,
      ip: pod.ip,
      hostIf: hostInterfaceName(NAMESPACE, name),
    });
    return r;
  }

  /**
   * Runs a CNI ADD and SIGKILLs it (the whole process group: the plugin and the tools it
   * runs) after `killAfterMs`. Returns whether it had already finished.
   */
  async killedAdd(s: Sandbox, killAfterMs: number): Promise<{ finishedFirst: boolean; code: number | null }> {
    const inv = this.cluster.cniInvocation(s.node, 'ADD', this.podRef(s));
    const child = spawn(inv.argv[0]!, inv.argv.slice(1), {
      env: inv.env,
      detached: true,
      stdio: ['pipe', 'ignore', 'ignore'],
    });
    child.stdin!.on('error', () => undefined);
    child.stdin!.end(inv.input);
    const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
    const winner = await Promise.race([
      exited.then((code) => ({ finishedFirst: true, code })),
      new Promise<null>((r) => setTimeout(() => r(null), killAfterMs)),
    ]);
    if (winner) return winner;
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      /* gone meanwhile */
    }
    return { finishedFirst: false, code: await exited };
  }

  /** Pods the churn may delete (not the core ones). */
  churnable(): string[] {
    return [...this.cluster.pods.keys()].filter((n) => !this.core.has(n));
  }
}
