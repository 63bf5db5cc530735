import { randomUUID } from 'node:crypto';
import { EventEmitter } from 'node:events';

/**
 * The state of the fake API server: objects of a few kinds under one resourceVersion counter
 * (as etcd's revision behind a real kube-apiserver), and the history of changes that watches
 * replay from a resourceVersion until it is compacted.
 */
export interface KubeObject {
  apiVersion?: string;
  kind?: string;
  metadata: {
    name: string;
    namespace?: string;
    uid?: string;
    resourceVersion?: string;
    creationTimestamp?: string;
    generateName?: string;
    labels?: Record<string, string>;
    annotations?: Record<string, string>;
    [k: string]: unknown;
  };
  spec?: Record<string, unknown>;
  status?: Record<string, unknown>;
  [k: string]: unknown;
}

export interface KindInfo {
  /** URL path segment: pods, namespaces, ... */
  plural: string;
  kind: string;
  /** "" for the core group (/api/v1), else e.g. networking.k8s.io. */
  group: string;
  version: string;
  namespaced: boolean;
  /** Field selectors the API server accepts for this kind besides metadata.name/namespace. */
  fields: string[];
}

export const KINDS: KindInfo[] = [
  {
    plural: 'pods',
    kind: 'Pod',
    group: '',
    version: 'v1',
    namespaced: true,
    fields: [
      'spec.nodeName',
      'spec.serviceAccountName',
      'status.phase',
      'status.podIP',
      'spec.restartPolicy',
    ],
  },
  {
    plural: 'namespaces',
    kind: 'Namespace',
    group: '',
    version: 'v1',
    namespaced: false,
    fields: ['status.phase'],
  },
  {
    plural: 'serviceaccounts',
    kind: 'ServiceAccount',
    group: '',
    version: 'v1',
    namespaced: true,
    fields: [],
  },
  {
    plural: 'nodes',
    kind: 'Node',
    group: '',
    version: 'v1',
    namespaced: false,
    fields: ['spec.unschedulable'],
  },
  {
    plural: 'networkpolicies',
    kind: 'NetworkPolicy',
    group: 'networking.k8s.io',
    version: 'v1',
    namespaced: true,
    fields: [],
  },
  {
    plural: 'leases',
    kind: 'Lease',
    group: 'coordination.k8s.io',
    version: 'v1',
    namespaced: true,
    fields: [],
  },
];

export const kindByPlural = (plural: string): KindInfo | undefined => KINDS.find((k) => k.plural === plural);
export const kindByKind = (kind: string): KindInfo | undefined => KINDS.find((k) => k.kind === kind);
export const apiVersionOf = (k: KindInfo): string => (k.group ? `${k.group}/${k.version}` : k.version);

export type EventType = 'ADDED' | 'MODIFIED' | 'DELETED';

export interface StoredEvent {
  rv: number;
  type: EventType;
  kind: KindInfo;
  object: KubeObject;
  /** The object before a MODIFIED or DELETED (to send DELETED/ADDED when a selector stops/starts matching). */
  previous?: KubeObject;
}

/** An API error, answered as a `Status` object. */
export class ApiError extends Error {
  constructor(
    readonly code: number,
    readonly reason: string,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
  }

  status(): Record<string, unknown> {
    return {
      kind: 'Status',
      apiVersion: 'v1',
      metadata: {},
      status: 'Failure',
      message: this.message,
      reason: this.reason,
      ...(this.details ? { details: this.details } : {}),
      code: this.code,
    };
  }
}

const keyOf = (ns: string | undefined, name: string) => `${ns ?? ''}/${name}`;
const clone = <T>(o: T): T => structuredClone(o);

function notFound(k: KindInfo, name: string): ApiError {
  const resource = k.group ? `${k.plural}.${k.group}` : k.plural;
  return new ApiError(404, 'NotFound', `${resource} "${name}" not found`, { name, kind: k.plural });
}

