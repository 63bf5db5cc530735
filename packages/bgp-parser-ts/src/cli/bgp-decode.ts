#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import type { DecodeContext } from '../context.js';
import { BgpDecodeError } from '../errors.js';
import { errorToJson, messageToJson } from '../json.js';
import { decodeMessage } from '../messages/index.js';
import { fromHex } from '../writer.js';
import { parseArgs, USAGE } from './options.js';

/** Decodes one input line into its JSON output line. */
export function decodeLine(line: string, ctx: DecodeContext): string {
  let bytes: Uint8Array;
  try {
    bytes = fromHex(line);
  } catch {
    return JSON.stringify({ error: { code: 0, subcode: 0, message: 'input is not hex' } });
  }
  try {
    return JSON.stringify(messageToJson(decodeMessage(bytes, ctx), bytes.length, ctx));
  } catch (e) {
    if (e instanceof BgpDecodeError) return JSON.stringify(errorToJson(e));
    throw e;
  }
}

function main(): number {
  const args = parseArgs(process.argv.slice(2));
  if (typeof args === 'string') {
    if (args === USAGE) {
      process.stdout.write(`${USAGE}\n`);
      return 0;
    }
    process.stderr.write(`${args}\n`);
    return 2;
  }
  let input: string;
  try {
    input = readFileSync(args.file ?? 0, 'utf8');
  } catch (e) {
    process.stderr.write(`bgp-decode: cannot read ${args.file ?? 'stdin'}: ${(e as Error).message}\n`);
    return 1;
  }
  const out: string[] = [];
  for (const line of input.split(/\r?\n/)) {
    if (line.replace(/[\s:]/g, '') === '') continue;
    out.push(decodeLine(line, args.ctx));
  }
  process.stdout.write(out.length ? `${out.join('\n')}\n` : '');
  return 0;
}

process.exitCode = main();
