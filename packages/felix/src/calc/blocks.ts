import { ownsBlock } from '@tricolor/contract';
import { canonicalCidr, parseCidr } from '@tricolor/datastore';
import { routeKey } from '../dataplane/items.js';
import type { CalcGraph, Calculator } from './graph.js';
import { type Outputs, src } from './outputs.js';

/**
 * This node's IPAM blocks (its confirmed affinities, DESIGN.md "Who owns which kernel
 * routes"): a blackhole per block, so unused addresses of the block never follow the
 * default route out of the node.
 */
export class BlockCalculator implements Calculator {
  /** Affinity key → the block's route key, for the blocks this node owns. */
  private readonly owned = new Map<string, { key: string; dst: string }>();

  constructor(
    private readonly nodeName: string,
    private readonly out: Outputs,
  ) {}

  register(g: CalcGraph): void {
    g.on('affinity', (key, a) => {
      const block = a && a.node === this.nodeName && ownsBlock(a) ? canonicalCidr(a.block) : undefined;
      const old = this.owned.get(key);
      if (old?.dst === block) return;
      if (old) {
        this.out.routes.remove(old.key, src.block(key));
        this.owned.delete(key);
      }
      if (!block) return;
      const family = parseCidr(block)!.family;
      const rk = routeKey({ family, dst: block });
      this.owned.set(key, { key: rk, dst: block });
      this.out.routes.put(
        rk,
        src.block(key),
        Object.freeze({ family, dst: block, type: 'blackhole' as const }),
      );
    });
  }

  /** The blocks this node owns, sorted. */
  get ownedBlocks(): string[] {
    return [...new Set([...this.owned.values()].map((b) => b.dst))].sort();
  }
}
