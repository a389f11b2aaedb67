/**
 * The {@linkcode ActorRef} of an actor on another node. Messages travel as MessagePack
 * frames over the peer's libp2p link; errors come back rebuilt by name.
 *
 * The mailbox bound is kept on this side, as for a worker ref: at most
 * `mailboxCapacity + 1` messages sent through this ref are not yet handled (the host
 * answers a `tell` once it is handled). `tell` throws `MailboxFullError` past the bound;
 * `ask` waits for room within its timeout. The host's own mailbox stays the final bound
 * when several nodes send to one actor.
 *
 * Supervision happens where the actor lives: a failure restarts it there, and escalation
 * reaches the host's system. When the peer is lost every request in flight rejects with
 * `NodeUnavailableError` at once.
 *
 * @module
 */

import { askThrough } from "../actors/actor_cell.ts";
import { ActorStoppedError, MailboxFullError } from "../actors/errors.ts";
import {
  type ActorAddress,
  type ActorRef,
  type AskOptions,
  DEFAULT_ASK_TIMEOUT_MS,
  type Message,
  type ReplyMap,
} from "../actors/types.ts";
import type { Request } from "./remote_protocol.ts";

/** How a remote ref reaches its node: one request at a time, answered or rejected. */
export type RemoteRequester = (request: Request) => Promise<unknown>;

/** A ref to an actor on another node. Get one from a `RemotePeerPool`. */
export class RemoteActorRef<M extends Message, R extends ReplyMap<M>> implements ActorRef<M, R> {
  readonly address: ActorAddress;
  readonly #request: RemoteRequester;
  readonly #capacity: number;
  readonly #limit: number;
  #load = 0;
  #roomWaiters: Array<{ resolve: () => void; reject: (error: unknown) => void }> = [];
  #stopping: Promise<void> | undefined;
  #lost: Error | undefined;

  constructor(address: ActorAddress, mailboxCapacity: number, request: RemoteRequester) {
    this.address = address;
    this.#capacity = mailboxCapacity;
    this.#limit = mailboxCapacity + 1;
    this.#request = request;
  }

  tell(msg: M): void {
    this.#checkUsable(msg.type);
    if (this.#load >= this.#limit || this.#roomWaiters.length > 0) {
      throw new MailboxFullError(this.address, msg, this.#capacity);
    }
    this.#load++;
    this.#request({ k: "tell", name: this.address.name, msg }).then(
      () => this.#release(),
      () => this.#release(),
    );
  }

  ask<T extends M>(msg: T, options: AskOptions = {}): Promise<R[T["type"]]> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS;
    return askThrough<R[T["type"]]>(this.address, msg, timeoutMs, async (settle, signal) => {
      this.#checkUsable(msg.type);
      if (this.#load < this.#limit && this.#roomWaiters.length === 0) this.#load++;
      else await this.#waitForRoom(signal);
      // The request was sent: the slot is released by its answer, whenever it comes.
      this.#request({ k: "ask", name: this.address.name, msg, timeoutMs }).then(
        (value) => {
          this.#release();
          settle.resolve(value);
        },
        (error) => {
          this.#release();
          settle.reject(error);
        },
      );
    });
  }

  stop(): Promise<void> {
    this.#stopping ??= this.#request({ k: "stop", name: this.address.name }).then(
      () => {},
      () => {},
    ).finally(() => this.#dropWaiting(new ActorStoppedError(this.address)));
    return this.#stopping;
  }

  /** The node was lost: this ref fails every later message at once. Used by the pool. */
  lose(error: Error): void {
    this.#lost ??= error;
    this.#dropWaiting(error);
  }

  #checkUsable(type: string): void {
    if (this.#lost !== undefined) throw this.#lost;
    if (this.#stopping !== undefined) throw new ActorStoppedError(this.address, type);
  }

  #waitForRoom(signal: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      const waiter = { resolve, reject };
      this.#roomWaiters.push(waiter);
      signal.addEventListener("abort", () => {
        const at = this.#roomWaiters.indexOf(waiter);
        if (at >= 0) this.#roomWaiters.splice(at, 1);
        reject(signal.reason);
      }, { once: true });
    });
  }

  /** One message is done; its slot goes to the oldest waiting ask. */
  #release(): void {
    this.#load--;
    const waiter = this.#roomWaiters.shift();
    if (waiter !== undefined) {
      this.#load++;
      waiter.resolve();
    }
  }

  #dropWaiting(error: Error): void {
    for (const waiter of this.#roomWaiters.splice(0)) waiter.reject(error);
  }
}
