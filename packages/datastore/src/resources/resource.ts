import { DNS_SUBDOMAIN, type Fields } from './fields.js';

export const API_VERSION = 'tricolor.dev/v1';

export interface Metadata {
  name: string;
  namespace?: string;
  labels?: Record<string, string>;
  annotations?: Record<string, string>;
  /** The etcd ModRevision of the stored object; give it back on update for compare-and-swap. */
  resourceVersion?: string;
  uid?: string;
  creationTimestamp?: string;
}

export interface Resource<K extends string = string, S = unknown, St = unknown> {
  kind: K;
  apiVersion: typeof API_VERSION;
  metadata: Metadata;
  spec: S;
  status?: St;
}

/** Checks kind, apiVersion and metadata; returns the normalized metadata. */
export function checkEnvelope(f: Fields, kind: string, namespaced: boolean): Metadata {
  const k = f.get('kind');
  if (k !== kind) f.fail('kind', `must be ${JSON.stringify(kind)}`);
  const api = f.get('apiVersion');
  if (api !== undefined && api !== API_VERSION)
    f.fail('apiVersion', `${JSON.stringify(api)} is not ${API_VERSION}`);
  f.object('metadata', true);
  const name =
    f.string('metadata.name', {
      required: true,
      max: 253,
      pattern: DNS_SUBDOMAIN,
      patternText: 'a valid name (lower-case letters, digits, "-" and ".")',
    }) ?? '';
  const namespace = f.string('metadata.namespace', {
    max: 63,
    pattern: DNS_SUBDOMAIN,
    patternText: 'a valid namespace',
  });
  if (namespaced && !namespace) f.fail('metadata.namespace', `is required for ${kind}`);
  if (!namespaced && namespace) f.fail('metadata.namespace', `must be empty: ${kind} is not namespaced`);
  const labels = f.stringMap('metadata.labels');
  const annotations = f.object('metadata.annotations') as Record<string, string> | undefined;
  f.opaque('metadata.annotations');
  // Kubernetes bookkeeping a resource may carry when it comes from kubectl or an API server
  // (`get -o yaml` output applied back): known, not ours to check, not stored.
  for (const key of KUBERNETES_METADATA) f.opaque(`metadata.${key}`);
  const md: Metadata = { name };
  if (namespace) md.namespace = namespace;
  if (labels) md.labels = { ...labels };
  if (annotations) md.annotations = { ...annotations };
  for (const key of ['resourceVersion', 'uid', 'creationTimestamp'] as const) {
    const v = f.string(`metadata.${key}`);
    if (v) md[key] = v;
  }
  return md;
}

/** Kubernetes bookkeeping in metadata, known to every validator and never checked. */
export const KUBERNETES_METADATA = [
  'generation',
  'managedFields',
  'ownerReferences',
  'finalizers',
  'deletionTimestamp',
  'deletionGracePeriodSeconds',
  'generateName',
  'selfLink',
] as const;

/** Copies the keys whose values are not undefined, so validated specs carry no undefined members. */
export function compact<T extends object>(o: T): T {
  const out: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
