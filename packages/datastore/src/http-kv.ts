import type { Agent } from 'node:http';
import {
  type GuardedWrite,
  type KeyValueStore,
  ownEarlierWrite,
  type Versioned,
  type WriteAllResult,
  writeAllOutcome,
} from './kv.js';
import { nodeHttp, nodeHttps } from './node-http.js';

/**
 * etcd over its JSON gateway (POST /v3/kv/range, /v3/kv/txn, /v3/kv/deleterange; keys and
 * values base64, int64s as decimal strings, zero values left out). Built on node:http(s)
 * only, so a short-lived process (the CNI plugin) does not load gRPC and protobuf.
 */
export interface HttpKVOptions {
  /** `http://host:port` or `https://host:port`, tried in order; a dead one is skipped. */
  endpoints: string[];
  /** PEM: CA bundle to verify etcd with (default: the system roots), client cert and key. */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  /** etcd user (role-based auth); a token is fetched on first use and renewed when it expires. */
  username?: string;
  password?: string;
  /** Time to establish a connection (TCP and TLS) to one endpoint before trying the next. Default 5 s. */
  dialTimeoutMs?: number;
  /** Time for one request on one endpoint, from sending to the whole answer. Default 10 s. */
  requestTimeoutMs?: number;
}

/** No endpoint could be reached (refused, timed out, TLS handshake failed, or 503 from every member). */
export class EtcdUnavailableError extends Error {
  override readonly name = 'EtcdUnavailableError';
}

/** etcd answered, but refused the request (bad request, permission denied, …). */
export class EtcdRequestError extends Error {
  override readonly name = 'EtcdRequestError';
  constructor(
    message: string,
    readonly status: number,
    /** gRPC status code from the gateway's error body, when given. */
    readonly code?: number,
  ) {
    super(message);
  }
}

/** A failure below HTTP on one endpoint: the next endpoint may do better. */
class NetworkFailure extends Error {}

interface Header {
  revision?: string;
}
interface WireKV {
  key: string;
  value?: string;
  mod_revision?: string;
  create_revision?: string;
}
interface RangeResponse {
  header?: Header;
  kvs?: WireKV[];
  count?: string;
}
interface TxnResponse {
  header?: Header;
  succeeded?: boolean;
  responses?: { response_range?: RangeResponse }[];
}
interface DeleteRangeResponse {
  header?: Header;
  deleted?: string;
}

const b64 = (s: string): string => Buffer.from(s, 'utf8').toString('base64');
const unb64 = (s: string | undefined): string => (s ? Buffer.from(s, 'base64').toString('utf8') : '');

/** etcd's range end for "every key starting with prefix": the prefix with its last byte incremented. */
export function prefixRangeEnd(prefix: string): Buffer {
  const b = Buffer.from(prefix, 'utf8');
  for (let i = b.length - 1; i >= 0; i--) {
    if (b[i]! < 0xff) {
      const end = Buffer.from(b.subarray(0, i + 1));
      end[i]!++;
      return end;
    }
  }
  return Buffer.from([0]); // all 0xff (or empty): to the end of the keyspace
}

function decodeKV(kv: WireKV): Versioned {
  return {
    key: unb64(kv.key),
    value: unb64(kv.value),
    modRevision: kv.mod_revision ?? '0',
    createRevision: kv.create_revision ?? '0',
  };
}

const revisionOf = (h: Header | undefined): string => h?.revision ?? '0';

/**
 * etcd 3.4's gateway forwards each JSON request to the member's own gRPC port, presenting
 * the member's server certificate as its client certificate. With --client-cert-auth that
 * fails unless the server certificate also has the clientAuth extended key usage (kubeadm's
 * etcd server certificates have both); the gateway then answers 503 "connection closed".
 */
function gatewayHint(url: URL, detail: string): string {
  // etcd words the failed TLS hop to itself in several ways, depending on which side gives up first.
  const hop = /closed network connection|connection closed|broken pipe|connection reset by peer|\bEOF\b/i;
  return url.protocol === 'https:' && hop.test(detail)
    ? ' (etcd could not forward to its own gRPC port: with --client-cert-auth, its server certificate' +
        ' must also allow clientAuth in extendedKeyUsage)'
    : '';
}

export class HttpKV implements KeyValueStore {
  readonly transport = 'http' as const;
  private readonly endpoints: URL[];
  private readonly agent: Agent;
  private readonly dialTimeoutMs: number;
  private readonly requestTimeoutMs: number;
  /** The endpoint that answered last: asked first next time. */
  private current = 0;
  private token: Promise<string> | undefined;
  private closed = false;

