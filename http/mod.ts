/**
 * The HTTP API: routing, the error shape, the handler and the server.
 *
 * @module
 */

export { createHandler, type Health, type NodeApi } from "./handler.ts";
export { errorResponse, HttpError, json } from "./errors.ts";
export { createRouter, type Route, route, type RouteHandler } from "./router.ts";
export { type RunningServer, startServer } from "./server.ts";
