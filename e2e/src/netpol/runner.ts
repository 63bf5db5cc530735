import { readFileSync, rmSync } from 'node:fs';
import { hasCommand, run } from '@tricolor/testkit';
import { Cluster, podKey } from '../cluster.js';
import { KubernetesControlPlane } from '../kubernetes.js';
import {
  type ActionPath,
  directPath,
  setNamespaceLabels,
  syncPodEndpoint,
  writeServiceAccountProfile,
} from './actions.js';
import { ProbeAgent } from './agent-client.js';
import { type Case, CaseError, parseCases } from './case.js';
import { createLayoutObjects, KubernetesPath } from './kube-path.js';
import { NAMESPACES, namespaceLabels, PODS, podLabels } from './layout.js';
import { mismatchText, probeLabel, renderMatrix } from './matrix.js';
import { preflight } from './preflight.js';
import { probeMatrix } from './probe.js';
import { type CaseResult, caseMismatches, exitCode, jsonReport, summarize, summaryLine } from './report.js';
import { runCase } from './run-case.js';
import { parseStatus, type StatusSource, settleMs, waitUntilProgrammed } from './settle.js';

export interface RunnerOptions {
  files: string[];
  json: boolean;
  /** Nodes of the cluster (at least 2, so some pairs cross nodes). */
  nodes?: number;
  /**
   * Pods, namespaces and NetworkPolicies through the Kubernetes API (testkit's fake API server)
   * and tricolor-kube-controllers, pods read from it by the CNI plugin, instead of written to
   * the datastore directly.
   */
  viaKubernetes?: boolean;
  out?: (text: string) => void;
  log?: (line: string) => void;
}

/** Usage and setup errors: exit 2. */
export class SetupError extends Error {
  override readonly name = 'SetupError';
}

/** Reads and checks every case file before anything starts (exit 2 on the first bad one). */
export function loadCases(files: string[]): Case[] {
  const texts = files.map((file) => {
    try {
      return { file, text: readFileSync(file, 'utf8') };
    } catch (e) {
      throw new CaseError(`${file}: cannot be read: ${(e as Error).message}`);
    }
  });
  const cases = parseCases(texts);
  for (const c of cases) preflight(c);
  return cases;
}

export async function kernelHasSctp(): Promise<boolean> {
  return (await run('modprobe', ['sctp'], { allowFail: true })).code === 0;
}

interface Layout {
  cluster: Cluster;
  path: ActionPath;
  agents: Map<string, ProbeAgent>;
  ips: Map<string, string>;
  endpointNames: Map<string, string>;
}

/** The standard layout on a fresh cluster: 9 pods through the CNI plugin spread over the nodes, each with its agent. */
async function bringUp(
  nodes: number,
  viaKubernetes: boolean,
  sctp: boolean,
  agents: Map<string, ProbeAgent>,
  log: (l: string) => void,
  onCluster: (c: Cluster) => void,
  onKubernetes: (k: KubernetesControlPlane) => void,
): Promise<Layout> {
  let cluster: Cluster;
  try {
    cluster = await Cluster.up({ nodes, mode: 'mesh', log });
  } catch (e) {
    throw new SetupError(`the cluster did not come up: ${(e as Error).message}`);
  }
  onCluster(cluster);
  const nodeNames = [...cluster.nodes.keys()];
  const nodeOf = (pod: string) => nodeNames[PODS.indexOf(pod) % nodeNames.length]!;
  let k8s: KubernetesControlPlane | undefined;
  let path: ActionPath;
  if (viaKubernetes) {
    k8s = await KubernetesControlPlane.start(cluster);
    onKubernetes(k8s);
    createLayoutObjects(k8s.api, nodeOf);
    path = new KubernetesPath(k8s.api, cluster.ds, () => k8s!.controllersLog());
  } else {
    for (const ns of NAMESPACES) {
      await setNamespaceLabels(cluster.ds, ns, namespaceLabels(ns));
      await writeServiceAccountProfile(cluster.ds, ns);
    }
    path = directPath(cluster.ds, namespaceLabels, podLabels);
  }
  const layout: Layout = { cluster, path, agents, ips: new Map(), endpointNames: new Map() };
  for (const pod of PODS) {
    const [namespace, name] = pod.split('/') as [string, string];
    const handle = await cluster.createPod(nodeOf(pod), name, namespace, k8s?.cniExtra() ?? {});
    layout.ips.set(pod, handle.ip);
    const wep = (await cluster.ds.list('WorkloadEndpoint', namespace)).items.find((w) => w.spec.pod === name);
    if (!wep) throw new SetupError(`no WorkloadEndpoint for ${pod} after its CNI ADD`);
    layout.endpointNames.set(pod, wep.metadata.name);
    // Through Kubernetes the plugin and the controllers write labels, ports and profiles.
    if (!k8s) await syncPodEndpoint(cluster.ds, namespace, wep.metadata.name, podLabels(pod));
    layout.agents.set(
      pod,
      await ProbeAgent.start(pod, cluster.pods.get(podKey(name, namespace))!.ns, { sctp }),
    );
    log(`${pod}: ${handle.ip} on ${handle.node}`);
  }
  try {
    await path.synced();
  } catch (e) {
    throw new SetupError((e as Error).message);
  }
  return layout;
}

/**
 * Setup readiness, before any case: with no policy yet, every pod reaches every other over
 * TCP (routes between nodes converged). Not part of any case; never uses expectations.
 */
