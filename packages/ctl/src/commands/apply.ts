import {
  AlreadyExistsError,
  type AnyResource,
  type Datastore,
  type IPPool,
  NotFoundError,
} from '@tricolor/datastore';
import { checkPoolOverlap } from '@tricolor/ipam';
import { atMostPositionals, intFlag, parse, sizeFlag, UsageError } from '../args.js';
import type { Ctx } from '../context.js';
import { DEFAULT_LIMITS, formatBytes, type InputLimits } from '../input.js';
import { refOf } from '../kinds.js';
import { CommandError, EXIT } from '../output.js';
import { DEFAULT_MAX_ERRORS, readResources } from '../resources.js';

/** `-f` and its limits: apply, create, replace and delete -f read input the same way. */
export const INPUT_OPTIONS = {
  filename: { type: 'string', short: 'f' },
  'max-input-bytes': { type: 'string' },
  'max-documents': { type: 'string' },
  'max-errors': { type: 'string' },
} as const;

const WRITE_OPTIONS = { ...INPUT_OPTIONS, 'dry-run': { type: 'boolean' } } as const;

export const INPUT_USAGE = `[--max-input-bytes ${formatBytes(DEFAULT_LIMITS.maxBytes).replace(' MiB', 'Mi')}] [--max-documents ${DEFAULT_LIMITS.maxDocuments}] [--max-errors ${DEFAULT_MAX_ERRORS}]`;

export function inputLimits(values: {
  'max-input-bytes'?: string;
  'max-documents'?: string;
  'max-errors'?: string;
}): { limits: InputLimits; maxErrors: number } {
  return {
    limits: {
      maxBytes: sizeFlag('max-input-bytes', values['max-input-bytes']) ?? DEFAULT_LIMITS.maxBytes,
      maxDocuments: intFlag('max-documents', values['max-documents'], 1) ?? DEFAULT_LIMITS.maxDocuments,
    },
    maxErrors: intFlag('max-errors', values['max-errors'], 1) ?? DEFAULT_MAX_ERRORS,
  };
}

/** Reads and validates `-f` for a command that takes nothing else. */
async function readFileFlag(ctx: Ctx, options: typeof WRITE_OPTIONS | typeof CREATE_OPTIONS) {
  const { values, positionals } = parse(ctx.command, ctx.args, options);
  if (!values.filename) throw new UsageError(`${ctx.command}: -f <file|-> is required`);
  atMostPositionals(ctx.command, positionals, 0);
  const { limits, maxErrors } = inputLimits(values);
  const resources = await readResources(ctx, values.filename, limits, maxErrors);
  return { values, resources };
}

/** Reads the stored copies of the batch, a few at a time (one etcd round trip each). */
async function storedCopies(ds: Datastore, resources: AnyResource[]): Promise<(AnyResource | undefined)[]> {
  const out: (AnyResource | undefined)[] = [];
  for (let i = 0; i < resources.length; i += 32) {
    const chunk = resources.slice(i, i + 32);
    out.push(...(await Promise.all(chunk.map((r) => ds.get(r.kind, r.metadata.name, r.metadata.namespace)))));
  }
  return out;
}

/** Every pool of the batch must fit with the stored pools and with the others of the batch. */
async function checkPools(ds: Datastore, resources: AnyResource[]): Promise<void> {
  const pools = resources.filter((r): r is IPPool => r.kind === 'IPPool');
  if (pools.length === 0) return;
  const known: IPPool[] = (await ds.list('IPPool')).items;
  for (const p of pools) {
    const problem = checkPoolOverlap(known, p);
    if (problem) throw new UsageError(problem);
    known.splice(0, known.length, ...known.filter((k) => k.metadata.name !== p.metadata.name), p);
  }
}

type Mode = 'apply' | 'create' | 'replace';

/**
 * apply (create or update), create (each must be new) and replace (each must exist): every
 * document is validated, and for create/replace checked against what is stored, before the
 * first write.
 */
async function write(ctx: Ctx, mode: Mode, options: typeof WRITE_OPTIONS | typeof CREATE_OPTIONS) {
  const { values, resources } = await readFileFlag(ctx, options);
  const skipExists = (values as { 'skip-exists'?: boolean })['skip-exists'] === true;
  const dryRun = values['dry-run'] === true;
  const ds = await ctx.store();
  const stored = await storedCopies(ds, resources);
  if (mode === 'create' && !skipExists) {
    const taken = resources.filter((_, i) => stored[i]).map(refOf);
    if (taken.length > 0)
      throw new CommandError(
        `${taken.map((r) => `${r} already exists`).join('\n')}\n(nothing was written; apply or replace updates, --skip-exists skips them)`,
        EXIT.CONFLICT,
      );
  }
  if (mode === 'replace') {
    const missing = resources.filter((_, i) => !stored[i]).map(refOf);
    if (missing.length > 0)
      throw new CommandError(
        `${missing.map((r) => `${r} not found`).join('\n')}\n(nothing was written; create or apply makes new resources)`,
        EXIT.NOT_FOUND,
      );
  }
  await checkPools(ds, resources);
  const suffix = dryRun ? ' (dry run)' : '';
  for (const [i, r] of resources.entries()) {
    const cur = stored[i];
    const ref = refOf(r);
    if (mode === 'create' && cur) {
      ctx.out(`${ref} skipped (exists)\n`);
      continue;
    }
    if (!dryRun) {
      if (mode === 'apply') await ds.apply(r);
      else if (mode === 'create') await ds.create(r).catch(rethrowAs(ref));
      else {
        // A resourceVersion in the file makes it compare-and-swap against that version;
        // otherwise against the copy read above (conflict if someone wrote in between).
        const { creationTimestamp } = cur!.metadata;
        const next = {
          ...r,
          metadata: {
            ...(creationTimestamp ? { creationTimestamp } : {}),
            ...r.metadata,
            resourceVersion: r.metadata.resourceVersion ?? cur!.metadata.resourceVersion,
          },
        } as AnyResource;
        await ds.update(next).catch(rethrowAs(ref));
      }
    }
    const verb = mode === 'replace' ? 'replaced' : mode === 'create' || !cur ? 'created' : 'configured';
    ctx.out(`${ref} ${verb}${suffix}\n`);
  }
  return EXIT.OK;
}

function rethrowAs(ref: string) {
  return (e: unknown): never => {
    if (e instanceof AlreadyExistsError) throw new CommandError(`${ref} already exists`, EXIT.CONFLICT);
    if (e instanceof NotFoundError) throw new CommandError(`${ref} not found`, EXIT.NOT_FOUND);
    throw e;
  };
}

const CREATE_OPTIONS = { ...WRITE_OPTIONS, 'skip-exists': { type: 'boolean' } } as const;

export const applyCommand = {
  usage: [`apply -f <file|-> [--dry-run] ${INPUT_USAGE}   create or update`],
  options: WRITE_OPTIONS,
  run: (ctx: Ctx) => write(ctx, 'apply', WRITE_OPTIONS),
};

export const createCommand = {
  usage: ['create -f <file|-> [--skip-exists] [--dry-run] [limits as apply]   error if any exists'],
  options: CREATE_OPTIONS,
  run: (ctx: Ctx) => write(ctx, 'create', CREATE_OPTIONS),
};

export const replaceCommand = {
  usage: ['replace -f <file|-> [--dry-run] [limits as apply]   error if any is missing'],
  options: WRITE_OPTIONS,
  run: (ctx: Ctx) => write(ctx, 'replace', WRITE_OPTIONS),
};
