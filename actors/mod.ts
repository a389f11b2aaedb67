/**
 * The typed actor runtime: actors with bounded mailboxes, ask/tell, supervision and
 * restart, a registry, and one `ActorRef` interface for actors in this isolate and in
 * Web Workers.
 *
 * @module
 */

export type {
  Actor,
  ActorAddress,
  ActorContext,
  ActorFactory,
  ActorRef,
  AskOptions,
  ChildSpawner,
  Detached,
  ErrorDirective,
  Message,
  ReplyMap,
  ReplyOf,
  RestartPolicy,
  SpawnOptions,
  Supervision,
  Taken,
} from "./types.ts";
export { DEFAULT_ASK_TIMEOUT_MS, DEFAULT_MAILBOX_CAPACITY, DEFAULT_SUPERVISION } from "./types.ts";
export {
  ACTOR_ERRORS,
  ActorCrashedError,
  ActorNotFoundError,
  ActorStoppedError,
  AskTimeoutError,
  deserializeError,
  DuplicateActorNameError,
  type ErrorClass,
  EscalatedFailureError,
  MailboxFullError,
  registerErrorClasses,
  type SerializedError,
  serializeError,
} from "./errors.ts";
export { type Handlers, receiveBy } from "./handlers.ts";
export { ActorSystem, type ActorSystemOptions, DEFAULT_STOP_TIMEOUT_MS } from "./system.ts";
export type { WorkerSpawnOptions } from "./worker_ref.ts";
export { Registry } from "./registry.ts";
export { type Decision, type ExitReason, resolveSupervision, Supervisor } from "./supervision.ts";
export { Mailbox } from "./mailbox.ts";
export { lowerThreadPriority, MAX_NICENESS, threadId, threadNiceness } from "./thread_priority.ts";
