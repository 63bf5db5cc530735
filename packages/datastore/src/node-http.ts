/**
 * node:http and node:https for short-lived processes (the CNI plugin: one per ADD). Imported
 * as ES modules, their facades read every export, and one of node:http's loads undici (the
 * fetch implementation): about 35 ms of a process that lives 300. Through require, only what
 * is used is loaded.
 */
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);

export const http = require('node:http') as typeof import('node:http');
export const https = require('node:https') as typeof import('node:https');
