/**
 * The actor system: spawns actors in this isolate or in Web Workers, keeps the registry,
 * and receives failures escalated past top-level actors.
 *
 * @example Spawn an actor and ask it
 * ```ts
 * import { ActorSystem } from "./system.ts";
 *
 * type Msg = { type: "inc"; by: number } | { type: "get" };
 * type Replies = { inc: void; get: number };
 *
 * const system = new ActorSystem({ node: "example" });
 * let count = 0;
 * const counter = system.spawn<Msg, Replies>(() => ({
 *   receive(msg) {
 *     switch (msg.type) {
 *       case "inc":
 *         count += msg.by;
 *         return;
 *       case "get":
 *         return count;
 *     }
 *   },
 * }), { name: "counter" });
 * counter.tell({ type: "inc", by: 2 });
 * const value: number = await counter.ask({ type: "get" });
 * if (value !== 2) throw new Error("expected 2");
 * await system.shutdown();
 * ```
 *
 * @module
 */

import { ActorCell, type Parent, type Stoppable } from "./actor_cell.ts";
import {
  ActorNotFoundError,
  DuplicateActorNameError,
  type EscalatedFailureError,
} from "./errors.ts";
import { Registry } from "./registry.ts";
import { resolveSupervision, Supervisor } from "./supervision.ts";
import {
  type ActorAddress,
  type ActorFactory,
  type ActorRef,
  type ChildSpawner,
  DEFAULT_MAILBOX_CAPACITY,
  type Message,
  type ReplyMap,
  type SpawnOptions,
} from "./types.ts";
import { spawnWorkerActor, type WorkerSpawnOptions } from "./worker_ref.ts";

/** Options of {@linkcode ActorSystem}. */
export interface ActorSystemOptions {
  /** The node name in every address this system hands out. */
  readonly node?: string;
  /** Receives failures escalated past top-level actors; logs them by default. */
  readonly onEscalation?: (error: EscalatedFailureError) => void;
  /** Where unexpected errors of hooks go; `console.error` by default. */
  readonly log?: (message: string, error: unknown) => void;
}

/** Default time `stop()` waits for a running handler. */
export const DEFAULT_STOP_TIMEOUT_MS = 5_000;

/** Hosts actors, names them, and is the parent of top-level actors. */
export class ActorSystem implements Parent {
  /** The node this system runs on. */
  readonly node: string;
  /** Names to refs. */
  readonly registry: Registry = new Registry();
  readonly spawner: ChildSpawner;
  #topLevel = new Set<Stoppable>();
  #nextId = 0;
  #onEscalation: (error: EscalatedFailureError) => void;
  #log: (message: string, error: unknown) => void;
  #shuttingDown = false;

  /** Creates an empty system. */
  constructor(options: ActorSystemOptions = {}) {
    this.node = options.node ?? "local";
    this.#log = options.log ?? ((message, error) => console.error(message, error));
    this.#onEscalation = options.onEscalation ??
      ((error) => this.#log("actor failure escalated to the system", error));
    this.spawner = this.spawnerFor(this);
  }

  /** Spawns an actor in this isolate. */
  spawn<M extends Message, R extends ReplyMap<M>>(
    factory: ActorFactory<M, R>,
    options: SpawnOptions = {},
  ): ActorRef<M, R> {
    return this.#spawnLocal(factory, options, this);
  }

  /**
   * Spawns an actor inside a new Web Worker. The module at `moduleUrl` exports a function
   * (named `exportName`, `"createActor"` by default) that takes `options.args` and returns
   * the actor. Messages and replies cross by structured clone. Resolves once the worker
   * has loaded the module.
   */
  spawnWorker<M extends Message, R extends ReplyMap<M>>(
    moduleUrl: URL | string,
    options: WorkerSpawnOptions = {},
  ): Promise<ActorRef<M, R>> {
    return this.#spawnInWorker(moduleUrl, options, this);
  }

  /** The ref registered under `name`, or `undefined`. */
  lookup<M extends Message, R extends ReplyMap<M>>(name: string): ActorRef<M, R> | undefined {
    return this.registry.lookup<M, R>(name);
  }

  /** Resolves an address into a ref; only addresses of this node for now. */
  refFor<M extends Message, R extends ReplyMap<M>>(address: ActorAddress): ActorRef<M, R> {
    if (address.node !== this.node) throw new ActorNotFoundError(`${address.name}@${address.node}`);
    return this.registry.get<M, R>(address.name);
  }

  /** Stops every actor. */
  async shutdown(): Promise<void> {
    this.#shuttingDown = true;
    await Promise.all([...this.#topLevel].map((actor) => actor.stop()));
  }

  childStopped(child: Stoppable): void {
    this.#topLevel.delete(child);
  }

  escalate(error: EscalatedFailureError): void {
    if (!this.#shuttingDown) this.#onEscalation(error);
  }

  #name(options: SpawnOptions): string {
    const name = options.name ?? `$${++this.#nextId}`;
    if (this.registry.has(name)) throw new DuplicateActorNameError(name);
    return name;
  }

  adopt(child: Stoppable): void {
    this.#topLevel.add(child);
  }

  #spawnLocal<M extends Message, R extends ReplyMap<M>>(
    factory: ActorFactory<M, R>,
    options: SpawnOptions,
    parent: Parent,
  ): ActorRef<M, R> {
    const name = this.#name(options);
    const supervisor = new Supervisor(resolveSupervision(options.supervision));
    const cell: ActorCell<M, R> = new ActorCell<M, R>({
      address: { node: this.node, name },
      factory,
      mailboxCapacity: options.mailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY,
      stopTimeoutMs: options.stopTimeoutMs ?? DEFAULT_STOP_TIMEOUT_MS,
      parent,
      supervise: (reason, detail) => supervisor.decide(reason, detail),
      makeSpawner: (self) => this.spawnerFor(self),
      onStopped: () => this.registry.unregister(name, cell.ref),
      log: this.#log,
    });
    this.registry.register(name, cell.ref);
    parent.adopt(cell);
    return cell.ref;
  }

  async #spawnInWorker<M extends Message, R extends ReplyMap<M>>(
    moduleUrl: URL | string,
    options: WorkerSpawnOptions,
    parent: Parent,
  ): Promise<ActorRef<M, R>> {
    const name = this.#name(options);
    // The ref exists only after the worker started; a failed start never registered it.
    const spawned: { ref?: ActorRef<M, R> } = {};
    const ref = await spawnWorkerActor<M, R>(moduleUrl, {
      ...options,
      address: { node: this.node, name },
      parent,
      onStopped: () => {
        if (spawned.ref !== undefined) this.registry.unregister(name, spawned.ref);
      },
    });
    spawned.ref = ref;
    if (this.registry.has(name)) {
      // The name was taken while the worker started.
      await ref.stop();
      throw new DuplicateActorNameError(name);
    }
    this.registry.register(name, ref);
    parent.adopt(ref);
    return ref;
  }

  /** A spawner whose actors are children of `parent` (used by cells and worker hosts). */
  spawnerFor(parent: Parent): ChildSpawner {
    return {
      spawn: (factory, options = {}) => this.#spawnLocal(factory, options, parent),
    };
  }
}
