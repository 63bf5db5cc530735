import type { Matrix, Probe } from './case.js';
import { PODS } from './layout.js';

/** FORMAT.md section 5: up to 3 tries of at most 2 s per cell; reachable if any try succeeds. */
export const TRIES = 3;
export const TRY_TIMEOUT_MS = 2000;

export interface Prober {
  probe(
    protocol: Probe['protocol'],
    address: string,
    port: number | undefined,
    timeoutMs: number,
  ): Promise<boolean>;
}

export async function probeCell(
  from: Prober,
  address: string,
  p: Pick<Probe, 'protocol' | 'port'>,
): Promise<boolean> {
  for (let i = 0; i < TRIES; i++)
    if (await from.probe(p.protocol, address, p.port, TRY_TIMEOUT_MS)) return true;
  return false;
}

/** All 81 cells of one probe, in parallel (each agent probes its row concurrently). */
export async function probeMatrix(
  agents: ReadonlyMap<string, Prober>,
  ips: ReadonlyMap<string, string>,
  p: Pick<Probe, 'protocol' | 'port'>,
): Promise<Matrix> {
  const m: Matrix = Object.fromEntries(PODS.map((from) => [from, {}]));
  await Promise.all(
    PODS.flatMap((from) =>
      PODS.map(async (to) => {
        m[from]![to] = await probeCell(agents.get(from)!, ips.get(to)!, p);
      }),
    ),
  );
  // Rows and columns in layout order, whatever order the probes finished in.
  return Object.fromEntries(
    PODS.map((from) => [from, Object.fromEntries(PODS.map((to) => [to, m[from]![to]!]))]),
  );
}
