import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Etcd3, IOptions } from 'etcd3';
import { HttpKV, type HttpKVOptions } from './http-kv.js';
import { DEFAULT_PREFIX, normalizePrefix } from './keys.js';

const require = createRequire(import.meta.url);

/** How to reach etcd; from the environment by default (see configFromEnv). */
export interface EtcdConfig {
  endpoints: string[];
  caFile?: string;
  certFile?: string;
  keyFile?: string;
  username?: string;
  password?: string;
  /** Key prefix of this Tricolor cluster, default /tricolor/. */
  prefix: string;
  dialTimeoutMs?: number;
  /** Deadline of one request (not of a watch stream); default 10 s. */
  requestTimeoutMs?: number;
}

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
}

/**
 * Reads ETCD_ENDPOINTS (comma-separated URLs), ETCD_CA_CERT_FILE, ETCD_CERT_FILE,
 * ETCD_KEY_FILE, ETCD_USERNAME, ETCD_PASSWORD and TRICOLOR_DATASTORE_PREFIX; `overrides`
 * (e.g. from command-line flags) win. Errors name the variable at fault.
 */
export function configFromEnv(
  env: NodeJS.ProcessEnv = process.env,
  overrides: Partial<EtcdConfig> = {},
): EtcdConfig {
  const endpoints =
    overrides.endpoints ??
    (env.ETCD_ENDPOINTS ?? 'http://127.0.0.1:2379')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
  const cfg: EtcdConfig = {
    endpoints,
    caFile: overrides.caFile ?? (env.ETCD_CA_CERT_FILE || undefined),
    certFile: overrides.certFile ?? (env.ETCD_CERT_FILE || undefined),
    keyFile: overrides.keyFile ?? (env.ETCD_KEY_FILE || undefined),
    username: overrides.username ?? (env.ETCD_USERNAME || undefined),
    password: overrides.password ?? (env.ETCD_PASSWORD || undefined),
    prefix: normalizePrefix(overrides.prefix ?? (env.TRICOLOR_DATASTORE_PREFIX || DEFAULT_PREFIX)),
    dialTimeoutMs: overrides.dialTimeoutMs,
  };
  validateConfig(cfg);
  return cfg;
}

export function validateConfig(cfg: EtcdConfig): void {
  if (cfg.endpoints.length === 0) throw new ConfigError('ETCD_ENDPOINTS: no endpoint given');
  for (const e of cfg.endpoints) {
    let url: URL;
    try {
      url = new URL(e);
    } catch {
      throw new ConfigError(`ETCD_ENDPOINTS: ${JSON.stringify(e)} is not a URL like http://127.0.0.1:2379`);
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new ConfigError(`ETCD_ENDPOINTS: ${JSON.stringify(e)} must use http or https`);
    }
  }
  if (Boolean(cfg.certFile) !== Boolean(cfg.keyFile)) {
    throw new ConfigError('ETCD_CERT_FILE and ETCD_KEY_FILE must be given together');
  }
  const schemes = new Set(cfg.endpoints.map((e) => new URL(e).protocol));
  if (schemes.size > 1) throw new ConfigError('ETCD_ENDPOINTS: mixes http and https endpoints');
  if ((cfg.caFile || cfg.certFile) && !schemes.has('https:')) {
    throw new ConfigError('ETCD_ENDPOINTS: TLS files are set but the endpoints use http');
  }
  if (Boolean(cfg.username) !== Boolean(cfg.password)) {
    throw new ConfigError('ETCD_USERNAME and ETCD_PASSWORD must be given together');
  }
}

function readPem(path: string, variable: string): Buffer {
  try {
    return readFileSync(path);
  } catch (e) {
    throw new ConfigError(`${variable}: cannot read ${path}: ${(e as Error).message}`);
  }
}

/**
 * Opens an etcd3 (gRPC) client for the config (TLS and auth as configured).
 *
 * etcd3 (grpc-js + protobufjs parsing .proto files) takes 150–300 ms to load, so it is
 * loaded here, on first use, with a synchronous require (etcd3 is CommonJS) — never by
 * importing `@tricolor/datastore`. Processes on the HTTP transport (connectHttp) never pay.
 */
export function connectEtcd(cfg: EtcdConfig): Etcd3 {
  validateConfig(cfg);
  const { Etcd3 } = require('etcd3') as typeof import('etcd3');
  const tls = cfg.endpoints.some((e) => e.startsWith('https:'));
  const { ExponentialBackoff } = require('cockatiel') as typeof import('cockatiel');
  const opts: IOptions = {
    hosts: cfg.endpoints,
    dialTimeout: cfg.dialTimeoutMs ?? 5_000,
    // Unary calls get a deadline: without one, a call caught by a network partition can hang
    // forever (seen: a re-list after a partition never returned). Watch streams live on.
    defaultCallOptions: (context) =>
      context.isStream ? {} : { deadline: Date.now() + (cfg.requestTimeoutMs ?? 10_000) },
    faultHandling: {
      // The client's default watch backoff grows to 30 s: after a few seconds of partition a
      // node agent would stay blind for half a minute once etcd is back. Cap it at 2 s.
      // (etcd3 uses the factory the same way for its own default; its typing predates cockatiel 3.)
      watchBackoff: new ExponentialBackoff({ initialDelay: 100, maxDelay: 2_000 }) as unknown as NonNullable<
        NonNullable<IOptions['faultHandling']>['watchBackoff']
      >,
    },
  };
  if (tls) {
    // Without a CA file grpc falls back to the system roots (an empty buffer is not accepted).
    const ca = cfg.caFile ? readPem(cfg.caFile, 'ETCD_CA_CERT_FILE') : (undefined as unknown as Buffer);
    opts.credentials = { rootCertificate: ca };
    if (cfg.certFile && cfg.keyFile) {
      opts.credentials.certChain = readPem(cfg.certFile, 'ETCD_CERT_FILE');
      opts.credentials.privateKey = readPem(cfg.keyFile, 'ETCD_KEY_FILE');
    }
  }
  if (cfg.username && cfg.password) opts.auth = { username: cfg.username, password: cfg.password };
  return new Etcd3(opts);
}

/** A KeyValueStore over etcd's JSON gateway for the config (TLS and auth as configured); no gRPC. */
export function connectHttp(cfg: EtcdConfig, opts: Pick<HttpKVOptions, 'requestTimeoutMs'> = {}): HttpKV {
  validateConfig(cfg);
  const o: HttpKVOptions = {
    endpoints: cfg.endpoints,
    dialTimeoutMs: cfg.dialTimeoutMs ?? 5_000,
    requestTimeoutMs: opts.requestTimeoutMs,
  };
  if (cfg.caFile) o.ca = readPem(cfg.caFile, 'ETCD_CA_CERT_FILE');
  if (cfg.certFile && cfg.keyFile) {
    o.cert = readPem(cfg.certFile, 'ETCD_CERT_FILE');
    o.key = readPem(cfg.keyFile, 'ETCD_KEY_FILE');
  }
  if (cfg.username && cfg.password) {
    o.username = cfg.username;
    o.password = cfg.password;
  }
  return new HttpKV(o);
}
