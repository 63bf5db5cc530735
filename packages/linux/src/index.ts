export { follow } from './follow.js';
export { type IpOptions, ip, ipBatch, ipJson, ipJsonEach, jsonArraySplitter } from './ip.js';
export { linkExists } from './links.js';
export {
  eachRoute,
  type KernelRoute,
  type NextHop,
  normalizeRoute,
  type RouteQuery,
  readRoutes,
  routeGet,
} from './routes.js';
export { CommandError, lineSplitter, type RunOptions, type RunResult, run } from './run.js';
export { readSysctl, readSysctlAsync, sysctlPath, writeSysctl } from './sysctl.js';
