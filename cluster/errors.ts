/**
 * Errors of the cluster layer. Each has a stable `name`, so it survives crossing a node
 * boundary (rebuilt by name) and the HTTP layer maps it to a status.
 *
 * @module
 */

/** The node that owns the data (or was asked) is not connected: answered with 503. */
export class NodeUnavailableError extends Error {
  override readonly name = "NodeUnavailableError";
  /** The node that could not be reached. */
  readonly node: string;
  constructor(node: string, reason: string, name?: string) {
    super(`Node ${name === undefined ? node : `${name} (${node})`} is unavailable: ${reason}`);
    this.node = node;
  }
}
