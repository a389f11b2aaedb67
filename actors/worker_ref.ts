/**
 * The {@linkcode ActorRef} of an actor hosted in a Web Worker. The mailbox bound is kept
 * on this side: at most `mailboxCapacity` messages are accepted and not yet handled,
 * whether they wait here (while the worker starts or restarts) or in the worker.
 *
 * When the worker dies (an uncaught error), every ask in flight in it rejects at once
 * with `ActorCrashedError`, and the supervision decides: a restart builds a new worker
 * (after the backoff) and delivers the messages that were still waiting on this side;
 * past the restart limit the failure escalates to the parent.
 *
 * @module
 */

import { askThrough, type Parent, type Settler, type Stoppable } from "./actor_cell.ts";
import {
  ActorCrashedError,
  ActorStoppedError,
  deserializeError,
  EscalatedFailureError,
  MailboxFullError,
} from "./errors.ts";
import { resolveSupervision, Supervisor } from "./supervision.ts";
import {
  type ActorAddress,
  type ActorRef,
  type AskOptions,
  DEFAULT_ASK_TIMEOUT_MS,
  DEFAULT_MAILBOX_CAPACITY,
  type Message,
  type ReplyMap,
  type SpawnOptions,
} from "./types.ts";
import type { FromWorker, ToWorker } from "./_worker_protocol.ts";
import { SenderBound } from "./sender_bound.ts";

/** Options of spawning an actor in a worker. */
export interface WorkerSpawnOptions extends SpawnOptions {
  /** The module's export that builds the actor; `"createActor"` by default. */
  readonly exportName?: string;
  /** Passed to that function (structured-cloned into the worker). */
  readonly args?: unknown;
  /** How long the worker may take to load the module; 30 s by default. */
  readonly startTimeoutMs?: number;
}

/** Options the system adds when it spawns a worker actor. Internal. */
export interface WorkerRefOptions extends WorkerSpawnOptions {
  readonly address: ActorAddress;
  readonly parent: Parent;
  readonly onStopped?: () => void;
}

const HOST_URL = new URL("./_worker_host.ts", import.meta.url);

type Outgoing = Extract<ToWorker, { kind: "tell" | "ask" }>;

type State = "starting" | "running" | "restarting" | "stopping" | "stopped";

/** Spawns a worker-hosted actor; resolves once the worker has loaded the module. */
export async function spawnWorkerActor<M extends Message, R extends ReplyMap<M>>(
  moduleUrl: URL | string,
  options: WorkerRefOptions,
): Promise<WorkerActorRef<M, R>> {
  const ref = new WorkerActorRef<M, R>(String(moduleUrl), options);
  await ref.started;
  return ref;
}

