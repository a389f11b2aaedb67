/**
 * Method + `URLPattern` routing to handlers, with 404 for unknown paths and 405 (with
 * `Allow`) for known paths under another method.
 *
 * @module
 */

import { errorResponse, HttpError } from "./errors.ts";
import type { RouteDoc } from "./openapi.ts";

/** A handler gets the request and the pattern's named groups. */
export type RouteHandler = (
  request: Request,
  params: Record<string, string | undefined>,
) => Response | Promise<Response>;

/** One route. */
export interface Route {
  /** The HTTP method it answers. */
  readonly method: string;
  /** The pathname pattern, with `:name` groups. */
  readonly pattern: URLPattern;
  /** What answers it. */
  readonly handler: RouteHandler;
  /** What the OpenAPI description says of it. */
  readonly doc?: RouteDoc;
}

/**
 * Builds a route from a method and a pathname pattern such as `/api/:index/_config`, and what the
 * OpenAPI description says of it.
 */
export function route(
  method: string,
  pathname: string,
  handler: RouteHandler,
  doc?: RouteDoc,
): Route {
  return {
    method,
    pattern: new URLPattern({ pathname }),
    handler,
    ...(doc === undefined ? {} : { doc }),
  };
}

/** Turns routes into one `(Request) => Promise<Response>` handler. */
export function createRouter(
  routes: readonly Route[],
  options: { log?: (error: unknown) => void } = {},
): (request: Request) => Promise<Response> {
  const log = options.log ?? ((error: unknown) => console.error("request failed:", error));
  return async (request) => {
    try {
      const allowed: string[] = [];
      for (const candidate of routes) {
        const match = candidate.pattern.exec(request.url);
        if (match === null) continue;
        if (candidate.method !== request.method) {
          allowed.push(candidate.method);
          continue;
        }
        return await candidate.handler(request, match.pathname.groups);
      }
      const path = new URL(request.url).pathname;
      if (allowed.length > 0) {
        throw new HttpError(405, "Method not allowed", `${request.method} ${path}`, {
          allow: allowed.join(", "),
        });
      }
      throw new HttpError(404, "Not found", `No route for ${request.method} ${path}`);
    } catch (error) {
      return errorResponse(error, log);
    }
  };
}
