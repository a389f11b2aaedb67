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

/** A JSON response. */
export function json(body: unknown, status = 200, headers: Record<string, string> = {}): Response {
  return new Response(JSON.stringify(body), {
    status,
    headers: { "content-type": "application/json; charset=utf-8", ...headers },
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
