export { LoopbackBridge } from './bridge.js';
export { type EtcdOptions, EtcdServer } from './etcd.js';
export { hasCommand, type RunResult, run, runSync } from './exec.js';
export { connectVeth, Netns, ownedNamespaces, Segment, uniqueName } from './netns.js';
export { freePort, waitForPort } from './ports.js';
export {
  isRoot,
  kernelHasLinkKind,
  requireCommands,
  requireLinkKind,
  requireRoot,
  type Skippable,
} from './skip.js';
export { makeTlsMaterial, type TlsMaterial } from './tls.js';
