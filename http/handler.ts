/**
 * The HTTP API as a plain `(Request) => Promise<Response>` handler that tests can call
 * without a socket. The endpoints arrive issue by issue; today: cluster health.
 *
 * @module
 */

import { json } from "./errors.ts";
import { createRouter, route } from "./router.ts";

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
}

/** Builds the API handler over a node. */
export function createHandler(
  node: NodeApi,
  options: { log?: (error: unknown) => void } = {},
): (request: Request) => Promise<Response> {
  return createRouter([
    route("GET", "/_cluster/health", async () => json(await node.health())),
  ], options);
}
