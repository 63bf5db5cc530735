/**
 * CNI error codes (spec 1.0 §"Error"), plus Tricolor's own from 100 on.
 * The plugin prints `{"cniVersion","code","msg","details"}` on stdout and exits non-zero.
 */
export const CniCode = {
  IncompatibleVersion: 1,
  UnsupportedField: 2,
  UnknownContainer: 3,
  InvalidEnvironment: 4,
  IoFailure: 5,
  DecodeFailure: 6,
  InvalidNetworkConfig: 7,
  TryAgainLater: 11,
  PluginNotAvailable: 50,
  AddressesExhausted: 100,
  DatastoreUnavailable: 101,
  NetlinkFailure: 102,
  /** The Kubernetes API could not be reached or did not give the pod (nothing was allocated). */
  KubernetesUnavailable: 103,
  /** A malformed IPAM annotation on the pod or its namespace. */
  InvalidAnnotation: 104,
  /** The node has no Node resource (felix has not registered it, or `nodename` is wrong); nothing allocated. */
  NodeNotRegistered: 105,
  Internal: 199,
} as const;

export class CniError extends Error {
  override readonly name = 'CniError';
  constructor(
    readonly code: number,
    message: string,
    readonly details = '',
  ) {
    super(message);
  }

  toJSON(cniVersion: string): Record<string, unknown> {
    return { cniVersion, code: this.code, msg: this.message, details: this.details };
  }
}
