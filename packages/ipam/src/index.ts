export {
  AFFINITY_STATES,
  type AffinityEntry,
  type AffinityState,
  compareCidrText,
  decodeAffinity,
  encodeAffinity,
  ownedBlocksFromAffinities,
  parseAffinities,
} from '@tricolor/contract';
export * from './block.js';
export * from './check.js';
export * from './config.js';
export * from './errors.js';
export * from './handle.js';
export {
  type Allocation,
  type AssignIpRequest,
  type AutoAssignRequest,
  type AutoAssignResult,
  type BlockUsage,
  type HookInfo,
  type HookPoint,
  Ipam,
  type IpamOptions,
  type IpamUsage,
  type PoolUsage,
  parseHostIp,
  type ReleaseAffinitiesResult,
  type ReleasedAddress,
  type RepairResult,
} from './ipam.js';
export * from './pool-blocks.js';
export * from './pools.js';
