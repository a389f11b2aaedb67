/**
 * The node: its identity and (with the node issue) the NodeOrchestrator and RouterActor.
 *
 * @module
 */

export { loadNodeId } from "./identity.ts";