  constructor(private readonly opts: HttpKVOptions) {
    if (opts.endpoints.length === 0) throw new Error('HttpKV: no etcd endpoint given');
    this.endpoints = opts.endpoints.map((e) => new URL(e));
    const schemes = new Set(this.endpoints.map((u) => u.protocol));
    if (schemes.size > 1 || !(schemes.has('http:') || schemes.has('https:')))
      throw new Error(`HttpKV: endpoints must all be http or all https: ${opts.endpoints.join(', ')}`);
    const agentOpts = { keepAlive: true, maxSockets: 16 };
    this.agent = schemes.has('https:')
      ? new (nodeHttps().Agent)({ ...agentOpts, ca: opts.ca, cert: opts.cert, key: opts.key })
      : new (nodeHttp().Agent)(agentOpts);
    this.dialTimeoutMs = opts.dialTimeoutMs ?? 5_000;
    this.requestTimeoutMs = opts.requestTimeoutMs ?? 10_000;
  }

  async get(key: string): Promise<Versioned | undefined> {
    const res = await this.call<RangeResponse>('/v3/kv/range', { key: b64(key) });
    const kv = res.kvs?.[0];
    return kv ? decodeKV(kv) : undefined;
  }

  async list(prefix: string): Promise<{ items: Versioned[]; revision: string }> {
    const res = await this.call<RangeResponse>('/v3/kv/range', {
      key: b64(prefix),
      range_end: prefixRangeEnd(prefix).toString('base64'),
    });
    return { revision: revisionOf(res.header), items: (res.kvs ?? []).map(decodeKV) };
  }

  async keys(prefix: string): Promise<string[]> {
    const res = await this.call<RangeResponse>('/v3/kv/range', {
      key: b64(prefix),
      range_end: prefixRangeEnd(prefix).toString('base64'),
      keys_only: true,
    });
    return (res.kvs ?? []).map((kv) => unb64(kv.key));
  }

  async create(key: string, value: string): Promise<string | undefined> {
    const res = await this.txn(
      { key: b64(key), target: 'CREATE', result: 'EQUAL', create_revision: '0' },
      { request_put: { key: b64(key), value: b64(value) } },
    );
    return res.succeeded ? revisionOf(res.header) : ownEarlierWrite(this, key, value);
  }

  async update(key: string, value: string, modRevision: string): Promise<string | undefined> {
    const res = await this.txn(
      { key: b64(key), target: 'MOD', result: 'EQUAL', mod_revision: modRevision },
      { request_put: { key: b64(key), value: b64(value) } },
    );
    return res.succeeded ? revisionOf(res.header) : ownEarlierWrite(this, key, value);
  }

  async writeAll(writes: readonly GuardedWrite[]): Promise<WriteAllResult> {
    if (writes.length === 0) return { written: true, revision: await this.revision() };
    const res = await this.call<TxnResponse>('/v3/kv/txn', {
      compare: writes.map((w) =>
        w.modRevision === undefined
          ? { key: b64(w.key), target: 'CREATE', result: 'EQUAL', create_revision: '0' }
          : { key: b64(w.key), target: 'MOD', result: 'EQUAL', mod_revision: w.modRevision },
      ),
      success: writes.map((w) => ({ request_put: { key: b64(w.key), value: b64(w.value) } })),
      failure: writes.map((w) => ({ request_range: { key: b64(w.key) } })),
    });
    if (res.succeeded) return { written: true, revision: revisionOf(res.header) };
    const current = writes.map((_, i) => {
      const kv = res.responses?.[i]?.response_range?.kvs?.[0];
      return kv ? decodeKV(kv) : undefined;
    });
    return writeAllOutcome(writes, current);
  }

  async delete(key: string, modRevision: string): Promise<boolean> {
    const res = await this.txn(
      { key: b64(key), target: 'MOD', result: 'EQUAL', mod_revision: modRevision },
      { request_delete_range: { key: b64(key) } },
    );
    return res.succeeded === true;
  }

  async deleteAny(key: string): Promise<boolean> {
    const res = await this.call<DeleteRangeResponse>('/v3/kv/deleterange', { key: b64(key) });
    return Number(res.deleted ?? 0) > 0;
  }

  async revision(): Promise<string> {
    const res = await this.call<RangeResponse>('/v3/kv/range', { key: b64('\0'), count_only: true });
    return revisionOf(res.header);
  }

  close(): void {
    this.closed = true;
    this.agent.destroy();
  }

  private txn(compare: Record<string, unknown>, success: Record<string, unknown>): Promise<TxnResponse> {
    return this.call<TxnResponse>('/v3/kv/txn', { compare: [compare], success: [success] });
  }

