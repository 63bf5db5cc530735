/** The probe protocol shared by the prober (in each pod) and the orchestrator. */
export const PROBE_PORT = 7777;
/** Every pod probes every other pod this often. */
export const PROBE_INTERVAL_MS = 100;
/** A probe without a reply within this time is lost. */
export const PROBE_TIMEOUT_MS = 1_000;

/** One line the prober writes to stdout. */
export type ProberEvent =
  | { ready: { at: number } }
  /** The peer list of version `ack` is in force (pending probes of removed peers dropped). */
  | { ack: number }
  | { established: { peer: string; at: number } }
  | { lost: { peer: string; seq: number; at: number } }
  | { stats: { sent: number; received: number; lost: number } };