/** A ref to an actor in a worker. Create it through `ActorSystem.spawnWorker`. */
export class WorkerActorRef<M extends Message, R extends ReplyMap<M>>
  implements ActorRef<M, R>, Stoppable {
  readonly address: ActorAddress;
  /** Resolves when the first worker is ready; rejects if it cannot load the actor. */
  readonly started: Promise<void>;
  #moduleUrl: string;
  #options: WorkerRefOptions;
  #bound: SenderBound;
  #supervisor: Supervisor;
  #state: State = "starting";
  #worker: Worker | undefined;
  #startTimer: ReturnType<typeof setTimeout> | undefined;
  #firstStart: PromiseWithResolvers<void> = Promise.withResolvers();
  #stopped: PromiseWithResolvers<void> = Promise.withResolvers();
  #buffer: Outgoing[] = [];
  #asks = new Map<number, Settler>();
  #postedAsks = new Set<number>();
  #postedTells = 0;
  #nextId = 0;
  #escalation: string | undefined;

  /** Starts the first worker. */
  constructor(moduleUrl: string, options: WorkerRefOptions) {
    this.#moduleUrl = moduleUrl;
    this.#options = options;
    this.address = options.address;
    // Like a local mailbox, `mailboxCapacity` counts the messages waiting; the one being
    // handled is counted here too until its reply arrives, hence the +1.
    this.#bound = new SenderBound(options.mailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY);
    this.#supervisor = new Supervisor(resolveSupervision(options.supervision));
    this.started = this.#firstStart.promise;
    this.#startWorker();
  }

  tell(msg: M): void {
    if (this.#state === "stopping" || this.#state === "stopped") {
      throw new ActorStoppedError(this.address, msg.type);
    }
    if (!this.#bound.tryReserve()) {
      throw new MailboxFullError(this.address, msg, this.#bound.capacity);
    }
    try {
      this.#send({ kind: "tell", msg });
    } catch (error) {
      this.#bound.release();
      throw error;
    }
  }

  ask<T extends M>(msg: T, options: AskOptions = {}): Promise<R[T["type"]]> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS;
    return askThrough<R[T["type"]]>(this.address, msg, timeoutMs, (settle, signal) => {
      if (this.#state === "stopping" || this.#state === "stopped") {
        throw new ActorStoppedError(this.address, msg.type);
      }
      // With room, post at once so that a later tell cannot overtake this ask.
      if (this.#bound.tryReserve()) {
        this.#postAsk(msg, settle);
        return Promise.resolve();
      }
      return this.#bound.waitForRoom(signal).then(() => this.#postAsk(msg, settle));
    });
  }

  #postAsk(msg: M, settle: Settler): void {
    const id = ++this.#nextId;
    this.#asks.set(id, settle);
    try {
      this.#send({ kind: "ask", id, msg });
    } catch (error) {
      this.#asks.delete(id);
      this.#bound.release();
      throw error;
    }
  }

  stop(): Promise<void> {
    if (this.#state === "stopping" || this.#state === "stopped") return this.#stopped.promise;
    const hadWorker = this.#state === "running";
    this.#state = "stopping";
    this.#dropWaiting();
    if (!hadWorker) {
      this.#finish();
    } else {
      this.#worker?.postMessage({ kind: "stop" } satisfies ToWorker);
      const timer = setTimeout(
        () => this.#finish(),
        this.#options.stopTimeoutMs ?? 5_000,
      );
      this.#stopped.promise.finally(() => clearTimeout(timer));
    }
    return this.#stopped.promise;
  }

  #send(message: Outgoing): void {
    if (this.#state !== "running" || this.#worker === undefined) {
      this.#buffer.push(message);
      return;
    }
    this.#worker.postMessage(message);
    if (message.kind === "ask") this.#postedAsks.add(message.id);
    else this.#postedTells++;
  }

  #startWorker(): void {
    const worker = new Worker(HOST_URL, { type: "module", name: this.address.name });
    this.#worker = worker;
    worker.onmessage = (event: MessageEvent<FromWorker>) => {
      if (this.#worker === worker) this.#receive(event.data);
    };
    worker.onerror = (event: ErrorEvent) => {
      event.preventDefault();
      if (this.#worker === worker) this.#crashed(event.message);
    };
    worker.onmessageerror = () => {
      if (this.#worker === worker) this.#crashed("a message from the worker could not be read");
    };
    this.#startTimer = setTimeout(
      () => this.#crashed("the worker did not load the actor in time"),
      this.#options.startTimeoutMs ?? 30_000,
    );
    worker.postMessage(
      {
        kind: "init",
        moduleUrl: this.#moduleUrl,
        exportName: this.#options.exportName ?? "createActor",
        args: this.#options.args,
        address: this.address,
        mailboxCapacity: this.#bound.limit,
        stopTimeoutMs: this.#options.stopTimeoutMs ?? 5_000,
      } satisfies ToWorker,
    );
  }

  #receive(message: FromWorker): void {
    switch (message.kind) {
      case "ready": {
        clearTimeout(this.#startTimer);
        if (this.#state !== "starting" && this.#state !== "restarting") return;
        this.#state = "running";
        const buffered = this.#buffer.splice(0);
        for (const outgoing of buffered) this.#send(outgoing);
        this.#firstStart.resolve();
        return;
      }
      case "initFailed": {
        clearTimeout(this.#startTimer);
        const error = deserializeError(message.error);
        this.#crashed(`cannot load the actor: ${error.message}`, error);
        return;
      }
      case "told":
        this.#postedTells = Math.max(0, this.#postedTells - 1);
        this.#bound.release();
        return;
      case "reply":
      case "replyError": {
        const settle = this.#asks.get(message.id);
        if (settle === undefined) return;
        this.#asks.delete(message.id);
        this.#postedAsks.delete(message.id);
        this.#bound.release();
        if (message.kind === "reply") settle.resolve(message.value);
        else settle.reject(deserializeError(message.error));
        return;
      }
      case "supervise": {
        const decision = this.#supervisor.decide(message.reason, message.detail);
        if (decision.action === "escalate") this.#escalation = decision.reason;
        this.#worker?.postMessage(
          { kind: "decision", id: message.id, decision } satisfies ToWorker,
        );
        return;
      }
      case "stopped":
        this.#finish();
        return;
    }
  }

  /** The worker died or could not start: fail what it held, then ask the supervision. */
  #crashed(reason: string, cause?: Error): void {
    clearTimeout(this.#startTimer);
    this.#worker?.terminate();
    this.#worker = undefined;
    const wasStarting = this.#state === "starting";
    const crash = new ActorCrashedError(this.address, reason);
    for (const id of this.#postedAsks) {
      const settle = this.#asks.get(id);
      this.#asks.delete(id);
      this.#bound.drop(1);
      settle?.reject(crash);
    }
    this.#postedAsks.clear();
    this.#bound.drop(this.#postedTells);
    this.#postedTells = 0;
    if (wasStarting || this.#state === "stopping" || this.#state === "stopped") {
      // A worker that never loaded the actor is a spawn error, not a failure to supervise.
      if (wasStarting) this.#firstStart.reject(cause ?? crash);
      this.#state = "stopping";
      this.#dropWaiting();
      this.#finish();
      return;
    }
    const decision = this.#supervisor.decide("failure", reason);
    if (decision.action === "restart") {
      this.#state = "restarting";
      setTimeout(() => {
        if (this.#state === "restarting") this.#startWorker();
      }, decision.delayMs);
      return;
    }
    if (decision.action === "escalate") this.#escalation = decision.reason;
    this.#state = "stopping";
    this.#dropWaiting();
    this.#finish();
  }

  /** Rejects what waits on this side: buffered messages and asks waiting for room. */
  #dropWaiting(): void {
    for (const outgoing of this.#buffer.splice(0)) {
      this.#bound.drop(1);
      if (outgoing.kind === "ask") {
        const settle = this.#asks.get(outgoing.id);
        this.#asks.delete(outgoing.id);
        settle?.reject(new ActorStoppedError(this.address, (outgoing.msg as Message).type));
      }
    }
    this.#bound.rejectWaiters(new ActorStoppedError(this.address));
  }

  #finish(): void {
    if (this.#state === "stopped") return;
    this.#state = "stopped";
    clearTimeout(this.#startTimer);
    this.#worker?.terminate();
    this.#worker = undefined;
    this.#dropWaiting();
    for (const settle of this.#asks.values()) settle.reject(new ActorStoppedError(this.address));
    this.#asks.clear();
    this.#postedAsks.clear();
    this.#bound.reset();
    this.#options.parent.childStopped(this);
    this.#options.onStopped?.();
    this.#stopped.resolve();
    if (this.#escalation !== undefined) {
      this.#options.parent.escalate(new EscalatedFailureError(this.address, this.#escalation));
    }
  }
}
