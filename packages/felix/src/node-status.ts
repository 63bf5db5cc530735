import { ConflictError, type Datastore, felixStatusKey, type Node, NotFoundError } from '@tricolor/datastore';
import { ipJson } from '@tricolor/linux';
import { ExponentialBackoff, handleAll, retry } from 'cockatiel';
import type { Logger } from 'pino';

interface IpAddr {
  ifname: string;
  addr_info?: { family: string; local: string; prefixlen: number; scope?: string }[];
}

/** First global IPv4 address on an interface that is not a workload, tunnel or loopback one. */
export async function autodetectIPv4(excludePrefixes: string[]): Promise<string | undefined> {
  const rows = await ipJson<IpAddr>(['-4', 'addr', 'show', 'scope', 'global']);
  for (const r of rows) {
    if (r.ifname === 'lo' || excludePrefixes.some((p) => r.ifname.startsWith(p))) continue;
    const a = r.addr_info?.find((x) => x.family === 'inet');
    if (a) return `${a.local}/${a.prefixlen}`;
  }
  return undefined;
}

/**
 * Read-modify-write of this node's Node resource with compare-and-swap: `mutate` changes
 * only felix's fields, so labels, asNumber, routeReflectorClusterID and anything else an
 * operator set survive. Creates the Node when it does not exist.
 */
export async function updateNode(ds: Datastore, name: string, mutate: (n: Node) => boolean): Promise<Node> {
  for (let attempt = 0; ; attempt++) {
    const cur = await ds.get('Node', name);
    const node: Node = cur ?? { kind: 'Node', apiVersion: 'tricolor.dev/v1', metadata: { name }, spec: {} };
    const copy = structuredClone(node);
    if (!mutate(copy) && cur) return cur;
    try {
      return cur ? await ds.update(copy) : await ds.create(copy);
    } catch (e) {
      if (
        attempt > 10 ||
        !(
          e instanceof ConflictError ||
          e instanceof NotFoundError ||
          (e as Error).name === 'AlreadyExistsError'
        )
      )
        throw e;
    }
  }
}

export function setBgpAddress(n: Node, ipv4Address: string): boolean {
  if (n.spec.bgp?.ipv4Address === ipv4Address) return false;
  n.spec.bgp = { ...(n.spec.bgp ?? {}), ipv4Address };
  return true;
}

/**
 * Whether a periodic status report is due after a converge: the first at once, later ones once
 * `intervalMs` has passed since the last (never with 0, Calico's "reporting off").
 */
export function statusReportDue(lastAt: number, now: number, intervalMs: number): boolean {
  if (intervalMs <= 0) return false;
  return !lastAt || now - lastAt >= intervalMs;
}

/** Readiness on the Node (`status.felix.ready`); false when it already says so. */
export function setFelixReady(n: Node, ready: boolean): boolean {
  if (n.status?.felix?.ready === ready) return false;
  n.status = { ...(n.status ?? {}), felix: { ...(n.status?.felix ?? {}), ready } };
  return true;
}

/** What felix writes at `felixStatusKey` (Calico's status report, plus what felix knows of its state). */
export interface FelixStatusReport {
  /** When the report was written. */
  time: string;
  uptimeSeconds: number;
  ready: boolean;
  /** The end of the last complete converge. */
  lastConvergedAt?: string;
}

/** Writes the report at this node's status key (only this node's felix writes it). */
export async function writeStatusReport(
  ds: Datastore,
  node: string,
  report: FelixStatusReport,
): Promise<void> {
  const key = felixStatusKey(ds.prefix, node);
  const value = JSON.stringify(report);
  for (let attempt = 0; attempt < 5; attempt++) {
    const cur = await ds.kv.get(key);
    if (cur ? await ds.kv.update(key, value, cur.modRevision) : await ds.kv.create(key, value)) return;
  }
  throw new Error(`status report ${key}: the key kept changing under us`);
}

/**
 * A datastore write felix cannot go on without (this node's address at start), tried until it
 * succeeds: an etcd that is slow or away while the node starts ("request timed out" under load)
 * delays felix instead of ending it. Backoff from `initialDelayMs` to 5 s; `signal` stops it.
 */
export function writeUntilDone<T>(
  what: string,
  write: () => Promise<T>,
  o: { log: Logger; signal?: AbortSignal; initialDelayMs?: number },
): Promise<T> {
  const policy = retry(handleAll, {
    backoff: new ExponentialBackoff({ initialDelay: o.initialDelayMs ?? 200, maxDelay: 5_000 }),
  });
  policy.onRetry((r) =>
    o.log.warn(
      { err: 'error' in r ? r.error.message : undefined, retryInMs: Math.round(r.delay) },
      `cannot write ${what}; retrying`,
    ),
  );
  return policy.execute(() => write(), o.signal);
}
