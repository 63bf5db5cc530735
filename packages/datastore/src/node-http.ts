/**
 * node:http and node:https, each loaded on first use, through require. Imported as ES
 * modules, their facades read every export, and one of node:http's loads undici (the fetch
 * implementation), which costs the CNI plugin (one process per ADD) its start-up time. Loaded
 * at import, node:https brings TLS and crypto into every process that imports the datastore
 * for its pure helpers (a standalone route reflector, an etcd over plain http): several MiB
 * of resident memory for code it never runs.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

let httpModule: typeof import('node:http') | undefined;
let httpsModule: typeof import('node:https') | undefined;

export function nodeHttp(): typeof import('node:http') {
  httpModule ??= require('node:http') as typeof import('node:http');
  return httpModule;
}

export function nodeHttps(): typeof import('node:https') {
  httpsModule ??= require('node:https') as typeof import('node:https');
  return httpsModule;
}
