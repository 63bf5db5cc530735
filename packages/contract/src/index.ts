export {
  AFFINITY_STATES,
  type AffinityEntry,
  type AffinityState,
  compareCidrText,
  decodeAffinity,
  decodeAffinityEntry,
  encodeAffinity,
  ownedBlocksFromAffinities,
  ownsBlock,
  parseAffinities,
} from './affinity.js';
export {
  DEFAULT_INTERFACE_PREFIX,
  HOST_SIDE_MAC,
  HOST_SYSCTLS,
  POD_GATEWAY_V4,
  POD_GATEWAY_V6,
  RT_PROTO_BIRD,
  RT_PROTO_BIRD_NAME,
  RT_PROTO_FELIX,
  workloadSysctls,
} from './data-path.js';
export { collectProcessMetrics, EVENT_LOOP_SAMPLE_MS } from './process-metrics.js';
