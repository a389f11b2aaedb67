/**
 * Starting a node's actors: the NodeOrchestrator (which spawns the microshard workers)
 * and, in front of it, the RouterActor; the HTTP API is served over the router.
 *
 * @module
 */

import type { ActorSystem } from "../actors/system.ts";
import type { ClusterOps } from "../cluster/cluster_ops.ts";
import { NodeOrchestrator, type OrchestratorOptions } from "./orchestrator.ts";
import { RoutedDatabase } from "./routed_database.ts";
import {
  createRouterActor,
  type RouterMsg,
  type RouterRef,
  type RouterReplies,
} from "./router_actor.ts";

/** A running node. */
export interface StartedNode {
  readonly orchestrator: NodeOrchestrator;
  readonly router: RouterRef;
  /** The database the HTTP API serves (every operation goes through the router). */
  readonly database: RoutedDatabase;
}

/** Starts the orchestrator and the router in `system`; `system.shutdown()` stops both. */
export async function startNode(
  system: ActorSystem,
  options: OrchestratorOptions & {
    readonly nodeId: string;
    readonly routerTimeoutMs?: number;
    /** In a cluster: builds the router's remote execution over the orchestrator. */
    readonly cluster?: (orchestrator: NodeOrchestrator) => ClusterOps;
  },
): Promise<StartedNode> {
  const orchestrator = await NodeOrchestrator.start(system, options);
  const cluster = options.cluster?.(orchestrator);
  const router = system.spawn<RouterMsg, RouterReplies>(
    () =>
      createRouterActor(
        orchestrator,
        cluster === undefined ? { self: options.nodeId } : { self: options.nodeId, cluster },
      ),
    { name: "router", mailboxCapacity: 16_384, supervision: { policy: "permanent" } },
  );
  const database = new RoutedDatabase(
    router,
    orchestrator,
    options.routerTimeoutMs === undefined ? {} : { timeoutMs: options.routerTimeoutMs },
  );
  return { orchestrator, router, database };
}
