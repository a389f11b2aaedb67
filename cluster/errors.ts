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

/** A peer sent a frame that is not what the protocol allows: its stream is closed. */
export class MalformedFrameError extends Error {
  override readonly name = "MalformedFrameError";
  constructor(reason: string) {
    super(`Malformed frame: ${reason}`);
  }
}

/** A peer asked for something it may not do (not admitted, or a lifecycle request). */
export class PeerRefusedError extends Error {
  override readonly name = "PeerRefusedError";
  /** The libp2p peer id that was refused. */
  readonly peer: string;
  constructor(peer: string, reason: string) {
    super(`Refused peer ${peer}: ${reason}`);
    this.peer = peer;
  }
}
