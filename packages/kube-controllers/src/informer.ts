/**
 * A client-node informer with a watchdog. client-node's ListWatch handles a 410 (re-list) and
 * its own inactivity timeout, but any other failure — a watch closed abruptly ("terminated",
 * "Premature close"), a failed list, a 500 — is reported once through 'error' and the
 * informer stays stopped. The watchdog starts it again with exponential backoff (it resumes
 * from its last resourceVersion; a 410 then makes it re-list), asks for BOOKMARKs so quiet
 * resources keep a fresh resourceVersion, pages its lists, and counts lists and restarts.
 */
import {
  type KubeConfig,
  type KubernetesListObject,
  type KubernetesObject,
  ListWatch,
  Watch,
} from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { Metrics } from './metrics.js';

/** A Watch that asks the API server for BOOKMARK events (client-node's informer does not). */
class BookmarkWatch extends Watch {
  override watch(
    path: string,
    queryParams: Record<string, string | number | boolean | undefined>,
    callback: (phase: string, apiObj: unknown, watchObj?: unknown) => void,
    done: (err: unknown) => void,
  ): Promise<AbortController> {
    return super.watch(path, { ...queryParams, allowWatchBookmarks: true }, callback, done);
  }
}

export type ListPage<T extends KubernetesObject> = (opts: {
  limit: number;
  _continue?: string;
}) => Promise<KubernetesListObject<T>>;

export interface InformerOptions {
  /** Page size of lists (default 500). */
  pageSize?: number;
  /** Restart backoff: first and longest delay (default 1 s and 30 s). */
  backoffMs?: [number, number];
}

const isExpired = (e: unknown) => (e as { code?: number })?.code === 410;

export class WatchedInformer<T extends KubernetesObject> {
  private readonly lw: ListWatch<T>;
  private stopping = false;
  private restartTimer: NodeJS.Timeout | undefined;
  private delayMs: number;
  private listed = false;
  private firstSync: Promise<void>;
  private resolveFirstSync!: () => void;
  /** False from a reported failure until the next successful list or event. */
  healthy = false;
  lastError: string | undefined;

  constructor(
    kc: KubeConfig,
    readonly resource: string,
    path: string,
    listPage: ListPage<T>,
    private readonly metrics: Metrics,
    private readonly log: Logger,
    private readonly opts: InformerOptions = {},
  ) {
    this.delayMs = opts.backoffMs?.[0] ?? 1000;
    this.firstSync = new Promise((r) => (this.resolveFirstSync = r));
    const list = async (): Promise<KubernetesListObject<T>> => {
      this.metrics.informerLists.inc({ resource });
      const items: T[] = [];
      let first: KubernetesListObject<T> | undefined;
      let cont: string | undefined;
      for (;;) {
        let page: KubernetesListObject<T>;
        try {
          page = await listPage({ limit: opts.pageSize ?? 500, ...(cont ? { _continue: cont } : {}) });
        } catch (e) {
          // A continue token outlived the API server's history: list again from the start.
          if (cont && isExpired(e)) {
            items.length = 0;
            cont = undefined;
            first = undefined;
            continue;
          }
          throw e;
        }
        first ??= page;
        items.push(...page.items);
        cont = page.metadata?._continue || undefined;
        if (!cont) break;
      }
      this.markHealthy();
      if (!this.listed) {
        this.listed = true;
        // ListWatch stores the items right after this resolves.
        setImmediate(() => this.resolveFirstSync());
      }
      return { ...first!, items, metadata: { ...first!.metadata, _continue: undefined } };
    };
    this.lw = new ListWatch<T>(path, new BookmarkWatch(kc), list, false);
    this.lw.on('error', (err) => this.failed(err));
    for (const verb of ['add', 'update', 'delete'] as const) this.lw.on(verb, () => this.markHealthy());
  }

  private markHealthy(): void {
    this.healthy = true;
    this.lastError = undefined;
    this.delayMs = this.opts.backoffMs?.[0] ?? 1000;
  }

  private failed(err: unknown): void {
    if (this.stopping) return; // stop() aborts the watch, which the informer reports as an error
    this.healthy = false;
    this.lastError = String((err as Error)?.message ?? err);
    const delay = this.delayMs;
    this.delayMs = Math.min(delay * 2, this.opts.backoffMs?.[1] ?? 30_000);
    this.log.warn(
      { resource: this.resource, err: this.lastError, restartInMs: delay },
      'informer stopped; restarting',
    );
    clearTimeout(this.restartTimer);
    this.restartTimer = setTimeout(() => {
      if (this.stopping) return;
      this.metrics.informerRestarts.inc({ resource: this.resource });
      void this.lw.start();
    }, delay);
  }

  on(verb: 'add' | 'update' | 'delete', cb: (obj: T) => void): void {
    this.lw.on(verb, cb);
  }

  get(name: string, namespace?: string): T | undefined {
    return this.lw.get(name, namespace);
  }

  list(namespace?: string): T[] {
    return [...this.lw.list(namespace)];
  }

  get synced(): boolean {
    return this.listed;
  }

  /** Starts and resolves after the first complete list (retrying through failures). */
  async start(): Promise<void> {
    this.stopping = false;
    await this.lw.start();
    await this.firstSync;
  }

  async stop(): Promise<void> {
    this.stopping = true;
    clearTimeout(this.restartTimer);
    await this.lw.stop();
  }
}
