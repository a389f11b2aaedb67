/**
 * The one error shape of the HTTP API: `{"error": "...", "details": "..."}` with a status.
 *
 * @module
 */

/** An error the HTTP layer answers with its own status and text. */
export class HttpError extends Error {
  override readonly name = "HttpError";
  /** The HTTP status. */
  readonly status: number;
  /** More about what went wrong, shown to the client. */
  readonly details: string;
  /** Extra headers (e.g. `Allow`, `Retry-After`). */
  readonly headers: Record<string, string>;
  constructor(status: number, error: string, details = "", headers: Record<string, string> = {}) {
    super(error);
    this.status = status;
    this.details = details;
    this.headers = headers;
  }
}

/**
 * JSON answers shorter than this (in UTF-16 units, ~bytes) are sent uncompressed. The HTTP
 * server (`Deno.serveHttp`) brotli-compresses every answer over 64 bytes to a client that
 * accepts it — Deno's own `fetch` always does — which for a point read or a page of hits costs
 * more CPU than the bytes it saves on loopback or a LAN; `cache-control: no-transform` is what
 * turns it off for one answer. Larger answers (big pages) are still compressed.
 */
export const COMPRESS_MIN_CHARS = 16 * 1024;

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  const text = JSON.stringify(body);
  const small = text.length < COMPRESS_MIN_CHARS ? { "cache-control": "no-transform" } : {};
  return new Response(text, {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...small, ...headers },
  });
}

/** The error response for `error`; anything not an `HttpError` is a masked 500. */
export function errorResponse(error: unknown, log: (error: unknown) => void): Response {
  if (error instanceof HttpError) {
    return json({ error: error.message, details: error.details }, error.status, error.headers);
  }
  log(error);
  return json({ error: "Internal server error", details: "see the server log" }, 500);
}
