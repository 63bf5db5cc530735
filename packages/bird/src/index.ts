export type { Channel } from './channels/channel.js';
export { KernelChannel } from './channels/kernel-channel.js';
export { Exporter, OutStore } from './channels/outbound.js';
export { PeerChannel } from './channels/peer-channel.js';
export { UpdateBuffer } from './channels/update-builder.js';
export { parseArgs, parsePeerFlag, splitHostPort, USAGE, wantsHelp } from './config/cli.js';
export { peersFromResources } from './config/etcd.js';
export { DEFAULT_SECRETS_DIR, readPasswordFile, resolvePassword } from './config/password.js';
export { BirdConfigError, DEFAULTS, type PeerSpec, type SpeakerConfig } from './config/types.js';
export { validateSpeakerConfig } from './config/validate.js';
export { query } from './control/client.js';
export { type EtcdModeOptions, runEtcdMode } from './etcd-mode.js';
export { type KernelChange, type KernelIo, LinuxKernel } from './kernel/io.js';
export { routeSpec } from './kernel/routes.js';
export { Metrics } from './metrics.js';
export { outboundPath } from './policy/export.js';
export { makeImportPolicy } from './policy/import.js';
export { exportedPrefixes, type PoolInfo } from './policy/originate.js';
export { AttrStore } from './rib/attrs.js';
export { compareCandidates, selectBest } from './rib/decision.js';
export { LocRib } from './rib/loc-rib.js';
export { PrefixTable, parseV4Prefix, v4String } from './rib/prefix-table.js';
export { mayAdvertise, reflect } from './rib/reflection.js';
export { applyUpdate } from './rib/update-in.js';
export { buildOpen, negotiate } from './session/capabilities.js';
export { DEFAULT_FSM_CONFIG, INITIAL_STATE, idleHoldSeconds, step } from './session/fsm.js';
export { Peer } from './session/peer.js';
export {
  connectSigned,
  linuxTcpMd5,
  setListenerPassword,
  type TcpMd5,
  TcpMd5Error,
  tcpMd5Unavailable,
} from './session/tcp-md5.js';
export { canonical, Speaker } from './speaker.js';
export { COMMANDS, commandHandler } from './views.js';
