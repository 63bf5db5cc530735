import { open } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { Composer, LineCounter, Parser } from 'yaml';
import { UsageError } from './args.js';

/**
 * How much `-f` input a command takes. Both limits hold before anything is parsed into
 * objects: the bytes while reading (a larger file fails before its first byte is read, a
 * larger stdin after `maxBytes`), the documents while the YAML is composed one document
 * at a time. Memory is therefore bounded by the limits, not by the input.
 */
export interface InputLimits {
  maxBytes: number;
  maxDocuments: number;
}

export const DEFAULT_LIMITS: InputLimits = { maxBytes: 4 * 1024 * 1024, maxDocuments: 2000 };

export function formatBytes(n: number): string {
  if (n >= 1024 * 1024) return `${+(n / 1024 / 1024).toFixed(1)} MiB`;
  if (n >= 1024) return `${+(n / 1024).toFixed(1)} KiB`;
  return `${n} bytes`;
}

const tooLarge = (what: string, size: number | undefined, limit: number) =>
  new UsageError(
    `${what}: ${size === undefined ? 'the input goes on past' : `${formatBytes(size)} is over`} the input limit ` +
      `of ${formatBytes(limit)}${size === undefined ? ' (stopped reading there)' : ' (nothing was read)'}; ` +
      '--max-input-bytes raises it, or split the input',
  );

/** Reads a stream up to `maxBytes`; one byte more and it stops reading and throws. */
export async function readCapped(stream: Readable, maxBytes: number, what: string): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let total = 0;
  try {
    for await (const chunk of stream) {
      const b = typeof chunk === 'string' ? Buffer.from(chunk) : (chunk as Buffer);
      total += b.length;
      if (total > maxBytes) throw tooLarge(what, undefined, maxBytes);
      chunks.push(b);
    }
  } finally {
    // Stop the producer: nothing more is read once the limit is passed.
    stream.destroy();
  }
  return Buffer.concat(chunks, total);
}

/** Reads a file or `-` (stdin) as UTF-8 text within `maxBytes`. */
export async function readInput(file: string, stdin: Readable, maxBytes: number): Promise<string> {
  if (file === '-') return (await readCapped(stdin, maxBytes, '-f -')).toString('utf8');
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(file, 'r');
    const st = await handle.stat();
    if (st.isDirectory()) throw new UsageError(`-f: ${file} is a directory`);
    // A regular file's size is known: refuse it before reading a byte.
    if (st.isFile() && st.size > maxBytes) throw tooLarge(`-f ${file}`, st.size, maxBytes);
    return (await readCapped(handle.createReadStream({ autoClose: false }), maxBytes, `-f ${file}`)).toString(
      'utf8',
    );
  } catch (e) {
    if (e instanceof UsageError) throw e;
    throw new UsageError(`-f: cannot read ${file}: ${(e as Error).message}`);
  } finally {
    await handle?.close();
  }
}

/** One document of the input, flattened out of arrays and `kind: List`. */
export interface InputDocument {
  /** 1-based, counted after flattening: what error messages call "document N". */
  index: number;
  value: unknown;
}

function tooMany(file: string, limit: number): UsageError {
  return new UsageError(
    `${file}: more than ${limit} documents (the limit; --max-documents raises it, or split the file)`,
  );
}

/**
 * The documents of JSON (one value), or of a multi-document YAML stream composed one
 * document at a time; arrays and `kind: List` are flattened. Throws on a syntax error
 * (naming the document and line) and as soon as the document limit is passed.
 */
export function* documents(text: string, file: string, maxDocuments: number): Generator<InputDocument> {
  let index = 0;
  function* flatten(d: unknown): Generator<InputDocument> {
    if (d === null || d === undefined) return;
    if (Array.isArray(d)) {
      for (const x of d) yield* flatten(x);
    } else if ((d as { kind?: unknown }).kind === 'List' && Array.isArray((d as { items?: unknown }).items)) {
      for (const x of (d as { items: unknown[] }).items) yield* flatten(x);
    } else {
      if (++index > maxDocuments) throw tooMany(file, maxDocuments);
      yield { index, value: d };
    }
  }
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    let json: unknown;
    let isJson = true;
    try {
      json = JSON.parse(text);
    } catch {
      isJson = false; // not one JSON value: maybe several documents; YAML reads JSON too
    }
    if (isJson) {
      yield* flatten(json);
      return;
    }
  }
  const lines = new LineCounter();
  const composer = new Composer({ prettyErrors: false });
  let docNo = 0;
  for (const doc of composer.compose(new Parser(lines.addNewLine).parse(text))) {
    docNo++;
    const err = doc.errors[0];
    if (err) {
      const at = lines.linePos(err.pos[0]);
      throw new UsageError(
        `${file}: document ${index + 1} (line ${at.line}, column ${at.col}): ${err.message.split('\n')[0]}`,
      );
    }
    yield* flatten(doc.toJS({ maxAliasCount: 100 }));
    if (docNo > maxDocuments) throw tooMany(file, maxDocuments);
  }
}
