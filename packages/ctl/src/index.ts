export { type GlobalFlags, splitGlobals, UsageError } from './args.js';
export { COMMANDS, type Command } from './commands/index.js';
export { helpText, type Io, run } from './main.js';
export { EXIT, exitCodeOf } from './output.js';
