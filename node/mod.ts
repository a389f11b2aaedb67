/**
 * The node: its identity, the NodeOrchestrator (microshards, schemas, bulk writes), the
 * RouterActor in front of it, and the database the HTTP API serves.
 *
 * @module
 */

export { acquireDataLock, DataDirectoryInUseError, type DataLock } from "./data_lock.ts";
export { loadNodeId } from "./identity.ts";
export { createLogger, type Logger, type LogLevel } from "./log.ts";
export {
  type ClientWrite,
  fnv1a,
  type IndexSummary,
  NodeOrchestrator,
  type OrchestratorOptions,
} from "./orchestrator.ts";
export {
  createRouterActor,
  decide,
  type IndexConfig,
  type RouterMsg,
  type RouterRef,
  type RouterReplies,
  type RouterStats,
  type RoutingDecision,
} from "./router_actor.ts";
export { DEFAULT_ROUTER_TIMEOUT_MS, RoutedDatabase } from "./routed_database.ts";
export { type StartedNode, startNode } from "./start.ts";
export { prepareDataDir, StartupError } from "./startup_error.ts";
