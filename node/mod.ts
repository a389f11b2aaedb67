/**
 * The node: its identity, the NodeOrchestrator (microshards, schemas, bulk writes), the
 * executor that runs client operations (alone: {@linkcode LocalExecutor}), the RouterActor in
 * front of it, and the database the HTTP API serves.
 *
 * @module
 */

export { acquireDataLock, DataDirectoryInUseError, type DataLock } from "./data_lock.ts";
export { loadNodeId } from "./identity.ts";
export { createLogger, type Logger, type LogLevel } from "./log.ts";
export { fnv1a } from "./hash.ts";
export { NodeOrchestrator, type OrchestratorOptions } from "./orchestrator.ts";
export type {
  ClusterIndexes,
  DroppedIndex,
  Executor,
  IndexConfig,
  IndexSchema,
  IndexSummary,
  Operation,
  RoutingDecision,
  WriteResult,
} from "./executor.ts";
export { LocalExecutor } from "./local_executor.ts";
export {
  parseBatchItem,
  type ParsedWrite,
  parseWrite,
  placementKey,
  type WriteCommand,
} from "./write_command.ts";
export {
  createRouterActor,
  type RouterMsg,
  type RouterRef,
  type RouterReplies,
  type RouterStats,
} from "./router_actor.ts";
export {
  type Database,
  DEFAULT_ROUTER_TIMEOUT_MS,
  RoutedDatabase,
  writeBatch,
} from "./database.ts";
export { type NodeStartOptions, type StartedNode, startNode } from "./start.ts";
export { NODE_ERRORS, NodeUnavailableError } from "./errors.ts";
export { prepareDataDir, StartupError } from "./startup_error.ts";
