import type { Datastore } from '@tricolor/datastore';
import type { Logger } from 'pino';
import type { Metrics } from '../metrics.js';
import { WorkQueue } from '../queue.js';

export interface ControllerDeps {
  ds: Datastore;
  metrics: Metrics;
  log: Logger;
}

/** A level-based controller: events enqueue keys, `reconcile(key)` makes the datastore match. */
export abstract class Controller {
  abstract readonly name: string;
  protected readonly queue: WorkQueue;

  constructor(protected readonly deps: ControllerDeps) {
    this.queue = new WorkQueue(
      (key) => this.reconcile(key),
      (key, err, retryInMs) => {
        deps.metrics.reconcileErrors.inc({ controller: this.name });
        deps.log.warn(
          { controller: this.name, key, err: String((err as Error)?.message ?? err), retryInMs },
          'reconcile failed',
        );
      },
    );
  }

  protected abstract reconcile(key: string): Promise<void>;

  /** Starts watching (after the informers it uses have synced) and reconciles everything once. */
  abstract start(): Promise<void>;

  /** Enqueues every key the Kubernetes side knows and every orphan on the Tricolor side. */
  abstract resync(): Promise<void>;

  enqueue(key: string): void {
    this.queue.add(key);
  }

  /** Resolves when no reconciliation is queued or running. */
  idle(): Promise<void> {
    return this.queue.idle();
  }

  async stop(): Promise<void> {
    this.queue.stop();
  }

  protected wrote(op: 'create' | 'update' | 'delete'): void {
    this.deps.metrics.writes.inc({ controller: this.name, op });
  }
}
