/**
 * The plugin's only contact with the Kubernetes API: GETs of its pod and the pod's namespace,
 * issued together over one keep-alive connection, with node:https and a kubeconfig the
 * installer wrote (JSON). No client library: the plugin is a per-pod process and its start-up
 * time is paid on every ADD.
 */
import { readFileSync } from 'node:fs';
import type { Agent as HttpAgent } from 'node:http';
import { nodeHttp, nodeHttps } from '@tricolor/datastore';
import type { NamespaceJson, PodJson } from './pod.js';

export interface KubeAccess {
  server: string;
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  token?: string;
  insecure: boolean;
}

export class KubeconfigError extends Error {}
/** The API server could not be reached, or answered with an error. */
export class KubeApiError extends Error {
  constructor(
    message: string,
    readonly status?: number,
  ) {
    super(message);
  }
}

interface Named<T> {
  name: string;
  [k: string]: unknown;
  value?: T;
}

const pick = <T>(list: unknown, name: string, field: string, path: string): T => {
  const found = Array.isArray(list) ? (list as Named<T>[]).find((e) => e?.name === name) : undefined;
  if (!found || typeof found[field] !== 'object')
    throw new KubeconfigError(`kubeconfig ${path}: no ${field} named ${JSON.stringify(name)}`);
  return found[field] as T;
};

/** Reads the kubeconfig the installer wrote: current context's server, CA, token or client certificate. */
export function loadKubeconfig(path: string): KubeAccess {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new KubeconfigError(`kubeconfig ${path}: ${(e as Error).message}`);
  }
  let cfg: Record<string, unknown>;
  try {
    cfg = JSON.parse(text) as Record<string, unknown>;
  } catch {
    throw new KubeconfigError(
      `kubeconfig ${path}: not JSON (the plugin reads the JSON kubeconfig tricolor-cni install writes)`,
    );
  }
  const ctxName = cfg['current-context'];
  if (typeof ctxName !== 'string' || !ctxName)
    throw new KubeconfigError(`kubeconfig ${path}: current-context is not set`);
  const ctx = pick<{ cluster?: string; user?: string }>(cfg.contexts, ctxName, 'context', path);
  const cluster = pick<Record<string, unknown>>(cfg.clusters, ctx.cluster ?? '', 'cluster', path);
  const user = ctx.user ? pick<Record<string, unknown>>(cfg.users, ctx.user, 'user', path) : {};
  const server = cluster.server;
  if (typeof server !== 'string' || !/^https?:\/\//.test(server))
    throw new KubeconfigError(
      `kubeconfig ${path}: cluster.server ${JSON.stringify(server)} is not an http(s) URL`,
    );
  const file = (data: unknown, f: unknown, what: string): Buffer | undefined => {
    if (typeof data === 'string') return Buffer.from(data, 'base64');
    if (typeof f !== 'string') return undefined;
    try {
      return readFileSync(f);
    } catch (e) {
      throw new KubeconfigError(`kubeconfig ${path}: ${what} ${f}: ${(e as Error).message}`);
    }
  };
  let token = typeof user.token === 'string' ? user.token : undefined;
  if (!token && typeof user.tokenFile === 'string')
    token = file(undefined, user.tokenFile, 'tokenFile')?.toString('utf8').trim();
  return {
    server: server.replace(/\/+$/, ''),
    ca: file(
      cluster['certificate-authority-data'],
      cluster['certificate-authority'],
      'certificate-authority',
    ),
    cert: file(user['client-certificate-data'], user['client-certificate'], 'client-certificate'),
    key: file(user['client-key-data'], user['client-key'], 'client-key'),
    token,
    insecure: cluster['insecure-skip-tls-verify'] === true,
  };
}

const MAX_BODY = 4 * 1024 * 1024;

function get(access: KubeAccess, agent: HttpAgent, path: string, timeoutMs: number): Promise<unknown> {
  const url = `${access.server}${path}`;
  const https = url.startsWith('https:');
  return new Promise((resolve, reject) => {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (access.token) headers.authorization = `Bearer ${access.token}`;
    const req = (https ? nodeHttps() : nodeHttp()).request(
      url,
      { method: 'GET', headers, agent, timeout: timeoutMs },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        res.on('data', (c: Buffer) => {
          size += c.length;
          if (size > MAX_BODY) req.destroy(new Error(`answer larger than ${MAX_BODY} bytes`));
          else chunks.push(c);
        });
        res.on('end', () => {
          const body = Buffer.concat(chunks).toString('utf8');
          let json: unknown;
          try {
            json = JSON.parse(body);
          } catch {
            json = undefined;
          }
          if (res.statusCode === 200 && json !== undefined) return resolve(json);
          const msg = (json as { message?: string } | undefined)?.message ?? body.slice(0, 200);
          reject(new KubeApiError(`Kubernetes API: GET ${url}: ${res.statusCode} ${msg}`, res.statusCode));
        });
        res.on('error', (e) =>
          reject(new KubeApiError(`Kubernetes API unreachable: GET ${url}: ${e.message}`)),
        );
      },
    );
    req.on('timeout', () => req.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    req.on('error', (e) => reject(new KubeApiError(`Kubernetes API unreachable: GET ${url}: ${e.message}`)));
    req.end();
  });
}

/** The pod and its namespace, read concurrently over one keep-alive connection. */
export async function readPodAndNamespace(
  access: KubeAccess,
  namespace: string,
  pod: string,
  timeoutMs = 5000,
): Promise<{ pod: PodJson; namespace: NamespaceJson }> {
  const tls = { ca: access.ca, cert: access.cert, key: access.key, rejectUnauthorized: !access.insecure };
  const agent = access.server.startsWith('https:')
    ? new (nodeHttps().Agent)({ keepAlive: true, maxSockets: 1, ...tls })
    : new (nodeHttp().Agent)({ keepAlive: true, maxSockets: 1 });
  try {
    const enc = encodeURIComponent;
    const [p, n] = await Promise.all([
      get(access, agent, `/api/v1/namespaces/${enc(namespace)}/pods/${enc(pod)}`, timeoutMs),
      get(access, agent, `/api/v1/namespaces/${enc(namespace)}`, timeoutMs),
    ]);
    return { pod: p as PodJson, namespace: n as NamespaceJson };
  } finally {
    agent.destroy();
  }
}