async function waitReachable(layout: Layout, log: (l: string) => void, timeoutMs = 60_000): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const m = await probeMatrix(layout.agents, layout.ips, { protocol: 'TCP', port: 80 });
    const down = PODS.flatMap((f) => PODS.filter((t) => !m[f]![t]).map((t) => `${f}->${t}`));
    if (down.length === 0) return;
    if (performance.now() > deadline)
      throw new SetupError(
        `the layout's pods do not all reach each other after ${timeoutMs / 1000} s: ${down.join(', ')}`,
      );
    log(`netpol: waiting for routes (${down.length} pairs unreachable)`);
    await new Promise((r) => setTimeout(r, 1000));
  }
}

/** The conformance run of FORMAT.md section 4; resolves to the exit status. */
export async function runConformance(opts: RunnerOptions): Promise<number> {
  const out = opts.out ?? ((t: string) => process.stdout.write(t));
  const log = opts.log ?? ((l: string) => process.stderr.write(`${l}\n`));
  const cases = loadCases(opts.files);
  if (process.getuid?.() !== 0) throw new SetupError('must run as root (it creates network namespaces)');
  const settle = settleMs();
  const sctp = await kernelHasSctp();
  for (const cmd of ['ip', 'ping', ...(sctp ? ['socat'] : [])])
    if (!hasCommand(cmd)) throw new SetupError(`${cmd} is not installed (scripts/setup.sh installs it)`);
  log(
    `netpol: ${cases.length} cases; ${opts.viaKubernetes ? 'through the Kubernetes API and tricolor-kube-controllers' : 'written to the datastore directly'}; SCTP ${sctp ? 'available' : 'not available on this kernel (modprobe sctp failed): SCTP cases are SKIPPED'}; ${settle === undefined ? "waiting for every felix's programmed revision" : `fixed settle ${settle} ms`}`,
  );

  let cluster: Cluster | undefined;
  let k8s: KubernetesControlPlane | undefined;
  const agents = new Map<string, ProbeAgent>();
  const teardown = async () => {
    await Promise.all([...agents.values()].map((a) => a.stop().catch(() => undefined)));
    await k8s?.close().catch((e: unknown) => log(`teardown: ${(e as Error).message}`));
    await cluster?.down().catch((e: unknown) => log(`teardown: ${(e as Error).message}`));
    cluster = undefined;
  };
  // An interrupt ends the process at once: the exit hooks of what the run started (testkit's
  // namespaces, etcd and relays, the e2e daemons, the probe agents) kill and delete it all
  // synchronously — the same hooks testkit's own SIGINT handler relies on.
  const onSignal = (signal: NodeJS.Signals) => {
    log(`netpol: ${signal}: tearing down`);
    if (cluster) rmSync(cluster.dir, { recursive: true, force: true });
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  try {
    const t0 = performance.now();
    const layout = await bringUp(
      opts.nodes ?? 3,
      opts.viaKubernetes === true,
      sctp,
      agents,
      log,
      (c) => {
        cluster = c;
      },
      (k) => {
        k8s = k;
      },
    );
    await waitReachable(layout, log);
    log(`netpol: layout up in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
    const felixes: StatusSource[] = [...layout.cluster.nodes.values()].map((node) => ({
      name: node.name,
      status: async () => {
        const r = await layout.cluster.httpInNode(node, 'http://127.0.0.1:9099/status');
        return r.ok ? parseStatus(r.body) : undefined;
      },
    }));
    const waitProgrammed = async () => {
      if (settle !== undefined) {
        await new Promise((r) => setTimeout(r, settle));
        return;
      }
      try {
        await waitUntilProgrammed(await layout.cluster.ds.kv.revision(), felixes);
      } catch (e) {
        throw new SetupError((e as Error).message);
      }
    };
    const results: CaseResult[] = [];
    for (const c of cases) {
      const tc = performance.now();
      if (c.requires.includes('SCTP') && !sctp) {
        log(
          `${c.name}: SKIPPED (not a pass): it requires SCTP and this kernel has none (modprobe sctp failed)`,
        );
        results.push({ name: c.name, skipped: 'kernel has no SCTP', steps: [] });
        continue;
      }
      const result = await runCase(c, {
        ds: layout.cluster.ds,
        path: layout.path,
        pods: { all: PODS, ips: layout.ips, endpointName: (p) => layout.endpointNames.get(p)! },
        observe: (probe) => probeMatrix(layout.agents, layout.ips, probe),
        settle: waitProgrammed,
        onProbe: (k, step, probe, observed) => {
          if (!opts.json)
            out(`${renderMatrix(`${k.name}  step ${step}  ${probeLabel(probe)}`, observed, probe.expect)}\n`);
        },
      });
      results.push(result);
      const bad = caseMismatches(result);
      if (!opts.json) {
        if (bad.length > 0)
          out(
            `${c.name}: ${bad.length} mismatched cells\n${bad.map((m) => `  step ${m.step} ${m.probe}: ${mismatchText(m)}`).join('\n')}\n\n`,
          );
        else out(`${c.name}: no mismatches\n\n`);
      }
      log(`${c.name}: ${((performance.now() - tc) / 1000).toFixed(1)} s`);
    }
    const summary = summarize(results);
    if (opts.json) out(jsonReport(results));
    else out(`${summaryLine(summary)}\n`);
    log(`netpol: ${summaryLine(summary)}; ${((performance.now() - t0) / 1000).toFixed(1)} s in all`);
    return exitCode(summary);
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    await teardown();
  }
}
