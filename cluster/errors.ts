/**
 * Errors of the cluster layer. Each has a stable `name`, so it survives crossing a node
 * boundary (rebuilt by name) and the HTTP layer maps it to a status. A node that cannot be
 * reached is the executor's `NodeUnavailableError` (defined in `node/`, which the router
 * knows without knowing the cluster).
 *
 * @module
 */

export { NodeUnavailableError } from "../node/errors.ts";

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

/** A membership change that cannot be made now, and why (removing a live node, say). */
export class MembershipRefusedError extends Error {
  override readonly name = "MembershipRefusedError";
  constructor(reason: string) {
    super(`Cannot change the membership: ${reason}`);
  }
}

/** A node id that is not a member of this cluster. */
export class UnknownNodeError extends Error {
  override readonly name = "UnknownNodeError";
  constructor(nodeId: string) {
    super(`Node "${nodeId}" is not a member of this cluster`);
  }
}

/** The closed set of the cluster's own errors. */
export const CLUSTER_ERRORS = [
  MalformedFrameError,
  PeerRefusedError,
  MembershipRefusedError,
  UnknownNodeError,
] as const;
