/**
 * Errors of the node layer: what an executor may fail with beyond storage's and the query
 * language's own. Each has a stable `name`, so it survives crossing a worker or node
 * boundary (rebuilt by name) and the HTTP layer maps it to a status (`http/status.ts`).
 *
 * @module
 */

/** The node that owns the data (or was asked) cannot be reached: answered with 503. */
export class NodeUnavailableError extends Error {
  override readonly name = "NodeUnavailableError";
  /** The node that could not be reached. */
  readonly node: string;
  constructor(node: string, reason: string, name?: string) {
    super(`Node ${name === undefined ? node : `${name} (${node})`} is unavailable: ${reason}`);
    this.node = node;
  }
}

/** The index cannot take writes for a moment (it is being reindexed): answered with 503. */
export class IndexBusyError extends Error {
  override readonly name = "IndexBusyError";
}

/**
 * A replicated write reached fewer replicas than its write quorum: answered with 503. It is
 * not undone: it may be present on the replicas that took it (and win there by its stamp).
 */
export class QuorumNotReachedError extends Error {
  override readonly name = "QuorumNotReachedError";
}

/** The closed set of node errors. */
export const NODE_ERRORS = [NodeUnavailableError, IndexBusyError, QuorumNotReachedError] as const;
