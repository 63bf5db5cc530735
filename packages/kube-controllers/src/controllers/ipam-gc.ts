/**
 * The IPAM garbage collector (see ../ipam-gc.ts for the judgement): every interval, when the
 * pod informer is synced and its watch healthy (a stale pod list must never free a live pod's
 * address), candidates are counted and those past the grace period released.
 */
import type { V1Pod } from '@kubernetes/client-node';
import type { Ipam } from '@tricolor/ipam';
import type { WatchedInformer } from '../informer.js';
import { judgeAllocations, listAllocations } from '../ipam-gc.js';
import type { ControllerDeps } from './base.js';

export class IpamGarbageCollector {
  private firstSeen = new Map<string, number>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly nodesWithCandidates = new Set<string>();

  constructor(
    private readonly deps: ControllerDeps,
    private readonly pods: WatchedInformer<V1Pod>,
    private readonly ipam: Ipam,
    private readonly opts: { graceMs: number; intervalMs: number },
  ) {}

  start(): void {
    const tick = () => {
      this.timer = setTimeout(async () => {
        await this.runOnce().catch((e) => this.deps.log.warn({ err: String(e) }, 'IPAM GC round failed'));
        if (this.timer) tick();
      }, this.opts.intervalMs);
    };
    tick();
  }

  /** One round; returns the addresses released (none when the pod view cannot be trusted). */
  async runOnce(now = Date.now()): Promise<string[]> {
    if (!this.pods.synced || !this.pods.healthy) {
      this.deps.log.info('IPAM GC skipped: the pod informer is not synced and healthy');
      return [];
    }
    const run = (async () => {
      const uids = new Set<string>();
      const names = new Set<string>();
      for (const p of this.pods.list()) {
        if (p.metadata?.uid) uids.add(p.metadata.uid);
        names.add(`${p.metadata?.namespace}/${p.metadata?.name}`);
      }
      const j = judgeAllocations(
        await listAllocations(this.deps.ds),
        { uids, names },
        now,
        this.opts.graceMs,
        this.firstSeen,
      );
      this.firstSeen = j.firstSeen;
      const perNode = new Map<string, number>();
      for (const a of j.candidates) perNode.set(a.node ?? '', (perNode.get(a.node ?? '') ?? 0) + 1);
      for (const n of this.nodesWithCandidates)
        if (!perNode.has(n)) this.deps.metrics.gcCandidates.set({ node: n }, 0);
      for (const [n, c] of perNode) {
        this.deps.metrics.gcCandidates.set({ node: n }, c);
        this.nodesWithCandidates.add(n);
      }
      const released: string[] = [];
      for (const handle of new Set(j.release.map((a) => a.handle))) {
        const node = j.release.find((a) => a.handle === handle)?.node ?? '';
        const ips = await this.ipam.releaseByHandle(handle);
        this.deps.metrics.gcReclamations.inc({ node }, ips.length);
        released.push(...ips);
        this.deps.log.info(
          { handle, ips, node },
          'IPAM GC released the addresses of a pod that no longer exists',
        );
      }
      return released;
    })();
    this.running = run.then(
      () => undefined,
      () => undefined,
    );
    return run;
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }
}
