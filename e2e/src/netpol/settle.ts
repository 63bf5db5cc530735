/**
 * Waiting until a step's changes are in the dataplane. The node agents do not report yet what
 * they have programmed, so this is a fixed settle time (FORMAT.md section 5 allows at most
 * 10 s). THE place to switch to "every node agent reports in-sync with datastore revision R"
 * once felix reports it; it never looks at a case's expectations.
 */
export const DEFAULT_SETTLE_MS = 3000;
export const MAX_SETTLE_MS = 10_000;

export function settleMs(env: NodeJS.ProcessEnv = process.env): number {
  const v = env.TRICOLOR_NETPOL_SETTLE_MS;
  if (v === undefined || v === '') return DEFAULT_SETTLE_MS;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0 || n > MAX_SETTLE_MS)
    throw new Error(
      `TRICOLOR_NETPOL_SETTLE_MS: ${JSON.stringify(v)} is not a whole number of milliseconds 0-${MAX_SETTLE_MS}`,
    );
  return n;
}

/** Waits for the changes written at datastore revision `_revision` to take effect. */
export async function waitUntilProgrammed(_revision: string, ms: number): Promise<void> {
  await new Promise((r) => setTimeout(r, ms));
}
