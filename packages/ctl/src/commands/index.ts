import type { ParseArgsOptionsConfig } from 'node:util';
import type { Ctx } from '../context.js';
import { applyCommand, createCommand, replaceCommand } from './apply.js';
import { deleteCommand } from './delete.js';
import { getCommand } from './get.js';
import { IPAM_COMMANDS } from './ipam.js';
import { labelCommand } from './label.js';
import { nodeStatusCommand } from './node.js';
import { patchCommand } from './patch.js';
import { policyExplainCommand } from './policy.js';
import { versionCommand } from './version.js';

export interface Command {
  /** One line per form, after `tricolorctl `. */
  usage: string[];
  /** Every flag it takes: the command parses them strictly itself; main needs them to find the command words. */
  options: ParseArgsOptionsConfig;
  run(ctx: Ctx): Promise<number>;
}

/**
 * The command table, by command words. A new command is one file in commands/ and one line
 * here; words with a space (`ipam show`, `node status`) form groups.
 */
export const COMMANDS: Record<string, Command> = {
  get: getCommand,
  apply: applyCommand,
  create: createCommand,
  replace: replaceCommand,
  delete: deleteCommand,
  patch: patchCommand,
  label: labelCommand,
  'node status': nodeStatusCommand,
  'policy explain': policyExplainCommand,
  ...IPAM_COMMANDS,
  version: versionCommand,
};

/** First words that take a second one: `ipam`, `node`, `policy`. */
export const GROUPS: ReadonlySet<string> = new Set(
  Object.keys(COMMANDS)
    .filter((k) => k.includes(' '))
    .map((k) => k.split(' ')[0]!),
);

/** Every command's options together (the types agree across commands; a test checks it). */
export const ALL_OPTIONS: ParseArgsOptionsConfig = Object.assign(
  {},
  ...Object.values(COMMANDS).map((c) => c.options),
);
