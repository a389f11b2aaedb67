/**
 * The errors of the database interface: a small closed set, rebuilt by the HTTP client from a
 * server's status and `{error, details}` answer, and thrown as the same classes by an embedded
 * database. Each has a stable `name` and carries the HTTP `status` it stands for.
 *
 * | class | status |
 * | --- | --- |
 * | `BadRequestError` | 400, 405, 408, 413, 415 and other 4xx |
 * | `UnauthorizedError` | 401 |
 * | `ForbiddenError` | 403 |
 * | `NotFoundError` | 404 |
 * | `UnavailableError` | 503 (with `retryAfterMs` from `Retry-After`) |
 * | `StorageFullError` | 507 |
 * | `ServerError` | 500 and anything else |
 * | `ConnectionError` | no answer (refused, reset, aborted, bad TLS) |
 * | `DatabaseClosedError` | a call after `close()` |
 *
 * @module
 */

/** The base of every error the database interface throws. */
export abstract class DatabaseError extends Error {
  /** The HTTP status this error stands for (0 when there was no answer). */
  readonly status: number;
  /** The server's `details`: what exactly went wrong. */
  readonly details: string;
  /** Builds the error; `message` gets `: details` appended when there are details. */
  constructor(message: string, options: { status: number; details?: string; cause?: unknown }) {
    super(
      options.details ? `${message}: ${options.details}` : message,
      options.cause === undefined ? {} : { cause: options.cause },
    );
    this.status = options.status;
    this.details = options.details ?? "";
  }
}

/** The request was refused as malformed or unacceptable (400 and most other 4xx). */
export class BadRequestError extends DatabaseError {
  /** The stable name of this error class. */
  override readonly name = "BadRequestError";
}

/** No valid API key was given (401). */
export class UnauthorizedError extends DatabaseError {
  /** The stable name of this error class. */
  override readonly name = "UnauthorizedError";
}

/** The API key may not do this (403). */
export class ForbiddenError extends DatabaseError {
  /** The stable name of this error class. */
  override readonly name = "ForbiddenError";
}

/** The index or document does not exist (404). */
export class NotFoundError extends DatabaseError {
  /** The stable name of this error class. */
  override readonly name = "NotFoundError";
}

/** The database is overloaded or a node is down (503); retry after `retryAfterMs`. */
export class UnavailableError extends DatabaseError {
  /** The stable name of this error class. */
  override readonly name = "UnavailableError";
  /** How long the server asked to wait before retrying, in milliseconds. */
  readonly retryAfterMs: number;
  /** Builds the error with the wait the server asked for. */
  constructor(
    message: string,
    options: { status: number; details?: string; retryAfterMs?: number; cause?: unknown },
  ) {
    super(message, options);
    this.retryAfterMs = options.retryAfterMs ?? 1_000;
  }
}

/** The disk is full: the write was not stored (507). */
export class StorageFullError extends DatabaseError {
  /** The stable name of this error class. */
  override readonly name = "StorageFullError";
}

/** The server failed unexpectedly (500 or an unknown status). */
export class ServerError extends DatabaseError {
  /** The stable name of this error class. */
  override readonly name = "ServerError";
}

/** The server could not be reached, or the request was aborted. */
export class ConnectionError extends DatabaseError {
  /** The stable name of this error class. */
  override readonly name = "ConnectionError";
}

/** The database was closed; nothing more can be asked of it. */
export class DatabaseClosedError extends DatabaseError {
  /** The stable name of this error class. */
  override readonly name = "DatabaseClosedError";
}

/** The names of the closed set. */
export type DatabaseErrorName =
  | "BadRequestError"
  | "UnauthorizedError"
  | "ForbiddenError"
  | "NotFoundError"
  | "UnavailableError"
  | "StorageFullError"
  | "ServerError"
  | "ConnectionError"
  | "DatabaseClosedError";

/** Reads `Retry-After` (seconds or an HTTP date) as milliseconds. */
export function retryAfterMs(header: string | null, nowMs: number = Date.now()): number {
  if (header === null || header.trim() === "") return 1_000;
  const seconds = Number(header);
  if (Number.isFinite(seconds) && seconds >= 0) return Math.round(seconds * 1_000);
  const at = Date.parse(header);
  return Number.isNaN(at) ? 1_000 : Math.max(0, at - nowMs);
}

/** Rebuilds the error of a failed answer from its status, body and `Retry-After` header. */
export function errorFromAnswer(
  status: number,
  body: unknown,
  retryAfter: string | null = null,
): DatabaseError {
  const answer = (typeof body === "object" && body !== null ? body : {}) as Record<
    string,
    unknown
  >;
  const message = typeof answer.error === "string" ? answer.error : `HTTP ${status}`;
  const details = typeof answer.details === "string" ? answer.details : "";
  const options = { status, details };
  switch (status) {
    case 401:
      return new UnauthorizedError(message, options);
    case 403:
      return new ForbiddenError(message, options);
    case 404:
      return new NotFoundError(message, options);
    case 503:
      return new UnavailableError(message, { ...options, retryAfterMs: retryAfterMs(retryAfter) });
    case 507:
      return new StorageFullError(message, options);
  }
  if (status >= 400 && status < 500) return new BadRequestError(message, options);
  return new ServerError(message, options);
}
