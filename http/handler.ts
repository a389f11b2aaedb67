/**
 * The HTTP API as a plain `(Request) => Promise<Response>` handler that tests can call
 * without a socket. The endpoints arrive issue by issue; today: cluster health.
 *
 * @module
 */

import { json } from "./errors.ts";
import { createRouter, route } from "./router.ts";
import { apiRoutes, type Database } from "./api.ts";

/** The answer of `GET /_cluster/health`. */
export interface Health {
  status: "green" | "yellow" | "red";
  node_id: string;
  node_name: string;
  cluster_name: string;
  cluster_enabled: boolean;
  total_nodes: number;
  connected_nodes: number;
  active_shards: number;
  total_indexes: number;
}

/** What the handler needs from the node. */
export interface NodeApi {
  health(): Health | Promise<Health>;
  /** The database; without it only health is served. */
  readonly database?: Database;
  readonly nodeId?: string;
}

/** Default largest request body: 100 MB. */
export const DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024;

/** Builds the API handler over a node. */
export function createHandler(
  node: NodeApi,
  options: { log?: (error: unknown) => void; maxBodyBytes?: number; batchSize?: number } = {},
): (request: Request) => Promise<Response> {
  const routes = [route("GET", "/_cluster/health", async () => json(await node.health()))];
  if (node.database !== undefined) {
    routes.push(...apiRoutes(node.database, {
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      nodeId: node.nodeId ?? "",
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    }));
  }
  return createRouter(routes, options.log === undefined ? {} : { log: options.log });
}