export class ObjectStore extends EventEmitter<{ event: [StoredEvent] }> {
  private rv = 1;
  private readonly objects = new Map<string, Map<string, KubeObject>>();
  private readonly history: StoredEvent[] = [];
  /** Watches from a resourceVersion below this get 410 Expired. */
  private compactedRv = 0;

  constructor() {
    super();
    this.setMaxListeners(0);
    for (const k of KINDS) this.objects.set(k.plural, new Map());
  }

  get resourceVersion(): string {
    return String(this.rv);
  }

  get oldestWatchable(): number {
    return this.compactedRv;
  }

  list(k: KindInfo, namespace?: string): KubeObject[] {
    const all = [...this.objects.get(k.plural)!.values()];
    const items = namespace === undefined ? all : all.filter((o) => o.metadata.namespace === namespace);
    return items
      .sort((a, b) =>
        keyOf(a.metadata.namespace, a.metadata.name).localeCompare(
          keyOf(b.metadata.namespace, b.metadata.name),
        ),
      )
      .map(clone);
  }

  get(k: KindInfo, namespace: string | undefined, name: string): KubeObject {
    const o = this.objects.get(k.plural)!.get(keyOf(k.namespaced ? namespace : undefined, name));
    if (!o) throw notFound(k, name);
    return clone(o);
  }

  tryGet(k: KindInfo, namespace: string | undefined, name: string): KubeObject | undefined {
    const o = this.objects.get(k.plural)!.get(keyOf(k.namespaced ? namespace : undefined, name));
    return o ? clone(o) : undefined;
  }

  private record(type: EventType, k: KindInfo, object: KubeObject, previous?: KubeObject): void {
    const ev: StoredEvent = { rv: this.rv, type, kind: k, object: clone(object), previous };
    this.history.push(ev);
    this.emit('event', ev);
  }

  create(k: KindInfo, namespace: string | undefined, body: KubeObject): KubeObject {
    const obj = clone(body);
    obj.apiVersion = apiVersionOf(k);
    obj.kind = k.kind;
    obj.metadata ??= { name: '' };
    if (k.namespaced) {
      const ns = namespace ?? obj.metadata.namespace ?? 'default';
      if (obj.metadata.namespace && obj.metadata.namespace !== ns)
        throw new ApiError(
          400,
          'BadRequest',
          `the namespace of the provided object does not match the namespace sent on the request`,
        );
      obj.metadata.namespace = ns;
      if (!this.objects.get('namespaces')!.has(keyOf(undefined, ns)))
        throw new ApiError(404, 'NotFound', `namespaces "${ns}" not found`, { name: ns, kind: 'namespaces' });
    } else delete obj.metadata.namespace;
    if (!obj.metadata.name && obj.metadata.generateName)
      obj.metadata.name = `${obj.metadata.generateName}${randomUUID().slice(0, 5)}`;
    const name = obj.metadata.name;
    if (!name || !/^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/.test(name) || name.length > 253)
      throw new ApiError(
        422,
        'Invalid',
        `${k.kind} "${name ?? ''}" is invalid: metadata.name: Invalid value`,
      );
    const map = this.objects.get(k.plural)!;
    const key = keyOf(obj.metadata.namespace, name);
    if (map.has(key))
      throw new ApiError(409, 'AlreadyExists', `${k.plural} "${name}" already exists`, {
        name,
        kind: k.plural,
      });
    if (k.kind === 'Pod') {
      obj.spec ??= {};
      obj.spec.serviceAccountName ??= 'default';
      obj.status ??= {};
      obj.status.phase ??= 'Pending';
    }
    if (k.kind === 'Namespace') {
      obj.status = { phase: 'Active' };
      labelNamespaceName(obj);
    }
    obj.metadata.uid = randomUUID();
    obj.metadata.creationTimestamp = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    map.set(key, obj);
    this.record('ADDED', k, obj);
    return clone(obj);
  }