  /** POSTs to the endpoints in turn (the last good one first) until one answers. */
  private async call<T>(path: string, body: unknown, authRetry = true): Promise<T> {
    if (this.closed) throw new Error(`etcd ${path}: the datastore was closed`);
    const payload = JSON.stringify(body);
    const headers: Record<string, string> = {};
    if (this.opts.username && path !== '/v3/auth/authenticate')
      headers.authorization = await this.authToken();
    const failures: string[] = [];
    const n = this.endpoints.length;
    for (let i = 0; i < n; i++) {
      const idx = (this.current + i) % n;
      const url = new URL(path, this.endpoints[idx]);
      let res: { status: number; text: string };
      try {
        res = await this.post(url, payload, headers);
      } catch (e) {
        if (!(e instanceof NetworkFailure)) throw e;
        failures.push(`${url.origin}: ${e.message}`);
        continue;
      }
      if (res.status === 200) {
        this.current = idx;
        try {
          return JSON.parse(res.text) as T;
        } catch {
          throw new EtcdRequestError(
            `etcd POST ${url.href}: answer is not JSON: ${res.text.slice(0, 200)}`,
            res.status,
          );
        }
      }
      let detail = res.text.trim();
      let code: number | undefined;
      try {
        const err = JSON.parse(res.text) as { error?: string; message?: string; code?: number };
        detail = err.message || err.error || detail;
        code = err.code;
      } catch {
        // not JSON: keep the raw text
      }
      // 503 (no leader, member stopping, …): another member may serve it.
      if (res.status === 503) {
        failures.push(`${url.origin}: HTTP 503: ${detail}${gatewayHint(url, detail)}`);
        continue;
      }
      // 16 = gRPC UNAUTHENTICATED: the token expired; fetch a new one once.
      if (code === 16 && this.opts.username && authRetry && path !== '/v3/auth/authenticate') {
        this.token = undefined;
        return this.call<T>(path, body, false);
      }
      throw new EtcdRequestError(`etcd POST ${url.href}: HTTP ${res.status}: ${detail}`, res.status, code);
    }
    throw new EtcdUnavailableError(
      `etcd unreachable: POST ${path} failed on every endpoint (${failures.join('; ')})`,
    );
  }

  private authToken(): Promise<string> {
    this.token ??= this.call<{ token?: string }>('/v3/auth/authenticate', {
      name: this.opts.username,
      password: this.opts.password,
    }).then(
      (r) => {
        if (!r.token) throw new EtcdRequestError('etcd auth: authenticate returned no token', 200);
        return r.token;
      },
      (e: unknown) => {
        this.token = undefined;
        throw e;
      },
    );
    return this.token;
  }

  /** One request on one endpoint; NetworkFailure when no HTTP answer came back. */
  private async post(
    url: URL,
    payload: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; text: string }> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.postOnce(url, payload, headers);
      } catch (e) {
        // A kept-alive socket the server closed meanwhile: retry once on a fresh one.
        if (
          e instanceof NetworkFailure &&
          (e as NetworkFailure & { reused?: boolean }).reused &&
          attempt === 0
        )
          continue;
        throw e;
      }
    }
  }

  private postOnce(
    url: URL,
    payload: string,
    headers: Record<string, string>,
  ): Promise<{ status: number; text: string }> {
    const mod = url.protocol === 'https:' ? nodeHttps() : nodeHttp();
    return new Promise((resolve, reject) => {
      let settled = false;
      let dialTimer: NodeJS.Timeout | undefined;
      let timer: NodeJS.Timeout | undefined;
      const fail = (what: string, reused = false) => {
        if (settled) return;
        settled = true;
        clearTimeout(dialTimer);
        clearTimeout(timer);
        reject(Object.assign(new NetworkFailure(what), { reused }));
      };
      const req = mod.request(url, {
        method: 'POST',
        agent: this.agent,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': Buffer.byteLength(payload),
        },
      });
      timer = setTimeout(() => {
        fail(`no answer within ${this.requestTimeoutMs} ms`);
        req.destroy();
      }, this.requestTimeoutMs);
      req.on('socket', (socket) => {
        if (!socket.connecting) return; // a kept-alive connection
        dialTimer = setTimeout(() => {
          fail(`cannot connect within ${this.dialTimeoutMs} ms`);
          req.destroy();
        }, this.dialTimeoutMs);
        socket.once(url.protocol === 'https:' ? 'secureConnect' : 'connect', () => clearTimeout(dialTimer));
      });
      req.on('error', (e: NodeJS.ErrnoException) => {
        fail(e.message || String(e.code), req.reusedSocket && e.code === 'ECONNRESET');
      });
      req.on('response', (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('error', (e) => fail(`answer cut off: ${e.message}`));
        res.on('end', () => {
          if (settled) return;
          settled = true;
          clearTimeout(timer);
          clearTimeout(dialTimer);
          resolve({ status: res.statusCode ?? 0, text: Buffer.concat(chunks).toString('utf8') });
        });
      });
      req.end(payload);
    });
  }
}
