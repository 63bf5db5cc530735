import { ApiError } from './store.js';

/** RFC 7386 JSON merge patch: objects merge, null deletes, anything else replaces. */
export function mergePatch(target: unknown, patch: unknown): unknown {
  if (patch === null || typeof patch !== 'object' || Array.isArray(patch)) return patch;
  const out: Record<string, unknown> =
    target !== null && typeof target === 'object' && !Array.isArray(target)
      ? { ...(target as Record<string, unknown>) }
      : {};
  for (const [k, v] of Object.entries(patch as Record<string, unknown>)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

interface JsonPatchOp {
  op: string;
  path: string;
  value?: unknown;
  from?: string;
}

function pointer(path: string): string[] {
  if (path === '') return [];
  if (!path.startsWith('/'))
    throw new ApiError(422, 'Invalid', `json patch: path ${JSON.stringify(path)} does not start with /`);
  return path
    .slice(1)
    .split('/')
    .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
}

/** RFC 6902 JSON patch (add, remove, replace, test, copy, move); a failed op fails the whole patch. */
export function jsonPatch(target: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops))
    throw new ApiError(400, 'BadRequest', 'json patch: the body must be a list of operations');
  let doc = structuredClone(target);
  const parentOf = (parts: string[]): [Record<string, unknown> | unknown[], string] => {
    let cur: unknown = doc;
    for (const p of parts.slice(0, -1)) {
      if (cur === null || typeof cur !== 'object')
        throw new ApiError(422, 'Invalid', `json patch: path /${parts.join('/')} does not exist`);
      cur = (cur as Record<string, unknown>)[p];
    }
    if (cur === null || typeof cur !== 'object')
      throw new ApiError(422, 'Invalid', `json patch: path /${parts.join('/')} does not exist`);
    return [cur as Record<string, unknown>, parts[parts.length - 1]!];
  };
  const read = (parts: string[]): unknown => {
    let cur: unknown = doc;
    for (const p of parts) {
      if (cur === null || typeof cur !== 'object' || !Object.hasOwn(cur, p))
        throw new ApiError(422, 'Invalid', `json patch: path /${parts.join('/')} does not exist`);
      cur = (cur as Record<string, unknown>)[p];
    }
    return cur;
  };
  const add = (parts: string[], value: unknown) => {
    if (parts.length === 0) {
      doc = value;
      return;
    }
    const [parent, last] = parentOf(parts);
    if (Array.isArray(parent)) {
      const i = last === '-' ? parent.length : Number(last);
      if (!Number.isInteger(i) || i < 0 || i > parent.length)
        throw new ApiError(422, 'Invalid', `json patch: index ${last} out of range`);
      parent.splice(i, 0, value);
    } else parent[last] = value;
  };
  const remove = (parts: string[]) => {
    read(parts);
    const [parent, last] = parentOf(parts);
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  };
  for (const raw of ops as JsonPatchOp[]) {
    const parts = pointer(raw.path);
    switch (raw.op) {
      case 'add':
        add(parts, structuredClone(raw.value));
        break;
      case 'remove':
        remove(parts);
        break;
      case 'replace':
        remove(parts);
        add(parts, structuredClone(raw.value));
        break;
      case 'test':
        if (JSON.stringify(read(parts)) !== JSON.stringify(raw.value))
          throw new ApiError(422, 'Invalid', `json patch: test of ${raw.path} failed`);
        break;
      case 'copy':
        add(parts, structuredClone(read(pointer(raw.from ?? ''))));
        break;
      case 'move': {
        const v = read(pointer(raw.from ?? ''));
        remove(pointer(raw.from ?? ''));
        add(parts, v);
        break;
      }
      default:
        throw new ApiError(400, 'BadRequest', `json patch: unknown op ${JSON.stringify(raw.op)}`);
    }
  }
  return doc;
}
