/**
 * The vocabulary of the actor runtime: messages, reply maps, actors, contexts and refs.
 *
 * An actor declares its messages as a discriminated union on `type` and, beside it, a
 * reply map from each `type` to the reply an `ask` of that message resolves to. `ask`
 * infers the reply type from the message literal:
 *
 * ```ts
 * type CounterMsg = { type: "inc"; by: number } | { type: "get" };
 * type CounterReplies = { inc: void; get: number };
 * // ref.ask({ type: "get" }) : Promise<number>
 * ```
 *
 * @module
 */

/** Every actor message is an object discriminated by its `type`. */
export interface Message {
  readonly type: string;
}

/** The reply map of a message union: one reply type per message `type`. */
export type ReplyMap<M extends Message> = { [K in M["type"]]: unknown };

/** The reply type that `ask(msg)` resolves to. */
export type ReplyOf<M extends Message, R extends ReplyMap<M>, T extends M> = R[T["type"]];

/**
 * The address of an actor: plain data that serializes as JSON or MessagePack.
 * `node` names the node (or worker) that hosts the actor, `name` the actor on it.
 */
export interface ActorAddress {
  readonly node: string;
  readonly name: string;
}

/** Options of {@linkcode ActorRef.ask}. */
export interface AskOptions {
  /** How long to wait for the reply, including time spent waiting for mailbox room. */
  readonly timeoutMs?: number;
}

/** Default time an `ask` waits for its reply. */
export const DEFAULT_ASK_TIMEOUT_MS = 5_000;

/** Default number of messages a mailbox holds. */
export const DEFAULT_MAILBOX_CAPACITY = 1_024;

/**
 * A reference to an actor, the same for an actor in this isolate, in a Web Worker or
 * (with the cluster) on another node.
 *
 * - `tell` delivers without a reply. It throws `MailboxFullError` (carrying the message)
 *   at once when the mailbox is full and `ActorStoppedError` when the actor is stopped.
 * - `ask` delivers and resolves with the reply. When the mailbox is full it waits for
 *   room, all within `timeoutMs`; then it rejects with `AskTimeoutError`. An error thrown
 *   by the handler rejects the ask with the same `name` and `message`.
 * - `stop` stops the actor; every pending ask is settled.
 */
export interface ActorRef<M extends Message, R extends ReplyMap<M>> {
  /** Where the actor lives; plain data. */
  readonly address: ActorAddress;
  /** Delivers `msg` without waiting for a reply. */
  tell(msg: M): void;
  /** Delivers `msg` and resolves with the actor's reply. */
  ask<T extends M>(msg: T, options?: AskOptions): Promise<R[T["type"]]>;
  /** Stops the actor and its children; resolves once it has stopped. */
  stop(): Promise<void>;
}

/**
 * What an actor's handler may do besides replying: know itself, stop itself, spawn
 * children, and take the run of queued messages behind the current one (for batching,
 * such as group commit).
 */
export interface ActorContext<M extends Message> {
  /** This actor's address. */
  readonly address: ActorAddress;
  /**
   * Asks the actor to stop normally after the current message. Pending asks are settled
   * with `ActorStoppedError`.
   */
  stop(): void;
  /**
   * Removes and returns the messages at the head of the mailbox, in order, while `accept`
   * holds for them, at most `max`. Each comes with a `reply` and `fail` to settle it
   * (for a `tell`, both do nothing). Order is kept: the run stops at the first message
   * that is not accepted.
   */
  takeWhile(accept: (msg: M) => boolean, max: number): Array<Taken<M>>;
  /** The system this actor runs in (spawn children through it with `parent`). */
  readonly children: ChildSpawner;
  /**
   * Hands the reply to the current message off to `work` and frees the actor for its next
   * message at once: return the result from `receive`. The ask settles when `work` does.
   * A failure of `work` reaches the asker only (it does not engage `onError` or
   * supervision). When the actor stops, it waits for detached work (up to the stop
   * timeout, after which the asks are settled with `ActorStoppedError`) before `onStop`.
   * For actors that route work elsewhere and must not serialize it (the RouterActor), or
   * that let reads run beside writes.
   */
  detach<T>(work: Promise<T>): Detached<T>;
}

