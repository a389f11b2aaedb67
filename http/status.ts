/**
 * The one table from error to HTTP status, typed against the closed error sets of every
 * layer: renaming or adding an error class without giving it a status does not compile
 * (`satisfies Record<ErrorName, number>`), so no known error silently becomes a 500. The same
 * list is registered for deserialization, so errors from shard workers and other nodes come
 * back as their own classes.
 *
 * @module
 */

import { ACTOR_ERRORS, registerErrorClasses } from "../actors/errors.ts";
import { CLUSTER_ERRORS } from "../cluster/errors.ts";
import { NODE_ERRORS } from "../node/errors.ts";
import { QUERY_ERRORS } from "../query/errors.ts";
import { STORAGE_ERRORS } from "../storage/errors.ts";
import { SchemaError } from "../storage/schema.ts";
import { HttpError } from "./errors.ts";

/** Every error class a request can meet, by layer. */
export const KNOWN_ERRORS = [
  ...ACTOR_ERRORS,
  ...STORAGE_ERRORS,
  SchemaError,
  ...QUERY_ERRORS,
  ...NODE_ERRORS,
  ...CLUSTER_ERRORS,
] as const;

/** The names of the known errors. */
export type ErrorName = InstanceType<(typeof KNOWN_ERRORS)[number]>["name"];

/** The status each known error answers with. */
export const STATUS_BY_NAME = {
  InvalidInputError: 400,
  QueryError: 400,
  SchemaError: 400,
  IndexNotFoundError: 404,
  DocumentTooLargeError: 413,
  MemoryLimitError: 503,
  MailboxFullError: 503,
  AskTimeoutError: 503,
  ActorStoppedError: 503,
  ActorCrashedError: 503,
  NodeUnavailableError: 503,
  IndexBusyError: 503,
  QuorumNotReachedError: 503,
  // Another node refused this one's request (not yet admitted) or its frame: try again.
  PeerRefusedError: 503,
  MalformedFrameError: 503,
  // A membership change refused (removing a live node) / a node id that is not a member.
  MembershipRefusedError: 409,
  UnknownNodeError: 404,
  StorageUnavailableError: 507,
  // A shard stopped a search past its deadline (the client is usually answered 408 first).
  SearchTimeoutError: 408,
  // Programmer errors: answered as 500 (masked), logged in full.
  AssertionError: 500,
  ActorNotFoundError: 500,
  DuplicateActorNameError: 500,
  EscalatedFailureError: 500,
} as const satisfies Record<ErrorName, number>;

registerErrorClasses(KNOWN_ERRORS);

const TITLES: Readonly<Record<number, string>> = {
  400: "Bad request",
  404: "Not found",
  408: "Request timeout",
  409: "Conflict",
  413: "Payload too large",
  503: "Service unavailable",
  507: "Insufficient storage",
};

/** The status of an error by its name; 500 for anything unknown. */
export function statusOf(error: { readonly name: string }): number {
  return (STATUS_BY_NAME as Readonly<Record<string, number>>)[error.name] ?? 500;
}

/** Turns a known error (by name) into an `HttpError`; others pass through (500, masked). */
export function toHttpError(error: { name: string; message: string }): Error {
  const status = statusOf(error);
  if (status === 500) return error as Error;
  const headers: Record<string, string> = status === 503 ? { "retry-after": "1" } : {};
  return new HttpError(status, TITLES[status] ?? "Error", error.message, headers);
}
