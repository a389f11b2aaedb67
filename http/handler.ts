/**
 * The HTTP API as a plain `(Request) => Promise<Response>` handler that tests can call
 * without a socket: cluster health, the metrics, the key endpoints (`keys.ts`) and the API of
 * `api.ts`, each behind its access rule (`auth.ts`).
 *
 * @module
 */

import { type ClusterAdmin, clusterRoutes } from "./cluster_routes.ts";
import { json } from "./errors.ts";
import { createRouter, type Route, route } from "./router.ts";
import { apiRoutes } from "./api.ts";
import { API_DOCS, ERROR_SCHEMA } from "./api_docs.ts";
import { consoleRoutes } from "./console/routes.ts";
import { openApiDocument } from "./openapi.ts";
import { VERSION } from "../version.ts";
import type { Database } from "../node/database.ts";
import { AccessControl, ROUTE_RULES, ruleKey, type SecurityOptions } from "./auth.ts";
import { keyRoutes } from "./keys.ts";
import { type Grant, MASTER_GRANT } from "../security/actions.ts";
import type { KeyStore } from "../security/key_store.ts";

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
  /** In a cluster: slots moving between nodes (status is yellow while any moves). */
  rebalancing?: { slots_moving: number; slots_total: number };
  /** In a cluster: membership counters. */
  telemetry?: Record<string, number>;
  /** With replication: anti-entropy's interval, sweep position and counters. */
  anti_entropy?: Record<string, number>;
}

/** What the handler needs from the node. */
export interface NodeApi {
  health(): Health | Promise<Health>;
  /** The database; without it only health is served. */
  readonly database?: Database;
  readonly nodeId?: string;
  /** `/_metrics` in the Prometheus text format. */
  metrics?(): Promise<string>;
  /** The membership routes' coordinator, in a cluster. */
  readonly cluster?: ClusterAdmin;
}

/** Default largest request body: 100 MB. */
export const DEFAULT_MAX_BODY_BYTES = 100 * 1024 * 1024;

/** Options of {@linkcode createHandler}. */
export interface HandlerOptions {
  log?: (error: unknown) => void;
  maxBodyBytes?: number;
  batchSize?: number;
  /** Longest NDJSON line accepted, in bytes. */
  maxLineBytes?: number;
  /** Access control (keys, allowed hosts); without it every request is served. */
  security?: SecurityOptions;
}

/**
 * Every route of the handler, before access control: health, metrics, the key endpoints (with
 * `keys`) and the API. The system test derives its table of routes from this.
 */
export function handlerRoutes(
  node: NodeApi,
  options: Omit<HandlerOptions, "security"> & {
    keys?: KeyStore;
    grantOf?: (request: Request) => Grant | null;
  } = {},
): Route[] {
  const routes = [
    route(
      "GET",
      "/_cluster/health",
      async () => json(await node.health()),
      API_DOCS["GET /_cluster/health"],
    ),
    ...consoleRoutes(),
    ...clusterRoutes(node.cluster, { nodeId: node.nodeId ?? "" }),
  ];
  const metrics = node.metrics;
  if (metrics !== undefined) {
    routes.push(route("GET", "/_metrics", async () =>
      new Response(await metrics(), {
        headers: { "content-type": "text/plain; version=0.0.4; charset=utf-8" },
      }), API_DOCS["GET /_metrics"]));
  }
  if (options.keys !== undefined) {
    routes.push(...keyRoutes(options.keys, { grantOf: options.grantOf ?? (() => null) }));
  }
  if (node.database !== undefined) {
    routes.push(...apiRoutes(node.database, {
      maxBodyBytes: options.maxBodyBytes ?? DEFAULT_MAX_BODY_BYTES,
      nodeId: node.nodeId ?? "",
      ...(options.batchSize === undefined ? {} : { batchSize: options.batchSize }),
      ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
    }));
  }
  let description: Record<string, unknown> | undefined;
  routes.push(route("GET", "/openapi.json", () => {
    description ??= openApiDocument(routes, { version: VERSION, errorSchema: ERROR_SCHEMA });
    return json(description);
  }, API_DOCS["GET /openapi.json"]));
  return routes;
}

/** Builds the API handler over a node; with `security`, every route goes through its rule. */
export function createHandler(
  node: NodeApi,
  options: HandlerOptions = {},
): (request: Request) => Promise<Response> {
  const routerOptions = options.log === undefined ? {} : { log: options.log };
  const { security, ...rest } = options;
  if (security === undefined) return createRouter(handlerRoutes(node, rest), routerOptions);
  const access = new AccessControl(security);
  const routes = handlerRoutes(node, {
    ...rest,
    keys: security.keys,
    grantOf: (request) => {
      const grant = access.grantOf(request);
      return grant === null || grant === MASTER_GRANT ? null : grant;
    },
  }).map((r) => access.guard(r));
  const open = routes.filter((r) => {
    const kind = ROUTE_RULES[ruleKey(r)]?.kind;
    return kind === "open" || kind === "public";
  });
  const router = createRouter(routes, routerOptions);
  return (request) => {
    const isOpen = open.some((r) => r.method === request.method && r.pattern.test(request.url));
    return Promise.resolve(access.authenticate(request, isOpen) ?? router(request));
  };
}
