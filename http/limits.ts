/**
 * Limits around every request: a concurrency bound (503 with `Retry-After`), a request
 * timeout (408), and CORS for the configured origins.
 *
 * @module
 */

import { errorResponse, HttpError } from "./errors.ts";

/** Options of {@linkcode withLimits}. */
export interface LimitOptions {
  /** Requests running at once; more are answered 503. */
  readonly maxConcurrentRequests: number;
  /** A request still running after this is answered 408. */
  readonly requestTimeoutMs: number;
  /** Origins allowed by CORS; `*` allows any. */
  readonly corsAllowedOrigins: readonly string[];
}

/** Wraps a handler with the limits. */
export function withLimits(
  handler: (request: Request) => Promise<Response>,
  options: LimitOptions,
): (request: Request) => Promise<Response> {
  let running = 0;
  const log = () => {};
  return async (request) => {
    const origin = request.headers.get("origin");
    const allowed = origin !== null &&
      (options.corsAllowedOrigins.includes("*") || options.corsAllowedOrigins.includes(origin));
    const cors = (response: Response) => {
      if (allowed) {
        response.headers.set(
          "access-control-allow-origin",
          options.corsAllowedOrigins.includes("*") ? "*" : origin!,
        );
        response.headers.set("vary", "origin");
      }
      return response;
    };
    if (request.method === "OPTIONS" && request.headers.has("access-control-request-method")) {
      const response = new Response(null, { status: allowed ? 204 : 403 });
      if (allowed) {
        response.headers.set("access-control-allow-methods", "GET, PUT, POST, DELETE");
        response.headers.set("access-control-allow-headers", "content-type");
        response.headers.set("access-control-max-age", "600");
      }
      return cors(response);
    }
    if (running >= options.maxConcurrentRequests) {
      return cors(errorResponse(
        new HttpError(
          503,
          "Service unavailable",
          `more than ${options.maxConcurrentRequests} requests at once`,
          {
            "retry-after": "1",
          },
        ),
        log,
      ));
    }
    running++;
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      const timeout = new Promise<Response>((resolve) => {
        timer = setTimeout(() =>
          resolve(errorResponse(
            new HttpError(
              408,
              "Request timeout",
              `the request took longer than ${options.requestTimeoutMs} ms`,
            ),
            log,
          )), options.requestTimeoutMs);
      });
      return cors(await Promise.race([handler(request), timeout]));
    } finally {
      clearTimeout(timer);
      running--;
    }
  };
}
