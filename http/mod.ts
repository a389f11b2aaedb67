/**
 * The HTTP API: routing, the error shape, the handler and the server.
 *
 * @module
 */

export {
  createHandler,
  type HandlerOptions,
  handlerRoutes,
  type Health,
  type NodeApi,
} from "./handler.ts";
export {
  AccessControl,
  AuthMetrics,
  type RefusalReason,
  ROUTE_RULES,
  type RouteRule,
  ruleKey,
  type SecurityOptions,
} from "./auth.ts";
export { keyRoutes, MAX_KEY_REQUEST_BYTES } from "./keys.ts";
export { errorResponse, HttpError, json } from "./errors.ts";
export { createRouter, type Route, route, type RouteHandler } from "./router.ts";
export { type RunningServer, startServer } from "./server.ts";
