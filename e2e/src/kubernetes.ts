import { type ChildProcess, spawn } from 'node:child_process';
import { FakeApiServer, freePort, LoopbackBridge, type Netns } from '@tricolor/testkit';
import { BINARIES } from './paths.js';

const live = new Set<ChildProcess>();
process.once('exit', () => {
  for (const c of live) c.kill('SIGKILL');
});

/**
 * Kubernetes for a netns cluster: testkit's fake API server (no kube-apiserver runs here)
 * reachable at the same URL on the host and inside every node, a Node object per node, and
 * the real tricolor-kube-controllers binary syncing it into the cluster's etcd. Pods added
 * with `cniExtra()` are read from it by the CNI plugin, as on a real node.
 */
export class KubernetesControlPlane {
  private log = '';

  private constructor(
    readonly api: FakeApiServer,
    private readonly bridge: LoopbackBridge,
    readonly kubeconfig: string,
    private readonly controllers: ChildProcess,
  ) {
    const keep = (d: Buffer) => {
      this.log = (this.log + d.toString()).slice(-64 * 1024);
    };
    controllers.stdout!.on('data', keep);
    controllers.stderr!.on('data', keep);
  }

  /** `cluster`: a netns Cluster, or just an etcd (no nodes) for tests that need no kernel. */
  static async start(cluster: {
    nodes: ReadonlyMap<string, { name: string; ns: Netns }>;
    etcdEnv(): Record<string, string>;
  }): Promise<KubernetesControlPlane> {
    const api = await FakeApiServer.start();
    const kubeconfig = api.writeKubeconfig();
    const port = Number(new URL(api.url).port);
    const bridge = await LoopbackBridge.create(port);
    for (const n of cluster.nodes.values()) {
      await bridge.expose(n.ns, port);
      api.create({ kind: 'Node', metadata: { name: n.name, labels: { 'kubernetes.io/hostname': n.name } } });
    }
    const controllers = spawn(process.execPath, [BINARIES.kubeControllers], {
      env: {
        PATH: process.env.PATH,
        KUBECONFIG: kubeconfig,
        ...cluster.etcdEnv(),
        TRICOLOR_KUBECONTROLLERS_HEALTHPORT: String(await freePort()),
        TRICOLOR_KUBECONTROLLERS_METRICSPORT: String(await freePort()),
        LOG_LEVEL: 'info',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    live.add(controllers);
    controllers.once('exit', () => live.delete(controllers));
    return new KubernetesControlPlane(api, bridge, kubeconfig, controllers);
  }

  /** The network config addition that makes the CNI plugin read its pod from this API server. */
  cniExtra(): Record<string, unknown> {
    return { kubernetes: { kubeconfig: this.kubeconfig } };
  }

  /** The controllers' recent output (for failure messages). */
  controllersLog(chars = 2000): string {
    return this.log.slice(-chars);
  }

  async close(): Promise<void> {
    if (this.controllers.exitCode === null && this.controllers.signalCode === null) {
      const exited = new Promise((r) => this.controllers.once('exit', r));
      this.controllers.kill('SIGTERM');
      await exited;
    }
    await this.bridge.close();
    await this.api.close();
  }
}
