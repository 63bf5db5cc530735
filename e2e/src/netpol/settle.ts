/**
 * Waiting until a step's changes are in the dataplane (FORMAT.md section 5): every node's
 * felix reports on `GET /status` the datastore revision up to which everything is
 * programmed; the runner reads the datastore's revision after its writes and waits until
 * every node has reached it. It never looks at a case's expectations.
 *
 * `TRICOLOR_NETPOL_SETTLE_MS` replaces that with a fixed settle time (at most 10 s, as
 * FORMAT.md allows), for comparing against a product without the status report.
 */
export const MAX_SETTLE_MS = 10_000;
/** How long a node may take to report a revision before the run stops with a setup error. */
export const PROGRAMMED_TIMEOUT_MS = 30_000;

/** The fixed settle time if one is configured, else undefined (wait for felix's report). */
export function settleMs(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const v = env.TRICOLOR_NETPOL_SETTLE_MS;
  if (v === undefined || v === '') return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > MAX_SETTLE_MS)
    throw new Error(
      `TRICOLOR_NETPOL_SETTLE_MS: ${JSON.stringify(v)} is not a whole number of milliseconds 0-${MAX_SETTLE_MS}`,
    );
  return n;
}

/** felix's `/status` as one node reports it (undefined: no answer). */
export interface NodeStatus {
  ready: boolean;
  revision: string;
}

export interface StatusSource {
  name: string;
  status(): Promise<NodeStatus | undefined>;
}

/** A node's status body, checked: a revision as a decimal string. */
export function parseStatus(body: string): NodeStatus | undefined {
  try {
    const v = JSON.parse(body) as Partial<NodeStatus>;
    if (typeof v.ready !== 'boolean' || typeof v.revision !== 'string' || !/^\d+$/.test(v.revision))
      return undefined;
    return { ready: v.ready, revision: v.revision };
  } catch {
    return undefined;
  }
}

/** Nodes that have not programmed `revision` yet, with what they report. */
export function lagging(revision: string, reports: [string, NodeStatus | undefined][]): string[] {
  const want = BigInt(revision);
  return reports
    .filter(([, s]) => !(s?.ready && BigInt(s.revision) >= want))
    .map(([n, s]) => `${n} (${s ? `ready ${s.ready}, revision ${s.revision}` : 'no status'})`);
}

/**
 * Resolves once every node reports having programmed datastore revision `revision`;
 * rejects naming the nodes behind after `timeoutMs`.
 */
export async function waitUntilProgrammed(
  revision: string,
  nodes: readonly StatusSource[],
  timeoutMs = PROGRAMMED_TIMEOUT_MS,
  pollMs = 50,
): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  for (;;) {
    const reports = await Promise.all(
      nodes.map(async (n): Promise<[string, NodeStatus | undefined]> => [n.name, await n.status()]),
    );
    const behind = lagging(revision, reports);
    if (behind.length === 0) return;
    if (performance.now() > deadline)
      throw new Error(
        `felix did not report datastore revision ${revision} programmed within ${timeoutMs / 1000} s: ${behind.join(', ')}`,
      );
    await new Promise((r) => setTimeout(r, pollMs));
  }
}
