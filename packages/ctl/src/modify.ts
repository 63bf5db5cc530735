import {
  AlreadyExistsError,
  type AnyResource,
  ConflictError,
  type Datastore,
  KINDS,
  type Kind,
  ValidationError,
} from '@tricolor/datastore';
import { UsageError } from './args.js';
import { CommandError, EXIT } from './output.js';
import { formatIssues } from './resources.js';

/** Without resourceVersion: what two copies are compared by. */
function content(r: AnyResource): string {
  const { resourceVersion: _rv, ...metadata } = r.metadata;
  return JSON.stringify({ ...r, metadata });
}

/**
 * Read, change, validate, compare-and-swap; again from a fresh read when another writer won
 * (patch and label). `change` returns the new resource as plain data, or undefined for no
 * change; it may throw UsageError. A missing resource is exit 3; `create` makes one instead
 * when given. Returns whether anything was written.
 */
export async function modify(
  ds: Datastore,
  ref: string,
  target: { kind: Kind; name: string; namespace?: string },
  change: (current: AnyResource) => unknown,
  create?: () => unknown,
): Promise<{ written: boolean; created: boolean }> {
  for (let attempt = 0; ; attempt++) {
    const cur = await ds.get(target.kind, target.name, target.namespace);
    let next: unknown;
    if (!cur) {
      if (!create) throw new CommandError(`${ref} not found`, EXIT.NOT_FOUND);
      next = create();
    } else next = change(cur);
    if (next === undefined) return { written: false, created: false };
    let valid: AnyResource;
    try {
      valid = KINDS[target.kind].validate(next);
    } catch (e) {
      if (e instanceof ValidationError) throw new UsageError(formatIssues(ref, e.issues).join('\n'));
      throw e;
    }
    if (cur && content(valid) === content(cur)) return { written: false, created: false };
    // A resourceVersion the change set itself (a patch may) is compare-and-swap against that
    // version, without retry; otherwise against the copy just read.
    const rv = valid.metadata.resourceVersion;
    const explicit = !!cur && rv !== undefined && rv !== cur.metadata.resourceVersion;
    try {
      if (cur) {
        valid.metadata.resourceVersion ??= cur.metadata.resourceVersion;
        await ds.update(valid);
      } else await ds.create(valid);
      return { written: true, created: !cur };
    } catch (e) {
      // Someone else wrote in between: start again from what they wrote.
      if (e instanceof ConflictError && !explicit && attempt < 10) continue;
      if (e instanceof AlreadyExistsError && attempt < 10) continue;
      if (e instanceof ConflictError) throw new CommandError(`${ref}: ${e.message}`, EXIT.CONFLICT);
      throw e;
    }
  }
}
