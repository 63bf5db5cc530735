export {
  BENCH_SMOKE_ENV,
  BENCH_SUMMARY_MARK,
  type BenchRow,
  type BenchTarget,
  benchSizes,
  benchSmoke,
  formatSummary,
  type JudgedRow,
  judge,
  printSummary,
  runBenchSmoke,
  type SmokeResult,
} from './bench.js';
export { LoopbackBridge } from './bridge.js';
export { Daemon } from './daemon.js';
export { EtcdMember, type EtcdMemberSpec, type EtcdOptions, EtcdServer, etcdClientEnv } from './etcd.js';
export { EtcdCluster, type EtcdClusterOptions, type MemberStatus } from './etcd-cluster.js';
export { hasCommand, type RunResult, run, runSync } from './exec.js';
export {
  FakeApiServer,
  type FakeApiServerOptions,
  type InjectedFailure,
  type RecordedRequest,
} from './kube/api-server.js';
export { labelsMatch, parseFieldSelector, parseLabelSelector } from './kube/selectors.js';
export { ApiError, KINDS as KUBE_KINDS, type KubeObject } from './kube/store.js';
export { connectVeth, Netns, ownedNamespaces, Segment, uniqueName } from './netns.js';
export { type Bird, type BirdOptions, startBird } from './peers/bird.js';
export { FRR_BGPD, type Frr, type FrrOptions, startFrr } from './peers/frr.js';
export { type Gobgp, type GobgpOptions, startGobgp } from './peers/gobgp.js';
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
export { waitFor } from './wait.js';
