export { type GlobalFlags, parse, splitCommandLine, UsageError } from './args.js';
export { COMMANDS, type Command } from './commands/index.js';
export type { Ctx, Io } from './context.js';
export { DEFAULT_LIMITS, documents, type InputLimits, readCapped, readInput } from './input.js';
export { KIND_NAMES, kindByCliName } from './kinds.js';
export { helpText, run } from './main.js';
export { mergePatch } from './merge-patch.js';
export { describeError, EXIT, exitCodeOf } from './output.js';
export { type InputConverter, registerInputKind, toResources } from './resources.js';