/** A reply handed off to a promise by {@linkcode ActorContext.detach}. */
export interface Detached<T> {
  readonly detached: Promise<T>;
}

/** What a handler returns: the reply, or the work that will produce it. */
export type Reply<T> = T | Detached<T>;

/** A message taken out of the mailbox by {@linkcode ActorContext.takeWhile}. */
export interface Taken<M extends Message> {
  readonly msg: M;
  reply(value: unknown): void;
  fail(error: unknown): void;
}

/** Spawns children of the current actor: they stop when it stops or restarts. */
export interface ChildSpawner {
  spawn<M extends Message, R extends ReplyMap<M>>(
    factory: ActorFactory<M, R>,
    options?: SpawnOptions,
  ): ActorRef<M, R>;
}

/**
 * What an actor's `onError` hook decides after a handler threw (the asker has already
 * received the error):
 * - `"resume"` keeps the actor and its state and goes on with the next message;
 * - `"fail"` treats the actor as failed: its supervision decides to restart or stop it;
 * - `"stop"` stops it normally.
 */
export type ErrorDirective = "resume" | "fail" | "stop";

/**
 * An actor: a `receive` handler and optional lifecycle hooks. It handles one message at a
 * time, in arrival order.
 */
export interface Actor<M extends Message, R extends ReplyMap<M>> {
  /** Handles one message; the returned value is the reply to an `ask`. */
  receive(
    msg: M,
    ctx: ActorContext<M>,
  ): Reply<R[M["type"]]> | Promise<Reply<R[M["type"]]>>;
  /** Runs before the first message (and after every restart). Throwing fails the actor. */
  onStart?(ctx: ActorContext<M>): void | Promise<void>;
  /** Runs when the actor stops or before it is replaced by a restart. */
  onStop?(): void | Promise<void>;
  /** Decides what follows a handler error. Without it the actor resumes. */
  onError?(error: unknown, msg: M): ErrorDirective | Promise<ErrorDirective>;
}

/** Builds a fresh actor; a restart calls it again. */
export type ActorFactory<M extends Message, R extends ReplyMap<M>> = () => Actor<M, R>;

/** Restart policies, as in Erlang/OTP. */
export type RestartPolicy = "permanent" | "transient" | "never";

/**
 * Supervision of one actor, as data.
 *
 * | policy      | handler failure          | normal self-stop | `ref.stop()` |
 * | ----------- | ------------------------ | ---------------- | ------------ |
 * | `permanent` | restart (within limit)   | restart          | stop         |
 * | `transient` | restart (within limit)   | stop             | stop         |
 * | `never`     | stop, escalate to parent | stop             | stop         |
 *
 * More than `restartLimit.count` restarts within `restartLimit.withinMs` stop the actor
 * and escalate the failure to its parent. The n-th consecutive restart waits
 * `min(backoff.maxMs, backoff.initialMs * backoff.factor ** (n - 1))`.
 */
export interface Supervision {
  readonly policy: RestartPolicy;
  readonly restartLimit: { readonly count: number; readonly withinMs: number };
  readonly backoff: { readonly initialMs: number; readonly maxMs: number; readonly factor: number };
}

/** Options of spawning an actor. */
export interface SpawnOptions {
  /** Registry name; generated when absent. Duplicate names are rejected. */
  readonly name?: string;
  /** Messages the mailbox holds; {@linkcode DEFAULT_MAILBOX_CAPACITY} by default. */
  readonly mailboxCapacity?: number;
  /** Supervision; merged over the default (transient, 5 restarts in 10 s, no backoff). */
  readonly supervision?: Partial<Supervision>;
  /** How long `stop()` waits for a running handler before settling its ask anyway. */
  readonly stopTimeoutMs?: number;
}

/** Default supervision: restart on failure, at most 5 times within 10 s, no backoff. */
export const DEFAULT_SUPERVISION: Supervision = {
  policy: "transient",
  restartLimit: { count: 5, withinMs: 10_000 },
  backoff: { initialMs: 0, maxMs: 5_000, factor: 2 },
};
