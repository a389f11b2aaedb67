/**
 * The running form of one actor: its mailbox, its message loop, its lifecycle (start,
 * restart, stop) and its children. A cell is hosted either in the caller's isolate
 * (behind a {@linkcode LocalActorRef}) or inside a worker (behind a `WorkerActorRef`
 * on the other side); supervision decisions come from a callback so that the worker
 * host can ask the main isolate for them.
 *
 * @module
 */

import {
  ActorStoppedError,
  AskTimeoutError,
  EscalatedFailureError,
  MailboxFullError,
} from "./errors.ts";
import { INTERRUPTED, Mailbox, MailboxClosedError } from "./mailbox.ts";
import type { Decision, ExitReason } from "./supervision.ts";
import {
  type Actor,
  type ActorAddress,
  type ActorContext,
  type ActorFactory,
  type ActorRef,
  type AskOptions,
  type ChildSpawner,
  DEFAULT_ASK_TIMEOUT_MS,
  type Detached,
  type Message,
  type ReplyMap,
  type Taken,
} from "./types.ts";

/** The tokens `ctx.detach` handed out (so a reply that merely looks alike is not one). */
const DETACHED = new WeakSet<object>();

function isDetached(value: unknown): value is Detached<unknown> {
  return typeof value === "object" && value !== null && DETACHED.has(value);
}

/** A message in a mailbox; `settle` is absent for a `tell`. */
export interface Envelope<M extends Message> {
  readonly msg: M;
  readonly settle?: Settler;
  /** Called once the message was handled (or dropped); used to count tells in flight. */
  readonly onDone?: () => void;
}

/** Settles one ask exactly once. */
export interface Settler {
  readonly settled: boolean;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

/** Something a parent can stop: a child cell or a worker ref. */
export interface Stoppable {
  stop(): Promise<void>;
}

/** What a child needs of its parent. */
export interface Parent {
  /** Takes a new child: it stops when the parent stops or restarts. */
  adopt(child: Stoppable): void;
  /** The child stopped for good and leaves the parent's set. */
  childStopped(child: Stoppable): void;
  /** The child exceeded its restart limit; the parent fails (or the system reports). */
  escalate(error: EscalatedFailureError): void;
  /** Spawns children of this parent. */
  readonly spawner: ChildSpawner;
}

/** How a cell is configured by its host. */
export interface CellOptions<M extends Message, R extends ReplyMap<M>> {
  readonly address: ActorAddress;
  readonly factory: ActorFactory<M, R>;
  readonly mailboxCapacity: number;
  readonly stopTimeoutMs: number;
  readonly parent: Parent;
  /** Decides what follows an exit of the actor. */
  readonly supervise: (reason: ExitReason, detail: string) => Decision | Promise<Decision>;
  /** Builds the spawner the actor's context hands out for children of this cell. */
  readonly makeSpawner: (cell: ActorCell<M, R>) => ChildSpawner;
  /** Called once the cell has stopped for good. */
  readonly onStopped?: () => void;
  /** Where unexpected hook errors go. */
  readonly log?: (message: string, error: unknown) => void;
}

interface Exit {
  readonly reason: ExitReason;
  readonly detail: string;
}

function describeError(error: unknown): string {
  return error instanceof Error ? `${error.name}: ${error.message}` : String(error);
}

/** Creates a settler around a promise's resolve and reject, with an optional cleanup. */
export function makeSettler(
  resolve: (value: unknown) => void,
  reject: (error: unknown) => void,
  cleanup: () => void = () => {},
): Settler {
  let settled = false;
  return {
    get settled() {
      return settled;
    },
    resolve(value) {
      if (settled) return;
      settled = true;
      cleanup();
      resolve(value);
    },
    reject(error) {
      if (settled) return;
      settled = true;
      cleanup();
      reject(error);
    },
  };
}

/** One running actor. */
export class ActorCell<M extends Message, R extends ReplyMap<M>> implements Stoppable, Parent {
  readonly address: ActorAddress;
  readonly ref: LocalActorRef<M, R>;
  readonly spawner: ChildSpawner;
  #options: CellOptions<M, R>;
  #mailbox: Mailbox<Envelope<M>>;
  #actor: Actor<M, R> | undefined;
  #children = new Set<Stoppable>();
  #selfStop = false;
  #stopRequested = false;
  #failure: EscalatedFailureError | undefined;
  #current: Envelope<M> | undefined;
  #finished = false;
  #stopped: PromiseWithResolvers<void> = Promise.withResolvers();
  #wakeBackoff: (() => void) | undefined;
  #ctx: ActorContext<M>;
  #detached = new Set<{ settle: Settler | undefined; done: Promise<unknown> }>();

