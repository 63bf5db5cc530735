import { isPod, NAMESPACES, PODS } from './layout.js';

/** A conformance case file (FORMAT.md section 2), parsed and checked. */
export interface Case {
  name: string;
  source: string;
  requires: 'SCTP'[];
  note?: string;
  steps: Step[];
  /** Where it was read from, for messages. */
  file: string;
}

export interface Step {
  actions: Action[];
  probes: Probe[];
}

export type ProbeProtocol = 'TCP' | 'UDP' | 'SCTP' | 'ICMP';

export interface Probe {
  protocol: ProbeProtocol;
  /** 80 or 81; absent for ICMP. */
  port?: number;
  expect?: Matrix;
}

/** matrix[from][to] = reachable. */
export type Matrix = Record<string, Record<string, boolean>>;

export type Action =
  | { op: 'createPolicy'; policy: Record<string, unknown> }
  | { op: 'updatePolicy'; policy: Record<string, unknown> }
  | { op: 'deletePolicy'; namespace: string; name: string }
  | { op: 'setPodLabels'; pod: string; labels: Record<string, string> }
  | { op: 'setNamespaceLabels'; namespace: string; labels: Record<string, string> }
  | { op: 'applyResource'; resource: Record<string, unknown> }
  | { op: 'deleteResource'; kind: 'NetworkPolicy' | 'GlobalNetworkPolicy'; namespace?: string; name: string };

/** A bad case file: the runner exits 2 with this message. */
export class CaseError extends Error {
  override readonly name = 'CaseError';
}

const ACTION_FIELDS: Record<Action['op'], { required: string[]; optional?: string[] }> = {
  createPolicy: { required: ['policy'] },
  updatePolicy: { required: ['policy'] },
  deletePolicy: { required: ['namespace', 'name'] },
  setPodLabels: { required: ['pod', 'labels'] },
  setNamespaceLabels: { required: ['namespace', 'labels'] },
  applyResource: { required: ['resource'] },
  deleteResource: { required: ['kind', 'name'], optional: ['namespace'] },
};

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

class Checker {
  constructor(readonly file: string) {}

  fail(path: string, message: string): never {
    throw new CaseError(`${this.file}: ${path}: ${message}`);
  }

  object(
    v: unknown,
    path: string,
    fields: { required: string[]; optional?: string[] },
  ): Record<string, unknown> {
    if (!isObject(v)) this.fail(path, `must be an object, not ${JSON.stringify(v)}`);
    for (const k of fields.required) if (!(k in v)) this.fail(`${path}.${k}`, 'is required');
    const known = new Set([...fields.required, ...(fields.optional ?? [])]);
    for (const k of Object.keys(v)) if (!known.has(k)) this.fail(`${path}.${k}`, 'is not a known field');
    return v;
  }

  string(v: unknown, path: string): string {
    if (typeof v !== 'string' || v === '')
      this.fail(path, `must be a non-empty string, not ${JSON.stringify(v)}`);
    return v;
  }

  labels(v: unknown, path: string): Record<string, string> {
    if (!isObject(v)) this.fail(path, 'must be an object of label strings');
    for (const [k, val] of Object.entries(v))
      if (typeof val !== 'string') this.fail(`${path}.${k}`, `must be a string, not ${JSON.stringify(val)}`);
    return v as Record<string, string>;
  }

  array(v: unknown, path: string): unknown[] {
    if (!Array.isArray(v)) this.fail(path, 'must be a list');
    return v;
  }
}

function parseAction(c: Checker, raw: unknown, path: string): Action {
  if (!isObject(raw)) c.fail(path, 'must be an object');
  const op = raw.op;
  if (typeof op !== 'string' || !Object.hasOwn(ACTION_FIELDS, op))
    c.fail(`${path}.op`, `${JSON.stringify(op)} is not one of ${Object.keys(ACTION_FIELDS).join(', ')}`);
  const fields = ACTION_FIELDS[op as Action['op']];
  const a = c.object(raw, path, { required: ['op', ...fields.required], optional: fields.optional });
  switch (op) {
    case 'createPolicy':
    case 'updatePolicy': {
      const policy = c.object(a.policy, `${path}.policy`, {
        required: ['metadata'],
        optional: ['apiVersion', 'kind', 'spec', 'status'],
      });
      const md = policy.metadata;
      if (!isObject(md)) c.fail(`${path}.policy.metadata`, 'must be an object');
      c.string(md.namespace, `${path}.policy.metadata.namespace`);
      c.string(md.name, `${path}.policy.metadata.name`);
      return { op, policy };
    }
    case 'deletePolicy':
      return {
        op,
        namespace: c.string(a.namespace, `${path}.namespace`),
        name: c.string(a.name, `${path}.name`),
      };
    case 'setPodLabels': {
      const pod = c.string(a.pod, `${path}.pod`);
      if (!isPod(pod))
        c.fail(`${path}.pod`, `${JSON.stringify(pod)} is not a pod of the layout (${PODS.join(', ')})`);
      return { op, pod, labels: c.labels(a.labels, `${path}.labels`) };
    }
    case 'setNamespaceLabels': {
      const namespace = c.string(a.namespace, `${path}.namespace`);
      if (!(NAMESPACES as readonly string[]).includes(namespace))
        c.fail(
          `${path}.namespace`,
          `${JSON.stringify(namespace)} is not a namespace of the layout (x, y, z)`,
        );
      return { op, namespace, labels: c.labels(a.labels, `${path}.labels`) };
    }
    case 'applyResource': {
      if (!isObject(a.resource)) c.fail(`${path}.resource`, 'must be an object');
      const kind = a.resource.kind;
      if (kind !== 'NetworkPolicy' && kind !== 'GlobalNetworkPolicy')
        c.fail(
          `${path}.resource.kind`,
          `${JSON.stringify(kind)} is not NetworkPolicy or GlobalNetworkPolicy`,
        );
      return { op, resource: a.resource };
    }
    default: {
      const kind = a.kind;
      if (kind !== 'NetworkPolicy' && kind !== 'GlobalNetworkPolicy')
        c.fail(`${path}.kind`, `${JSON.stringify(kind)} is not NetworkPolicy or GlobalNetworkPolicy`);
      const name = c.string(a.name, `${path}.name`);
      if (kind === 'NetworkPolicy')
        return { op: 'deleteResource', kind, namespace: c.string(a.namespace, `${path}.namespace`), name };
      if (a.namespace !== undefined) c.fail(`${path}.namespace`, 'must be absent for a GlobalNetworkPolicy');
      return { op: 'deleteResource', kind, name };
    }
  }
}

