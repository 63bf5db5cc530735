export { BatchError, BatchSession } from './batch-session.js';
export { follow } from './follow.js';
export {
  DumpInterruptedError,
  type IpOptions,
  ip,
  ipBatch,
  ipJson,
  ipJsonEach,
  jsonArraySplitter,
  rereadIfInterrupted,
} from './ip.js';
export { linkExists, linkNames } from './links.js';
export { parseRouteEvents, type RouteEvent, RouteEventParser, watchRoutes } from './route-events.js';
export {
  eachRoute,
  type KernelRoute,
  type NextHop,
  normalizeRoute,
  type RouteQuery,
  readRoutes,
} from './routes.js';
export { CommandError, lineSplitter, type Runner, type RunOptions, type RunResult, run } from './run.js';
export { Spawner } from './spawner.js';
export { readSysctl, readSysctlAsync, sysctlPath, writeSysctl } from './sysctl.js';
