import type { WorkloadEndpoint } from '@tricolor/datastore';

/**
 * This node's WorkloadEndpoints, by datastore key, with a history of which keys changed:
 * the calculation asks "what changed since position N" and touches only those endpoints,
 * so one new pod costs the same with 10 or 10,000 on the node (and nothing for pods on
 * other nodes). Fed by the syncer's watch; pure (no datastore in here).
 */
export class EndpointIndex {
  private readonly byKey = new Map<string, WorkloadEndpoint>();
  /** Keys changed, in order; `log[i]` is the change at position `base + i + 1`. */
  private log: string[] = [];
  private base = 0;

  /**
   * @param nodeName only endpoints of this node are kept (one that moves away is a deletion)
   * @param maxLog history kept; a reader further behind gets `undefined` and recomputes all
   */
  constructor(
    readonly nodeName: string,
    private readonly maxLog = 100_000,
  ) {}

  /** Position after the latest change. */
  get seq(): number {
    return this.base + this.log.length;
  }

  get size(): number {
    return this.byKey.size;
  }

  get(key: string): WorkloadEndpoint | undefined {
    return this.byKey.get(key);
  }

  entries(): IterableIterator<[string, WorkloadEndpoint]> {
    return this.byKey.entries();
  }

  /** Records the endpoint now stored under `key` (undefined: deleted). */
  set(key: string, ep: WorkloadEndpoint | undefined): void {
    const local = ep && ep.spec.node === this.nodeName ? ep : undefined;
    const cur = this.byKey.get(key);
    if (cur === local) return;
    if (local) this.byKey.set(key, local);
    else this.byKey.delete(key);
    if (this.log.length >= this.maxLog) {
      this.base += this.log.length;
      this.log = [];
    }
    this.log.push(key);
  }

  /** Keys changed after position `seq` (repeats possible), or undefined when that history is gone. */
  changesSince(seq: number): string[] | undefined {
    if (seq < this.base || seq > this.seq) return undefined;
    return this.log.slice(seq - this.base);
  }
}

/** Where the calculation takes endpoints from: a plain list, or an index with its history. */
export type EndpointInput = Iterable<WorkloadEndpoint> | EndpointIndex;

export const isEndpointIndex = (x: EndpointInput): x is EndpointIndex => x instanceof EndpointIndex;
