import type { Ctx } from '../context.js';
import { apply, usage as applyUsage } from './apply.js';
import { del, usage as deleteUsage } from './delete.js';
import { get, usage as getUsage } from './get.js';
import { ipam, usage as ipamUsage } from './ipam.js';

export interface Command {
  run(ctx: Ctx): Promise<number>;
  usage: string[];
}

/**
 * The command table. New top-level commands (`node status`, `bgp status`) are one file in
 * commands/ and one line here.
 */
export const COMMANDS: Record<string, Command> = {
  apply: { run: apply, usage: [applyUsage] },
  get: { run: get, usage: [getUsage] },
  delete: { run: del, usage: [deleteUsage] },
  ipam: { run: ipam, usage: ipamUsage },
};
