/** No address could be found: every eligible block is full or claimed by others. */
export class IpamExhaustedError extends Error {
  override readonly name = 'IpamExhaustedError';
}

/** Too many compare-and-swap conflicts in a row: the store is too contended (or something loops). */
export class IpamConflictError extends Error {
  override readonly name = 'IpamConflictError';
}

/** The request itself is wrong (bad handle, unknown pool, address in use...). */
export class IpamRequestError extends Error {
  override readonly name = 'IpamRequestError';
}

/** The node has no Node resource, and the request asked for one (`requireNode`). */
export class IpamNodeNotFoundError extends Error {
  override readonly name = 'IpamNodeNotFoundError';
}
