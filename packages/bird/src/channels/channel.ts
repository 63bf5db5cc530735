/**
 * A consumer of the Loc-RIB, as BIRD's channels connect protocols to tables: the decision
 * process (rib/loc-rib.ts) tells every channel which prefixes changed and what their best
 * paths are now; each channel keeps its own state and writes it out at the end of a batch.
 * Implemented by each peer's Adj-RIB-Out (peer-channel.ts) and by the kernel exporter
 * (kernel-channel.ts); the speaker only feeds them.
 */
import type { PathRef } from '../rib/loc-rib.js';

export interface Channel {
  readonly name: string;
  /**
   * The best paths of an IPv4 prefix changed (empty: no route any more). `id` is the
   * prefix's id in the Loc-RIB (LocRib.idOfV4), the one it had for a removed prefix.
   */
  updateV4(addr: number, len: number, paths: readonly PathRef[], id: number): void;
  /** The same for an IPv6 prefix or an add-path IPv4 one, as text. */
  updateOther(prefix: string, paths: readonly PathRef[]): void;
  /** The end of a batch: send or write what changed. */
  flush(): void;
}
