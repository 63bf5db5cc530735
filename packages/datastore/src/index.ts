export {
  ConfigError,
  configFromEnv,
  connectEtcd,
  connectHttp,
  type EtcdConfig,
  validateConfig,
} from './connection.js';
export {
  AlreadyExistsError,
  ConflictError,
  type FieldIssue,
  NotFoundError,
  ValidationError,
} from './errors.js';
export {
  EtcdRequestError,
  EtcdUnavailableError,
  HttpKV,
  type HttpKVOptions,
  prefixRangeEnd,
} from './http-kv.js';
export {
  cidrFromKeyPart,
  cidrKeyPart,
  DEFAULT_PREFIX,
  felixStatusKey,
  ipamKeys,
  normalizePrefix,
  parseAffinityKey,
  resourceKey,
  resourcesPrefix,
} from './keys.js';
export {
  type GuardedWrite,
  type KeyValueStore,
  KV,
  ownEarlierWrite,
  type Transport,
  type Versioned,
  type WriteAllResult,
} from './kv.js';
export * from './net/ip.js';
export { nodeHttp, nodeHttps } from './node-http.js';
export * from './resources/bgp-password.js';
export * from './resources/bgpconfiguration.js';
export * from './resources/bgppeer.js';
export * from './resources/felixconfiguration.js';
export { DNS_SUBDOMAIN, Fields, LABEL_KEY, show } from './resources/fields.js';
export * from './resources/ippool.js';
export * from './resources/networkpolicy.js';
export * from './resources/node.js';
export * from './resources/profile.js';
export * from './resources/registry.js';
export { API_VERSION, KUBERNETES_METADATA, type Metadata, type Resource } from './resources/resource.js';
export * from './resources/rule.js';
export * from './resources/workloadendpoint.js';
export {
  compileSelector,
  type Labels,
  matches,
  parseSelector,
  SelectorError,
  type SelectorNode,
  selectorProblem,
} from './selector.js';
export { type ConnectOptions, Datastore } from './store.js';
export { Reflector, type ReflectorOptions, type WatchEvent } from './watch.js';
