/**
 * Starting a node's actors: the NodeOrchestrator (which spawns the microshard workers), the
 * executor over it (alone: {@linkcode LocalExecutor}; in a cluster, the one the caller
 * builds), and the RouterActor in front; the HTTP API is served over the router.
 *
 * @module
 */

import type { ActorSystem } from "../actors/system.ts";
import type { SearchLimits } from "../query/search.ts";
import { type Database, RoutedDatabase } from "./database.ts";
import type { Executor } from "./executor.ts";
import { LocalExecutor } from "./local_executor.ts";
import { NodeOrchestrator, type OrchestratorOptions } from "./orchestrator.ts";
import {
  createRouterActor,
  type RouterMsg,
  type RouterRef,
  type RouterReplies,
} from "./router_actor.ts";

/** Messages the router's mailbox holds. */
const ROUTER_MAILBOX_CAPACITY = 16_384;

/** A running node. */
export interface StartedNode {
  readonly orchestrator: NodeOrchestrator;
  readonly executor: Executor;
  readonly router: RouterRef;
  /** The database the HTTP API serves (every operation goes through the router). */
  readonly database: RoutedDatabase & Database;
}

/** Options of {@linkcode startNode}. */
export interface NodeStartOptions extends OrchestratorOptions {
  readonly nodeId: string;
  readonly routerTimeoutMs?: number;
  readonly searchLimits?: SearchLimits;
  /** In a cluster: builds the executor over the orchestrator (alone: a LocalExecutor). */
  readonly executor?: (orchestrator: NodeOrchestrator, limits: SearchLimits) => Executor;
}

/** Starts the orchestrator and the router in `system`; `system.shutdown()` stops both. */
export async function startNode(
  system: ActorSystem,
  options: NodeStartOptions,
): Promise<StartedNode> {
  const orchestrator = await NodeOrchestrator.start(system, {
    ...options,
    stampTag: options.stampTag ?? options.nodeId,
  });
  const limits = options.searchLimits ?? {};
  const executor = options.executor?.(orchestrator, limits) ??
    new LocalExecutor(orchestrator, { self: options.nodeId, limits });
  const router = system.spawn<RouterMsg, RouterReplies>(
    () => createRouterActor(executor),
    {
      name: "router",
      mailboxCapacity: ROUTER_MAILBOX_CAPACITY,
      supervision: { policy: "permanent" },
    },
  );
  const database = new RoutedDatabase(
    router,
    orchestrator,
    options.routerTimeoutMs === undefined ? {} : { timeoutMs: options.routerTimeoutMs },
  );
  return { orchestrator, executor, router, database };
}
