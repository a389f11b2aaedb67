/**
 * The HTTP API as a plain `(Request) => Promise<Response>` handler that tests can call
 * without a socket: cluster health, the metrics, and the API of `api.ts`.
 *
 * @module
 */

import { json } from "./errors.ts";
import { createRouter, route } from "./router.ts";
import { apiRoutes, type Database } from "./api.ts";
import { API_DOCS, ERROR_SCHEMA } from "./api_docs.ts";
import { consoleRoutes } from "./console/routes.ts";
import { openApiDocument } from "./openapi.ts";
import { VERSION } from "../version.ts";

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
  /** In a cluster: every member and whether it is connected. */
  nodes?: Array<
    { node_id: string; name: string; connected: boolean; http: string; peer_id: string }
  >;
  /** In a cluster: the member list kept on disk against the peers that answered at boot. */
  snapshot?: { checked: boolean; missing: string[]; unexpected: string[] };
  /** In a cluster: membership counters. */
  telemetry?: Record<string, number>;
}

/** What the handler needs from the node. */
export interface NodeApi {
  health(): Health | Promise<Health>;
  /** The database; without it only health is served. */
  readonly database?: Database;
  readonly nodeId?: string;
  /** `/_metrics` in the Prometheus text format. */
  metrics?(): Promise<string>;
}

/** Default largest request body: 100 MB. */
export const DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024;

/** Builds the API handler over a node. */
export function createHandler(
  node: NodeApi,
  options: { log?: (error: unknown) => void; maxBodyBytes?: number; batchSize?: number } = {},
): (request: Request) => Promise<Response> {
  const routes = [
    route(
      "GET",
      "/_cluster/health",
      async () => json(await node.health()),
      API_DOCS["GET /_cluster/health"],
    ),
    ...consoleRoutes(),
  ];
  const metrics = node.metrics;
  if (metrics !== undefined) {
    routes.push(route("GET", "/_metrics", async () =>
      new Response(await metrics(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      }), API_DOCS["GET /_metrics"]));
  }
  if (node.database !== undefined) {
    routes.push(...apiRoutes(node.database, {
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      nodeId: node.nodeId ?? "",
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
    }));
  }
  let description: Record<string, unknown> | undefined;
  routes.push(route("GET", "/openapi.json", () => {
    description ??= openApiDocument(routes, { version: VERSION, errorSchema: ERROR_SCHEMA });
    return json(description);
  }, API_DOCS["GET /openapi.json"]));
  return createRouter(routes, options.log === undefined ? {} : { log: options.log });
}