function parseMatrix(c: Checker, raw: unknown, path: string): Matrix {
  if (!isObject(raw)) c.fail(path, 'must be an object of rows');
  const m: Matrix = {};
  for (const from of PODS) {
    const row = raw[from];
    if (!isObject(row)) c.fail(`${path}.${from}`, 'row is missing (a matrix has all 9 rows and columns)');
    m[from] = {};
    for (const to of PODS) {
      const v = row[to];
      if (typeof v !== 'boolean')
        c.fail(`${path}.${from}.${to}`, `must be true or false, not ${JSON.stringify(v)}`);
      m[from][to] = v;
    }
    for (const k of Object.keys(row))
      if (!isPod(k)) c.fail(`${path}.${from}.${k}`, 'is not a pod of the layout');
  }
  for (const k of Object.keys(raw)) if (!isPod(k)) c.fail(`${path}.${k}`, 'is not a pod of the layout');
  return m;
}

function parseProbe(c: Checker, raw: unknown, path: string, sctpAllowed: boolean): Probe {
  const p = c.object(raw, path, { required: ['protocol'], optional: ['port', 'expect'] });
  const protocol = p.protocol;
  if (protocol !== 'TCP' && protocol !== 'UDP' && protocol !== 'SCTP' && protocol !== 'ICMP')
    c.fail(`${path}.protocol`, `${JSON.stringify(protocol)} is not one of TCP, UDP, SCTP, ICMP`);
  if (protocol === 'SCTP' && !sctpAllowed)
    c.fail(`${path}.protocol`, 'SCTP probes need "requires": ["SCTP"] on the case');
  const probe: Probe = { protocol };
  if (protocol === 'ICMP') {
    if (p.port !== undefined) c.fail(`${path}.port`, 'an ICMP probe has no port');
  } else {
    if (p.port !== 80 && p.port !== 81)
      c.fail(`${path}.port`, `must be 80 or 81, not ${JSON.stringify(p.port)}`);
    probe.port = p.port;
  }
  if (p.expect !== undefined) probe.expect = parseMatrix(c, p.expect, `${path}.expect`);
  return probe;
}

/** Parses one case file's text; throws CaseError naming the file and the offending field. */
export function parseCase(text: string, file: string): Case {
  const c = new Checker(file);
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (e) {
    throw new CaseError(`${file}: not valid JSON: ${(e as Error).message}`);
  }
  const o = c.object(raw, 'case', { required: ['name', 'steps'], optional: ['source', 'requires', 'note'] });
  const name = c.string(o.name, 'name');
  const requires = o.requires === undefined ? [] : c.array(o.requires, 'requires');
  requires.forEach((r, i) => {
    if (r !== 'SCTP') c.fail(`requires[${i}]`, `${JSON.stringify(r)} is not a known feature (SCTP)`);
  });
  if (o.source !== undefined && typeof o.source !== 'string') c.fail('source', 'must be a string');
  if (o.note !== undefined && typeof o.note !== 'string') c.fail('note', 'must be a string');
  const steps = c.array(o.steps, 'steps').map((s, i) => {
    const step = c.object(s, `steps[${i}]`, { required: ['actions', 'probes'] });
    return {
      actions: c
        .array(step.actions, `steps[${i}].actions`)
        .map((a, j) => parseAction(c, a, `steps[${i}].actions[${j}]`)),
      probes: c
        .array(step.probes, `steps[${i}].probes`)
        .map((p, j) => parseProbe(c, p, `steps[${i}].probes[${j}]`, requires.includes('SCTP'))),
    };
  });
  const out: Case = {
    name,
    source: (o.source as string | undefined) ?? '',
    requires: requires as 'SCTP'[],
    steps,
    file,
  };
  if (o.note !== undefined) out.note = o.note as string;
  return out;
}

/** Parses every file; case names must be unique across them. */
export function parseCases(files: { file: string; text: string }[]): Case[] {
  const cases = files.map(({ file, text }) => parseCase(text, file));
  const seen = new Map<string, string>();
  for (const k of cases) {
    const other = seen.get(k.name);
    if (other)
      throw new CaseError(
        `${k.file}: name: ${JSON.stringify(k.name)} is also the name of the case in ${other}`,
      );
    seen.set(k.name, k.file);
  }
  return cases;
}