  /** Creates the cell and starts its loop. */
  constructor(options: CellOptions<M, R>) {
    this.#options = options;
    this.address = options.address;
    this.#mailbox = new Mailbox(options.mailboxCapacity);
    this.ref = new LocalActorRef(this);
    this.spawner = options.makeSpawner(this);
    this.#ctx = {
      address: this.address,
      stop: () => {
        this.#selfStop = true;
      },
      takeWhile: (accept, max) => this.#takeWhile(accept, max),
      children: this.spawner,
      detach: (work) => {
        const token = { detached: work };
        DETACHED.add(token);
        return token;
      },
    };
    this.#run();
  }

  /** Whether the actor no longer accepts messages. */
  get closed(): boolean {
    return this.#mailbox.closed;
  }

  /** The mailbox's capacity. */
  get mailboxCapacity(): number {
    return this.#mailbox.capacity;
  }

  /** Delivers without a reply; throws `MailboxFullError` or `ActorStoppedError`. */
  tell(envelope: Envelope<M>): void {
    if (this.#mailbox.closed) throw new ActorStoppedError(this.address, envelope.msg.type);
    if (!this.#mailbox.offer(envelope)) {
      throw new MailboxFullError(this.address, envelope.msg, this.#mailbox.capacity);
    }
  }

  /** Delivers an envelope, waiting for room until `signal` aborts. */
  async put(envelope: Envelope<M>, signal: AbortSignal): Promise<void> {
    if (this.#mailbox.closed) throw new ActorStoppedError(this.address, envelope.msg.type);
    try {
      await this.#mailbox.put(envelope, signal);
    } catch (error) {
      if (error instanceof MailboxClosedError) {
        throw new ActorStoppedError(this.address, envelope.msg.type);
      }
      throw error;
    }
  }

  /**
   * Stops the actor: no more messages are accepted, queued asks are rejected with
   * `ActorStoppedError`, the running handler gets `stopTimeoutMs` to finish, then the
   * children stop and `onStop` runs.
   */
  stop(): Promise<void> {
    if (!this.#stopRequested && !this.#finished) {
      this.#stopRequested = true;
      this.#dropQueued();
      this.#wakeBackoff?.();
      const timer = setTimeout(() => this.#finish(), this.#options.stopTimeoutMs);
      this.#stopped.promise.finally(() => clearTimeout(timer));
    }
    return this.#stopped.promise;
  }

  childStopped(child: Stoppable): void {
    this.#children.delete(child);
  }

  /** Registers a child: it stops when this actor stops or restarts. */
  adopt(child: Stoppable): void {
    this.#children.add(child);
  }

  escalate(error: EscalatedFailureError): void {
    this.#failure ??= error;
    this.#mailbox.interrupt();
  }

  #takeWhile(accept: (msg: M) => boolean, max: number): Array<Taken<M>> {
    const envelopes = this.#mailbox.takeWhile(
      (envelope) => envelope.settle?.settled === true || accept(envelope.msg),
      max,
    );
    const taken: Array<Taken<M>> = [];
    for (const envelope of envelopes) {
      if (envelope.settle?.settled === true) {
        envelope.onDone?.();
        continue;
      }
      taken.push({
        msg: envelope.msg,
        reply(value) {
          envelope.settle?.resolve(value);
          envelope.onDone?.();
        },
        fail(error) {
          envelope.settle?.reject(error);
          envelope.onDone?.();
        },
      });
    }
    return taken;
  }

  async #run(): Promise<void> {
    let delayMs = 0;
    while (!this.#stopRequested) {
      if (delayMs > 0) await this.#backoff(delayMs);
      if (this.#stopRequested) break;
      const exit = await this.#incarnation();
      if (this.#finished) return;
      if (exit.reason === "requested") break;
      let decision: Decision;
      try {
        decision = await this.#options.supervise(exit.reason, exit.detail);
      } catch (error) {
        this.#log(`supervision of ${this.address.name} failed`, error);
        decision = { action: "stop" };
      }
      if (decision.action === "restart") {
        delayMs = decision.delayMs;
        continue;
      }
      if (decision.action === "escalate") {
        this.#finish();
        this.#options.parent.escalate(new EscalatedFailureError(this.address, decision.reason));
        return;
      }
      break;
    }
    this.#finish();
  }

  /** Builds, starts and runs one instance of the actor until it exits. */
  async #incarnation(): Promise<Exit> {
    this.#selfStop = false;
    this.#failure = undefined;
    let exit: Exit;
    try {
      this.#actor = this.#options.factory();
      await this.#actor.onStart?.(this.#ctx);
      exit = await this.#loop(this.#actor);
    } catch (error) {
      exit = { reason: "failure", detail: describeError(error) };
    }
    // Detached work still uses the instance's resources: let it finish first.
    await Promise.all([...this.#detached].map((entry) => entry.done));
    await this.#stopChildren();
    try {
      await this.#actor?.onStop?.();
    } catch (error) {
      this.#log(`onStop of ${this.address.name} threw`, error);
    }
    this.#actor = undefined;
    return exit;
  }

  async #loop(actor: Actor<M, R>): Promise<Exit> {
    while (true) {
      if (this.#stopRequested) return { reason: "requested", detail: "" };
      if (this.#failure !== undefined) return { reason: "failure", detail: this.#failure.message };
      if (this.#selfStop) return { reason: "normal", detail: "" };
      const envelope = await this.#mailbox.take();
      if (envelope === INTERRUPTED) continue;
      if (envelope.settle?.settled === true) {
        envelope.onDone?.();
        continue;
      }
      this.#current = envelope;
      try {
        const reply = await actor.receive(envelope.msg, this.#ctx);
        if (isDetached(reply)) this.#settleLater(envelope, reply.detached);
        else envelope.settle?.resolve(reply);
      } catch (error) {
        envelope.settle?.reject(error);
        const directive = await actor.onError?.(error, envelope.msg) ?? "resume";
        if (directive === "fail") return { reason: "failure", detail: describeError(error) };
        if (directive === "stop") this.#selfStop = true;
      } finally {
        this.#current = undefined;
        envelope.onDone?.();
      }
    }
  }

  /** Settles an ask when its detached work does; stop waits for it (see `#incarnation`). */
  #settleLater(envelope: Envelope<M>, work: Promise<unknown>): void {
    const settle = envelope.settle;
    const done = work.then(
      (value) => settle?.resolve(value),
      (error) => settle?.reject(error),
    ).finally(() => this.#detached.delete(entry));
    const entry = { settle, done };
    this.#detached.add(entry);
  }

  #backoff(delayMs: number): Promise<void> {
    return new Promise((resolve) => {
      const done = () => {
        clearTimeout(timer);
        this.#wakeBackoff = undefined;
        resolve();
      };
      const timer = setTimeout(done, delayMs);
      this.#wakeBackoff = done;
    });
  }

  async #stopChildren(): Promise<void> {
    const children = [...this.#children];
    this.#children.clear();
    await Promise.all(children.map((child) => child.stop()));
  }

  #dropQueued(): void {
    for (const envelope of this.#mailbox.close()) {
      envelope.settle?.reject(new ActorStoppedError(this.address, envelope.msg.type));
      envelope.onDone?.();
    }
  }

  /** Ends the cell for good; idempotent. */
  #finish(): void {
    if (this.#finished) return;
    this.#finished = true;
    this.#dropQueued();
    const current = this.#current;
    if (current !== undefined) {
      current.settle?.reject(new ActorStoppedError(this.address, current.msg.type));
    }
    for (const { settle } of this.#detached) {
      settle?.reject(new ActorStoppedError(this.address, "detached"));
    }
    // Children of an instance cut short by the stop timeout still stop.
    this.#stopChildren().catch((error) => this.#log("stopping children failed", error));
    this.#options.parent.childStopped(this);
    this.#options.onStopped?.();
    this.#stopped.resolve();
  }

  #log(message: string, error: unknown): void {
    (this.#options.log ?? console.error)(message, error);
  }
}

/** The {@linkcode ActorRef} of an actor in this isolate. */
export class LocalActorRef<M extends Message, R extends ReplyMap<M>> implements ActorRef<M, R> {
  readonly address: ActorAddress;
  #cell: ActorCell<M, R>;

  /** Wraps a cell. */
  constructor(cell: ActorCell<M, R>) {
    this.#cell = cell;
    this.address = cell.address;
  }

  tell(msg: M): void {
    this.#cell.tell({ msg });
  }

  ask<T extends M>(msg: T, options: AskOptions = {}): Promise<R[T["type"]]> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS;
    return askThrough<R[T["type"]]>(this.address, msg, timeoutMs, (settle, signal) => {
      if (this.#cell.closed) throw new ActorStoppedError(this.address, msg.type);
      return this.#cell.put({ msg, settle }, signal);
    });
  }

  stop(): Promise<void> {
    return this.#cell.stop();
  }
}

/**
 * The shared shape of every `ask`: a settler with a timeout, and a `deliver` step that
 * may wait for mailbox room under the same deadline.
 */
export function askThrough<V>(
  address: ActorAddress,
  msg: Message,
  timeoutMs: number,
  deliver: (settle: Settler, signal: AbortSignal) => Promise<void>,
): Promise<V> {
  const { promise, resolve, reject } = Promise.withResolvers<V>();
  const abort = new AbortController();
  const settle = makeSettler(
    resolve as (value: unknown) => void,
    reject,
    () => clearTimeout(timer),
  );
  const timer = setTimeout(() => {
    settle.reject(new AskTimeoutError(address, msg.type, timeoutMs));
    abort.abort();
  }, timeoutMs);
  try {
    deliver(settle, abort.signal).catch((error) => {
      if (!abort.signal.aborted) settle.reject(error);
    });
  } catch (error) {
    settle.reject(error);
  }
  return promise;
}
