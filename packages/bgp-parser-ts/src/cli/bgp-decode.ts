#!/usr/bin/env node
import { readFileSync } from 'node:fs';
import { parseAfiSafi } from '../constants.js';
import { afiSafiKey, createContext, type DecodeContext } from '../context.js';
import { BgpDecodeError } from '../errors.js';
import { errorToJson, messageToJson } from '../json.js';
import { decodeMessage } from '../messages/index.js';
import { fromHex } from '../writer.js';

const USAGE = `usage: bgp-decode [--two-octet-as] [--add-path <afi-safi,...|all>] [file]
Reads hex BGP messages, one per line (spaces and colons ignored), from the file or stdin,
and prints one JSON line per message.`;

export function parseArgs(argv: string[]): { ctx: DecodeContext; file?: string } | string {
  let fourOctetAs = true;
  const addPath = new Map<number, number>();
  let file: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--two-octet-as') fourOctetAs = false;
    else if (a === '--add-path') {
      const v = argv[++i];
      if (!v) return '--add-path needs a value';
      for (const name of v.split(',')) {
        if (name === 'all') {
          addPath.set(afiSafiKey(1, 1), 3);
          addPath.set(afiSafiKey(2, 1), 3);
          continue;
        }
        const fam = parseAfiSafi(name.trim());
        if (!fam) return `unknown address family ${name}`;
        addPath.set(afiSafiKey(fam[0], fam[1]), 3);
      }
    } else if (a === '-h' || a === '--help') return USAGE;
    else if (a.startsWith('-') && a !== '-') return `unknown option ${a}\n${USAGE}`;
    else file = a;
  }
  const ctx = createContext({ fourOctetAs, addPath, extendedMessage: true });
  return file === undefined || file === '-' ? { ctx } : { ctx, file };
}

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
    process.stderr.write(`${args}\n`);
    return args === USAGE ? 0 : 2;
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