  /** Replaces an object; with metadata.resourceVersion only if it is still current (409 Conflict otherwise). */
  update(k: KindInfo, namespace: string | undefined, body: KubeObject): KubeObject {
    const ns = k.namespaced ? (namespace ?? body.metadata.namespace) : undefined;
    const map = this.objects.get(k.plural)!;
    const key = keyOf(ns, body.metadata.name);
    const cur = map.get(key);
    if (!cur) throw notFound(k, body.metadata.name);
    const want = body.metadata.resourceVersion;
    if (want && want !== cur.metadata.resourceVersion)
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${k.plural} "${body.metadata.name}": the object has been modified; please apply your changes to the latest version and try again`,
        { name: body.metadata.name, kind: k.plural },
      );
    const obj = clone(body);
    obj.apiVersion = apiVersionOf(k);
    obj.kind = k.kind;
    obj.metadata.uid = cur.metadata.uid;
    obj.metadata.creationTimestamp = cur.metadata.creationTimestamp;
    if (ns) obj.metadata.namespace = ns;
    if (k.kind === 'Namespace') labelNamespaceName(obj);
    if (
      JSON.stringify({ ...obj, metadata: { ...obj.metadata, resourceVersion: undefined } }) ===
      JSON.stringify({ ...cur, metadata: { ...cur.metadata, resourceVersion: undefined } })
    ) {
      // A no-op update does not change the resourceVersion and sends no event, as the real one.
      return clone(cur);
    }
    this.rv++;
    obj.metadata.resourceVersion = String(this.rv);
    map.set(key, obj);
    this.record('MODIFIED', k, obj, clone(cur));
    return clone(obj);
  }

  delete(
    k: KindInfo,
    namespace: string | undefined,
    name: string,
    pre: { uid?: string; resourceVersion?: string } = {},
  ): KubeObject {
    const ns = k.namespaced ? namespace : undefined;
    const map = this.objects.get(k.plural)!;
    const key = keyOf(ns, name);
    const cur = map.get(key);
    if (!cur) throw notFound(k, name);
    if (
      (pre.uid && pre.uid !== cur.metadata.uid) ||
      (pre.resourceVersion && pre.resourceVersion !== cur.metadata.resourceVersion)
    )
      throw new ApiError(
        409,
        'Conflict',
        `Operation cannot be fulfilled on ${k.plural} "${name}": Precondition failed: UID in precondition: ${pre.uid ?? ''}, UID in object meta: ${cur.metadata.uid}`,
      );
    if (k.kind === 'Namespace') {
      // The namespace controller deletes everything in the namespace first.
      for (const other of KINDS)
        if (other.namespaced)
          for (const o of this.list(other, name)) this.delete(other, name, o.metadata.name);
    }
    map.delete(key);
    this.rv++;
    const gone = { ...clone(cur), metadata: { ...clone(cur.metadata), resourceVersion: String(this.rv) } };
    this.record('DELETED', k, gone, clone(cur));
    return gone;
  }

  /** Events after `rv` (exclusive), or an ApiError 410 when that part of the history is compacted. */
  eventsSince(rv: number): StoredEvent[] {
    if (rv < this.compactedRv)
      throw new ApiError(410, 'Expired', `too old resource version: ${rv} (${this.compactedRv})`);
    // History is ordered by rv; find the first event after rv.
    let lo = 0;
    let hi = this.history.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.history[mid]!.rv <= rv) lo = mid + 1;
      else hi = mid;
    }
    return this.history.slice(lo);
  }

  /** Forgets the history up to now, as etcd's compaction does: older resourceVersions get 410. */
  compact(): void {
    this.compactedRv = this.rv;
    this.history.length = 0;
  }
}

/**
 * The API server keeps `kubernetes.io/metadata.name` equal to a namespace's name on every
 * write (Kubernetes 1.22+), which is what lets a namespaceSelector pick a namespace by name.
 */
function labelNamespaceName(obj: KubeObject): void {
  obj.metadata.labels = { ...obj.metadata.labels, 'kubernetes.io/metadata.name': obj.metadata.name };
}
