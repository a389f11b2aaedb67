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
import { SenderBound } from "../actors/sender_bound.ts";
import type { Request } from "./remote_protocol.ts";

/** How a remote ref reaches its node: one request at a time, answered or rejected. */
export type RemoteRequester = (request: Request) => Promise<unknown>;

/** A ref to an actor on another node. Get one from a `RemotePeerPool`. */
export class RemoteActorRef<M extends Message, R extends ReplyMap<M>> implements ActorRef<M, R> {
  readonly address: ActorAddress;
  readonly #request: RemoteRequester;
  readonly #bound: SenderBound;
  #stopping: Promise<void> | undefined;
  #lost: Error | undefined;

  constructor(address: ActorAddress, mailboxCapacity: number, request: RemoteRequester) {
    this.address = address;
    this.#bound = new SenderBound(mailboxCapacity);
    this.#request = request;
  }

  tell(msg: M): void {
    this.#checkUsable(msg.type);
    if (!this.#bound.tryReserve()) {
      throw new MailboxFullError(this.address, msg, this.#bound.capacity);
    }
    this.#request({ k: "tell", name: this.address.name, msg }).then(
      () => this.#bound.release(),
      () => this.#bound.release(),
    );
  }

  ask<T extends M>(msg: T, options: AskOptions = {}): Promise<R[T["type"]]> {
    const timeoutMs = options.timeoutMs ?? DEFAULT_ASK_TIMEOUT_MS;
    return askThrough<R[T["type"]]>(this.address, msg, timeoutMs, async (settle, signal) => {
      this.#checkUsable(msg.type);
      if (!this.#bound.tryReserve()) await this.#bound.waitForRoom(signal);
      // The request was sent: the slot is released by its answer, whenever it comes.
      this.#request({ k: "ask", name: this.address.name, msg, timeoutMs }).then(
        (value) => {
          this.#bound.release();
          settle.resolve(value);
        },
        (error) => {
          this.#bound.release();
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

  #dropWaiting(error: Error): void {
    this.#bound.rejectWaiters(error);
  }
}
