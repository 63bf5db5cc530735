export { type NodeConfig, NodeConfigError, nodeConfigFromEnv } from './config.js';
export { type DaemonName, DaemonStartError, NodeDaemon, type NodeDaemonOptions } from './node-daemon.js';
