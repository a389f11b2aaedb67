/**
 * Errors of the cluster layer. Each has a stable `name`, so it survives crossing a node
 * boundary (rebuilt by name) and the HTTP layer maps it to a status. A node that cannot be
 * reached is the executor's `NodeUnavailableError` (defined in `node/`, which the router
 * knows without knowing the cluster).
 *
 * @module
 */

export { NodeUnavailableError } from "../node/errors.ts";
