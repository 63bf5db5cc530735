import { randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import {
  createServer as createHttpServer,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { makeTlsMaterial, type TlsMaterial } from '../tls.js';
import { jsonPatch, mergePatch } from './patch.js';
import {
  type FieldRequirement,
  fieldsMatch,
  labelsMatch,
  parseFieldSelector,
  parseLabelSelector,
  type Requirement,
  SelectorParseError,
} from './selectors.js';
import {
  ApiError,
  apiVersionOf,
  type KindInfo,
  type KubeObject,
  kindByKind,
  kindByPlural,
  ObjectStore,
  type StoredEvent,
} from './store.js';

export interface FakeApiServerOptions {
  /** Serve HTTPS with a throw-away CA (kubeconfig gets `certificate-authority`); default false. */
  tls?: boolean;
  /** Bearer token every request must carry (401 otherwise); default a random one. */
  token?: string;
  /** BOOKMARK interval for watches that ask for them (allowWatchBookmarks=true); default 1000 ms. */
  bookmarkIntervalMs?: number;
  /** Write every watch event in two chunks, split inside the JSON (clients must reassemble lines). */
  splitEvents?: boolean;
  /** Bind address; default 127.0.0.1. */
  host?: string;
}

/** One answer the server gives instead of serving a request (fault injection). */
export interface InjectedFailure {
  status: 410 | 429 | 500 | 503 | 403 | 504;
  method?: string;
  /** Matched against the request path (without query). */
  path?: RegExp;
  /** true: only watch requests; false: only non-watch requests; undefined: both. */
  watch?: boolean;
  /** How many matching requests get the failure (default 1). */
  times?: number;
  retryAfterSeconds?: number;
  message?: string;
}

export interface RecordedRequest {
  method: string;
  path: string;
  query: Record<string, string>;
  watch: boolean;
  status?: number;
}

interface OpenWatch {
  res: ServerResponse;
  socket: Socket;
  kind: KindInfo;
  path: string;
  close(error?: ApiError): void;
}

const REASONS: Record<number, string> = {
  403: 'Forbidden',
  410: 'Expired',
  429: 'TooManyRequests',
  500: 'InternalError',
  503: 'ServiceUnavailable',
  504: 'Timeout',
};

const MAX_BODY = 3 * 1024 * 1024;

/**
 * A fake Kubernetes API server speaking the real protocol over node:http(s), for the kinds
 * Tricolor uses (pods, namespaces, serviceaccounts, nodes, networkpolicies, leases): list
 * (with limit/continue), get, watch (chunked JSON lines, resourceVersion replay, synthetic
 * ADDED for a watch from "" or "0", ADDED/DELETED when an object enters/leaves a selector,
 * BOOKMARK, 410 Expired after compaction), create/update/patch/delete with resourceVersion
 * preconditions, label and field selectors, bearer-token auth, and fault injection (dropped
 * connections, 429/500 answers, expired watches). The real `@kubernetes/client-node` talks to it.
 */
export class FakeApiServer {
  readonly store = new ObjectStore();
  readonly requests: RecordedRequest[] = [];
  readonly token: string;
  private readonly failures: InjectedFailure[] = [];
  private readonly watches = new Set<OpenWatch>();
  private readonly sockets = new Set<Socket>();
  private readonly snapshots = new Map<string, { rv: string; items: KubeObject[] }>();
  private constructor(
    private readonly server: Server,
    readonly url: string,
    readonly tls: TlsMaterial | undefined,
    private readonly dir: string,
    readonly opts: FakeApiServerOptions,
  ) {
    this.token = opts.token ?? randomBytes(16).toString('hex');
  }

  static async start(opts: FakeApiServerOptions = {}): Promise<FakeApiServer> {
    const dir = mkdtempSync(join(tmpdir(), 'tricolor-kube-api-'));
    const tls = opts.tls ? await makeTlsMaterial(join(dir, 'tls')) : undefined;
    let self: FakeApiServer | undefined;
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      self!.handle(req, res).catch((e) => {
        if (!res.headersSent) self!.send(res, req, new ApiError(500, 'InternalError', String(e)));
      });
    };
    const server = tls
      ? createHttpsServer(
          { key: readFileSync(tls.serverKeyFile), cert: readFileSync(tls.serverCertFile) },
          handler,
        )
      : createHttpServer(handler);
    const host = opts.host ?? '127.0.0.1';
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, host, () => resolve());
    });
    const addr = server.address();
    const port = typeof addr === 'object' && addr ? addr.port : 0;
    self = new FakeApiServer(server, `${tls ? 'https' : 'http'}://${host}:${port}`, tls, dir, opts);
    server.on(tls ? 'secureConnection' : 'connection', (s: Socket) => {
      self!.sockets.add(s);
      s.once('close', () => self!.sockets.delete(s));
    });
    return self;
  }

  // ------------------------------------------------------------------ test-facing API

  /** A kubeconfig (JSON, which is YAML) for this server: token auth, its CA or (http) insecure-skip-tls-verify. */
  kubeconfig(): string {
    const cluster: Record<string, unknown> = { server: this.url };
    if (this.tls) cluster['certificate-authority'] = this.tls.caFile;
    // client-node refuses an http:// server unless the kubeconfig skips TLS verification.
    else cluster['insecure-skip-tls-verify'] = true;
    return JSON.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      clusters: [{ name: 'fake', cluster }],
      users: [{ name: 'fake', user: { token: this.token } }],
      contexts: [{ name: 'fake', context: { cluster: 'fake', user: 'fake' } }],
      'current-context': 'fake',
    });
  }

  /** Writes kubeconfig() to a file in the server's temp dir (or `path`) and returns the path. */
  writeKubeconfig(path = join(this.dir, `kubeconfig-${randomUUID().slice(0, 8)}`)): string {
    writeFileSync(path, this.kubeconfig(), { mode: 0o600 });
    return path;
  }

  private kindOf(obj: KubeObject | string): KindInfo {
    const k = kindByKind(typeof obj === 'string' ? obj : (obj.kind ?? ''));
    if (!k)
      throw new Error(
        `fake API server: unknown kind ${JSON.stringify(typeof obj === 'string' ? obj : obj.kind)}`,
      );
    return k;
  }

  create(obj: KubeObject): KubeObject {
    return this.store.create(this.kindOf(obj), obj.metadata.namespace, obj);
  }
  update(obj: KubeObject): KubeObject {
    return this.store.update(this.kindOf(obj), obj.metadata.namespace, obj);
  }
  /** Merge-patches (RFC 7386) an object, e.g. `{ metadata: { labels: { a: 'b' } } }`. */
  patch(
    kind: string,
    namespace: string | undefined,
    name: string,
    patch: Record<string, unknown>,
  ): KubeObject {
    const k = this.kindOf(kind);
    const cur = this.store.get(k, namespace, name);
    const next = mergePatch(cur, patch) as KubeObject;
    next.metadata.resourceVersion = cur.metadata.resourceVersion;
    return this.store.update(k, namespace, next);
  }
  delete(kind: string, namespace: string | undefined, name: string): KubeObject {
    return this.store.delete(this.kindOf(kind), namespace, name);
  }
  get(kind: string, namespace: string | undefined, name: string): KubeObject | undefined {
    return this.store.tryGet(this.kindOf(kind), namespace, name);
  }
  list(kind: string, namespace?: string): KubeObject[] {
    return this.store.list(this.kindOf(kind), namespace);
  }

  /** The next matching requests get this answer instead of being served. */
  failNext(f: InjectedFailure): void {
    this.failures.push({ times: 1, ...f });
  }

  /** Watch streams open now. */
  get openWatches(): number {
    return this.watches.size;
  }

  /** Destroys every open watch's connection mid-stream (the client sees a premature close). */
  dropWatches(): number {
    const n = this.watches.size;
    for (const w of [...this.watches]) {
      this.watches.delete(w);
      w.socket.destroy();
    }
    return n;
  }

  /** Ends every open watch cleanly (as a server-side watch timeout does). */
  endWatches(): number {
    const n = this.watches.size;
    for (const w of [...this.watches]) w.close();
    return n;
  }

  /** Sends every open watch an ERROR event with 410 Expired, then ends it. */
  expireWatches(): number {
    const n = this.watches.size;
    for (const w of [...this.watches])
      w.close(new ApiError(410, 'Expired', `too old resource version: (${this.store.resourceVersion})`));
    return n;
  }

  /** Compacts the history: watches from an older resourceVersion, and old continue tokens, get 410. */
  compact(): void {
    this.store.compact();
    this.snapshots.clear();
  }

  async close(): Promise<void> {
    for (const w of [...this.watches]) w.socket.destroy();
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }

  // ------------------------------------------------------------------ HTTP

  private send(res: ServerResponse, req: IncomingMessage, body: unknown, code = 200): void {
    const status = body instanceof ApiError ? body.code : code;
    const rec = this.requests.findLast((r) => (r as { _req?: IncomingMessage })._req === req);
    if (rec) rec.status = status;
    const payload = JSON.stringify(body instanceof ApiError ? body.status() : body);
    const headers: Record<string, string | number> = {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(payload),
    };
    if (body instanceof ApiError && body.details?.retryAfterSeconds !== undefined)
      headers['retry-after'] = String(body.details.retryAfterSeconds);
    res.writeHead(status, headers);
    res.end(payload);
  }

  private async readBody(req: IncomingMessage): Promise<unknown> {
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const c of req) {
      size += (c as Buffer).length;
      if (size > MAX_BODY) throw new ApiError(413, 'RequestEntityTooLarge', 'request entity too large');
      chunks.push(c as Buffer);
    }
    const text = Buffer.concat(chunks).toString('utf8');
    if (!text) throw new ApiError(400, 'BadRequest', 'the request body is empty');
    try {
      return JSON.parse(text);
    } catch (e) {
      throw new ApiError(
        400,
        'BadRequest',
        `the body of the request was in an unknown format: ${(e as Error).message}`,
      );
    }
  }

  private route(path: string): { kind: KindInfo; namespace?: string; name?: string; sub?: string } {
    const segs = path.split('/').filter(Boolean).map(decodeURIComponent);
    let rest: string[];
    let group = '';
    let version: string;
    if (segs[0] === 'api') {
      version = segs[1] ?? '';
      rest = segs.slice(2);
    } else if (segs[0] === 'apis') {
      group = segs[1] ?? '';
      version = segs[2] ?? '';
      rest = segs.slice(3);
    } else throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    let namespace: string | undefined;
    if (rest[0] === 'namespaces' && rest.length >= 3) {
      namespace = rest[1];
      rest = rest.slice(2);
    }
    const kind = kindByPlural(rest[0] ?? '');
    if (!kind || kind.group !== group || kind.version !== version || rest.length > 3)
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    if (namespace !== undefined && !kind.namespaced)
      throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
    return { kind, namespace, name: rest[1], sub: rest[2] };
  }

  private injected(method: string, path: string, watch: boolean): InjectedFailure | undefined {
    const i = this.failures.findIndex(
      (f) =>
        (f.method === undefined || f.method === method) &&
        (f.path === undefined || f.path.test(path)) &&
        (f.watch === undefined || f.watch === watch),
    );
    if (i < 0) return undefined;
    const f = this.failures[i]!;
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) this.failures.splice(i, 1);
    return f;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = new URL(req.url ?? '/', 'http://x');
    const query = Object.fromEntries(url.searchParams);
    const method = req.method ?? 'GET';
    const watch = query.watch === 'true' || query.watch === '1';
    const rec: RecordedRequest & { _req?: IncomingMessage } = { method, path: url.pathname, query, watch };
    Object.defineProperty(rec, '_req', { value: req, enumerable: false });
    this.requests.push(rec);
    try {
      if (req.headers.authorization !== `Bearer ${this.token}`)
        throw new ApiError(401, 'Unauthorized', 'Unauthorized');
      const inj = this.injected(method, url.pathname, watch);
      if (inj) {
        const details =
          inj.retryAfterSeconds !== undefined ? { retryAfterSeconds: inj.retryAfterSeconds } : undefined;
        throw new ApiError(
          inj.status,
          REASONS[inj.status] ?? 'InternalError',
          inj.message ?? `injected ${inj.status}`,
          details,
        );
      }
      const r = this.route(url.pathname);
      if (r.sub !== undefined && r.sub !== 'status')
        throw new ApiError(404, 'NotFound', `the server could not find the requested resource`);
      if (method === 'GET' && r.name === undefined) {
        if (watch) return this.serveWatch(req, res, r.kind, r.namespace, query);
        return this.send(res, req, this.serveList(r.kind, r.namespace, query));
      }
      if (method === 'GET') return this.send(res, req, this.store.get(r.kind, r.namespace, r.name!));
      if (method === 'POST' && r.name === undefined) {
        const body = (await this.readBody(req)) as KubeObject;
        this.checkKind(r.kind, body);
        return this.send(res, req, this.store.create(r.kind, r.namespace, body), 201);
      }
      if (method === 'PUT' && r.name !== undefined) {
        const body = (await this.readBody(req)) as KubeObject;
        this.checkKind(r.kind, body);
        if (body.metadata?.name !== r.name)
          throw new ApiError(
            400,
            'BadRequest',
            `the name of the object (${body.metadata?.name}) does not match the name on the URL (${r.name})`,
          );
        return this.send(res, req, this.store.update(r.kind, r.namespace, body));
      }
      if (method === 'PATCH' && r.name !== undefined) {
        const patch = await this.readBody(req);
        const type = (req.headers['content-type'] ?? '').split(';')[0]!.trim();
        const cur = this.store.get(r.kind, r.namespace, r.name);
        let next: KubeObject;
        if (type === 'application/merge-patch+json' || type === 'application/strategic-merge-patch+json')
          next = mergePatch(cur, patch) as KubeObject;
        else if (type === 'application/json-patch+json') next = jsonPatch(cur, patch) as KubeObject;
        else
          throw new ApiError(
            415,
            'UnsupportedMediaType',
            `the body of the request was in an unknown format - accepted media types include: application/json-patch+json, application/merge-patch+json, application/strategic-merge-patch+json`,
          );
        // A resourceVersion in the patch is a precondition; otherwise the patch applies to the current object.
        next.metadata.resourceVersion ??= cur.metadata.resourceVersion;
        if (next.metadata.name !== cur.metadata.name)
          throw new ApiError(422, 'Invalid', `metadata.name: the name of an object cannot be patched`);
        return this.send(res, req, this.store.update(r.kind, r.namespace, next));
      }
      if (method === 'DELETE' && r.name !== undefined) {
        let pre: { uid?: string; resourceVersion?: string } = {};
        if (Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding']) {
          const body = (await this.readBody(req).catch(() => ({}))) as { preconditions?: typeof pre };
          pre = body.preconditions ?? {};
        }
        return this.send(res, req, this.store.delete(r.kind, r.namespace, r.name, pre));
      }
      throw new ApiError(
        405,
        'MethodNotAllowed',
        `the server does not allow this method on the requested resource`,
      );
    } catch (e) {
      if (e instanceof ApiError) return this.send(res, req, e);
      if (e instanceof SelectorParseError)
        return this.send(res, req, new ApiError(400, 'BadRequest', e.message));
      throw e;
    }
  }

  private checkKind(k: KindInfo, body: KubeObject): void {
    if (body === null || typeof body !== 'object' || typeof body.metadata !== 'object')
      throw new ApiError(400, 'BadRequest', 'the object has no metadata');
    if (body.kind !== undefined && body.kind !== k.kind)
      throw new ApiError(
        400,
        'BadRequest',
        `the API version in the data (${body.apiVersion}) does not match the expected API version (${apiVersionOf(k)})`,
      );
  }

  private selectors(
    k: KindInfo,
    query: Record<string, string>,
  ): { labels: Requirement[]; fields: FieldRequirement[] } {
    return {
      labels: query.labelSelector ? parseLabelSelector(query.labelSelector) : [],
      fields: query.fieldSelector
        ? parseFieldSelector(query.fieldSelector, ['metadata.name', 'metadata.namespace', ...k.fields])
        : [],
    };
  }

  private serveList(k: KindInfo, namespace: string | undefined, query: Record<string, string>): unknown {
    const { labels, fields } = this.selectors(k, query);
    let rv: string;
    let items: KubeObject[];
    let offset = 0;
    if (query.continue) {
      let token: { id: string; offset: number };
      try {
        token = JSON.parse(Buffer.from(query.continue, 'base64url').toString('utf8'));
      } catch {
        throw new ApiError(400, 'BadRequest', 'continue key is not valid');
      }
      const snap = this.snapshots.get(token.id);
      if (!snap)
        throw new ApiError(
          410,
          'Expired',
          'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter.',
        );
      ({ rv, items } = snap);
      offset = token.offset;
    } else {
      rv = this.store.resourceVersion;
      items = this.store
        .list(k, namespace)
        .filter((o) => labelsMatch(labels, o.metadata.labels) && fieldsMatch(fields, o));
    }
    const limit = Number(query.limit ?? 0);
    let page = items.slice(offset);
    const metadata: Record<string, unknown> = { resourceVersion: rv };
    if (limit > 0 && page.length > limit) {
      page = page.slice(0, limit);
      const id = randomUUID();
      this.snapshots.set(id, { rv, items });
      metadata.continue = Buffer.from(JSON.stringify({ id, offset: offset + limit })).toString('base64url');
      metadata.remainingItemCount = items.length - offset - limit;
    }
    return { kind: `${k.kind}List`, apiVersion: apiVersionOf(k), metadata, items: page };
  }

  private serveWatch(
    req: IncomingMessage,
    res: ServerResponse,
    k: KindInfo,
    namespace: string | undefined,
    query: Record<string, string>,
  ): void {
    const { labels, fields } = this.selectors(k, query);
    const inScope = (o: KubeObject | undefined) =>
      o !== undefined &&
      (namespace === undefined || o.metadata.namespace === namespace) &&
      labelsMatch(labels, o.metadata.labels) &&
      fieldsMatch(fields, o);
    const fromRv = query.resourceVersion ?? '';
    let replay: { type: string; object: KubeObject }[];
    let expired: ApiError | undefined;
    const toWire = (ev: StoredEvent): { type: string; object: KubeObject } | undefined => {
      if (ev.kind !== k) return undefined;
      const now = inScope(ev.object);
      const before = inScope(ev.previous);
      if (ev.type === 'MODIFIED' && now && !before) return { type: 'ADDED', object: ev.object };
      if (ev.type === 'MODIFIED' && !now && before) return { type: 'DELETED', object: ev.object };
      if (ev.type === 'DELETED') return before ? { type: 'DELETED', object: ev.object } : undefined;
      return now ? { type: ev.type, object: ev.object } : undefined;
    };
    if (fromRv === '' || fromRv === '0') {
      replay = this.store
        .list(k, namespace)
        .filter(inScope)
        .map((object) => ({ type: 'ADDED', object }));
    } else {
      const n = Number(fromRv);
      if (!Number.isInteger(n) || n < 0)
        throw new ApiError(400, 'BadRequest', `invalid resource version: ${fromRv}`);
      try {
        replay = this.store
          .eventsSince(n)
          .map(toWire)
          .filter((e) => e !== undefined);
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        expired = e;
        replay = [];
      }
    }
    const rec = this.requests.findLast((r) => (r as { _req?: IncomingMessage })._req === req);
    if (rec) rec.status = 200;
    res.writeHead(200, { 'content-type': 'application/json', 'transfer-encoding': 'chunked' });
    res.flushHeaders();
    const socket = req.socket;
    // Everything up to the current resourceVersion has been considered once the replay is out.
    let lastRv = this.store.resourceVersion;
    // Split events go out as two chunks a tick apart; a queue keeps later events behind them.
    const pieces: string[] = [];
    let draining = false;
    const drain = () => {
      const piece = pieces.shift();
      if (piece === undefined || res.destroyed || res.writableEnded) {
        draining = false;
        return;
      }
      res.write(piece);
      setImmediate(drain);
    };
    const write = (line: string) => {
      if (res.destroyed || res.writableEnded) return;
      if (this.opts.splitEvents && line.length > 4) {
        const cut = Math.floor(line.length / 2);
        pieces.push(line.slice(0, cut), line.slice(cut));
      } else pieces.push(line);
      if (!draining) {
        draining = true;
        drain();
      }
    };
    const sendEvent = (e: { type: string; object: unknown }) => write(`${JSON.stringify(e)}\n`);
    let timer: NodeJS.Timeout | undefined;
    let bookmarks: NodeJS.Timeout | undefined;
    const onEvent = (ev: StoredEvent) => {
      const w = toWire(ev);
      lastRv = String(ev.rv);
      if (w) sendEvent(w);
    };
    const w: OpenWatch = {
      res,
      socket,
      kind: k,
      path: req.url ?? '',
      close: (error?: ApiError) => {
        cleanup();
        if (error) sendEvent({ type: 'ERROR', object: error.status() });
        const end = () => {
          if (res.destroyed || res.writableEnded) return;
          if (draining) setImmediate(end);
          else res.end();
        };
        setImmediate(end);
      },
    };
    const cleanup = () => {
      this.store.off('event', onEvent);
      clearTimeout(timer);
      clearInterval(bookmarks);
      this.watches.delete(w);
    };
    if (expired) {
      // As kube-apiserver: 200 OK, one ERROR event carrying the 410 Status, then the end.
      w.close(expired);
      return;
    }
    for (const e of replay) sendEvent(e);
    this.store.on('event', onEvent);
    this.watches.add(w);
    res.once('close', cleanup);
    const timeout = Number(query.timeoutSeconds ?? 0);
    if (timeout > 0) timer = setTimeout(() => w.close(), timeout * 1000);
    if (query.allowWatchBookmarks === 'true') {
      bookmarks = setInterval(
        () =>
          sendEvent({
            type: 'BOOKMARK',
            object: { kind: k.kind, apiVersion: apiVersionOf(k), metadata: { resourceVersion: lastRv } },
          }),
        this.opts.bookmarkIntervalMs ?? 1000,
      );
    }
  }
}
