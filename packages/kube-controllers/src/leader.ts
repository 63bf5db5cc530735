/**
 * One active instance through a coordination.k8s.io Lease (client-go's leader election in
 * small; client-node has none). A candidate takes the Lease when it is free or when its
 * holder has not renewed it for leaseDuration as observed by the candidate's own clock (no
 * clock comparison between machines); the holder renews every renewInterval and gives up —
 * `onLost`, after which the process exits — when it could not renew for renewDeadline, which
 * is shorter than leaseDuration, so two instances never both believe they lead.
 */
import { type CoordinationV1Api, type V1Lease, V1MicroTime } from '@kubernetes/client-node';
import type { Logger } from 'pino';

export interface LeaseOptions {
  namespace: string;
  name: string;
  identity: string;
  leaseDurationS?: number;
  renewDeadlineMs?: number;
  retryPeriodMs?: number;
}

const code = (e: unknown) => (e as { code?: number })?.code;

export class LeaseElector {
  private observed = '';
  private observedAt = 0;
  private stopped = false;
  private timer: NodeJS.Timeout | undefined;
  leading = false;

  constructor(
    private readonly api: CoordinationV1Api,
    private readonly opts: LeaseOptions,
    private readonly log: Logger,
  ) {}

  private get durationS(): number {
    return this.opts.leaseDurationS ?? 15;
  }

  /** One attempt to acquire or renew; true when we hold the Lease afterwards. */
  async tryAcquireOrRenew(now = new Date()): Promise<boolean> {
    const { namespace, name, identity } = this.opts;
    let lease: V1Lease;
    try {
      lease = await this.api.readNamespacedLease({ name, namespace });
    } catch (e) {
      if (code(e) !== 404) throw e;
      try {
        await this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: this.durationS,
              acquireTime: new V1MicroTime(now.getTime()),
              renewTime: new V1MicroTime(now.getTime()),
              leaseTransitions: 0,
            },
          },
        });
        return true;
      } catch (e2) {
        if (code(e2) === 409) return false; // someone else created it first
        throw e2;
      }
    }
    const spec = lease.spec ?? {};
    // client-node hands MicroTime fields back as strings despite their Date type.
    const record = `${spec.holderIdentity ?? ''}|${String(spec.renewTime ?? '')}`;
    if (record !== this.observed) {
      this.observed = record;
      this.observedAt = now.getTime();
    }
    const mine = spec.holderIdentity === identity;
    const free =
      !spec.holderIdentity ||
      now.getTime() - this.observedAt > (spec.leaseDurationSeconds ?? this.durationS) * 1000;
    if (!mine && !free) return false;
    const next: V1Lease = {
      ...lease,
      spec: {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: this.durationS,
        renewTime: new V1MicroTime(now.getTime()),
        acquireTime:
          mine && spec.acquireTime
            ? new V1MicroTime(new Date(spec.acquireTime as unknown as string).getTime())
            : new V1MicroTime(now.getTime()),
        leaseTransitions: (spec.leaseTransitions ?? 0) + (mine ? 0 : 1),
      },
    };
    try {
      await this.api.replaceNamespacedLease({ name, namespace, body: next });
    } catch (e) {
      if (code(e) === 409) return false; // lost a race: judged again next time
      throw e;
    }
    return true;
  }

  /** Resolves once this instance leads; then renews until stop() or until it loses the Lease. */
  async run(onLost: () => void): Promise<void> {
    const retry = this.opts.retryPeriodMs ?? 2000;
    while (!this.stopped) {
      const ok = await this.tryAcquireOrRenew().catch((e) => {
        this.log.warn({ err: String((e as Error).message ?? e) }, 'lease: acquire failed');
        return false;
      });
      if (ok) break;
      await new Promise((r) => setTimeout(r, retry));
    }
    if (this.stopped) return;
    this.leading = true;
    this.log.info(
      { lease: `${this.opts.namespace}/${this.opts.name}`, identity: this.opts.identity },
      'lease acquired: leading',
    );
    let lastRenew = Date.now();
    const deadline = this.opts.renewDeadlineMs ?? 10_000;
    const renew = async () => {
      if (this.stopped) return;
      const ok = await this.tryAcquireOrRenew().catch((e) => {
        this.log.warn({ err: String((e as Error).message ?? e) }, 'lease: renew failed');
        return false;
      });
      if (ok) lastRenew = Date.now();
      else if (Date.now() - lastRenew > deadline) {
        this.leading = false;
        this.log.error('lease: could not renew within the deadline; stepping down');
        onLost();
        return;
      }
      this.timer = setTimeout(renew, retry);
    };
    this.timer = setTimeout(renew, retry);
  }

  /** Stops renewing and hands the Lease back (the next candidate need not wait it out). */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    const { namespace, name, identity } = this.opts;
    try {
      const lease = await this.api.readNamespacedLease({ name, namespace });
      if (lease.spec?.holderIdentity !== identity) return;
      await this.api.replaceNamespacedLease({
        name,
        namespace,
        body: { ...lease, spec: { ...lease.spec, holderIdentity: undefined, leaseDurationSeconds: 1 } },
      });
    } catch {
      // It expires on its own.
    }
  }
}
