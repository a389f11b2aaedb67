/**
 * The closed set of actor runtime errors. Each has a stable `name` and carries data, and
 * each survives crossing a worker or network boundary: {@linkcode serializeError} turns
 * any thrown value into plain data and {@linkcode deserializeError} rebuilds it on the
 * other side as the same class (or, for errors outside this set, as an `Error` with the
 * original `name` and `message`).
 *
 * @module
 */

import type { ActorAddress } from "./types.ts";

function describe(address: ActorAddress): string {
  return `${address.name}@${address.node}`;
}

/** `tell` found the mailbox full; the message was not delivered. */
export class MailboxFullError extends Error {
  override readonly name = "MailboxFullError";
  /** The message that was not delivered. */
  readonly undelivered: unknown;
  /** The actor whose mailbox was full. */
  readonly address: ActorAddress;
  constructor(address: ActorAddress, undelivered: unknown, capacity: number) {
    super(`Cannot deliver to actor "${describe(address)}": mailbox full (capacity ${capacity})`);
    this.address = address;
    this.undelivered = undelivered;
  }
}

/** `ask` got no reply within its `timeoutMs`. */
export class AskTimeoutError extends Error {
  override readonly name = "AskTimeoutError";
  /** The timeout that elapsed. */
  readonly timeoutMs: number;
  constructor(address: ActorAddress, messageType: string, timeoutMs: number) {
    super(`Actor "${describe(address)}" did not reply to "${messageType}" within ${timeoutMs} ms`);
    this.timeoutMs = timeoutMs;
  }
}

/** The actor is stopped (or stopped before it handled the message). */
export class ActorStoppedError extends Error {
  override readonly name = "ActorStoppedError";
  constructor(address: ActorAddress, messageType?: string) {
    super(
      messageType === undefined
        ? `Actor "${describe(address)}" is stopped`
        : `Cannot deliver "${messageType}": actor "${describe(address)}" is stopped`,
    );
  }
}

/** The actor died while the message was in flight (its worker crashed, for example). */
export class ActorCrashedError extends Error {
  override readonly name = "ActorCrashedError";
  constructor(address: ActorAddress, reason: string) {
    super(`Actor "${describe(address)}" crashed: ${reason}`);
  }
}

/** No actor is registered under the name. */
export class ActorNotFoundError extends Error {
  override readonly name = "ActorNotFoundError";
  constructor(name: string) {
    super(`No actor is registered under the name "${name}"`);
  }
}

/** An actor is already registered under the name. */
export class DuplicateActorNameError extends Error {
  override readonly name = "DuplicateActorNameError";
  constructor(name: string) {
    super(`An actor is already registered under the name "${name}"`);
  }
}

/** A child exceeded its restart limit and its failure was escalated to its parent. */
export class EscalatedFailureError extends Error {
  override readonly name = "EscalatedFailureError";
  /** The child that failed. */
  readonly child: ActorAddress;
  constructor(child: ActorAddress, reason: string) {
    super(`Actor "${describe(child)}" exceeded its restart limit: ${reason}`);
    this.child = child;
  }
}

/** An error as plain data, for crossing a worker or network boundary. */
export interface SerializedError {
  readonly name: string;
  readonly message: string;
  readonly stack?: string;
}

/** Turns any thrown value into plain data. */
export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    return error.stack === undefined
      ? { name: error.name, message: error.message }
      : { name: error.name, message: error.message, stack: error.stack };
  }
  return { name: "Error", message: String(error) };
}

/** The closed set of actor runtime errors. */
export const ACTOR_ERRORS = [
  MailboxFullError,
  AskTimeoutError,
  ActorStoppedError,
  ActorCrashedError,
  ActorNotFoundError,
  DuplicateActorNameError,
  EscalatedFailureError,
] as const;

/** A class of the closed error sets (its instances have a literal `name`). */
// deno-lint-ignore no-explicit-any
export type ErrorClass = { readonly prototype: Error; new (...args: any[]): Error };

/** Classes rebuilt by name: the runtime's own, plus those registered by the layers above. */
const KNOWN = new Map<string, ErrorClass>(ACTOR_ERRORS.map((c) => [c.name, c]));

/**
 * Registers error classes for {@linkcode deserializeError}, so errors of those classes come
 * back as the same class (by `name`) across a worker or node boundary. The HTTP layer's status
 * table registers every layer's closed set once (`http/status.ts`).
 */
export function registerErrorClasses(classes: readonly ErrorClass[]): void {
  for (const c of classes) KNOWN.set(c.name, c);
}

/**
 * Rebuilds a serialized error: one of the registered classes when the name is one of
 * them (so `instanceof` works across the boundary), else an `Error` with the original
 * name and message.
 */
export function deserializeError(data: SerializedError): Error {
  const known = KNOWN.get(data.name);
  const error: Error = known === undefined
    ? new Error(data.message)
    : Object.create(known.prototype) as Error;
  if (known !== undefined) {
    Object.defineProperty(error, "message", { value: data.message, writable: true });
  }
  Object.defineProperty(error, "name", { value: data.name, writable: true });
  if (data.stack !== undefined) {
    Object.defineProperty(error, "stack", { value: data.stack, writable: true });
  }
  return error;
}
