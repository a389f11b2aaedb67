/**
 * Names to actor refs, one registry per actor system. Duplicate names are rejected.
 *
 * @module
 */

import { ActorNotFoundError, DuplicateActorNameError } from "./errors.ts";
import type { ActorRef, Message, ReplyMap } from "./types.ts";

// deno-lint-ignore no-explicit-any
type AnyRef = ActorRef<any, any>;

/** A map from names to actor refs. */
export class Registry {
  #refs = new Map<string, AnyRef>();

  /** Registers `ref` under `name`; throws `DuplicateActorNameError` if taken. */
  register(name: string, ref: AnyRef): void {
    if (this.#refs.has(name)) throw new DuplicateActorNameError(name);
    this.#refs.set(name, ref);
  }

  /** Removes `name` if it is registered to `ref` (or to anything, without `ref`). */
  unregister(name: string, ref?: AnyRef): void {
    if (ref === undefined || this.#refs.get(name) === ref) this.#refs.delete(name);
  }

  /** The ref registered under `name`, or `undefined`. */
  lookup<M extends Message, R extends ReplyMap<M>>(name: string): ActorRef<M, R> | undefined {
    return this.#refs.get(name);
  }

  /** The ref registered under `name`; throws `ActorNotFoundError` if none. */
  get<M extends Message, R extends ReplyMap<M>>(name: string): ActorRef<M, R> {
    const ref = this.#refs.get(name);
    if (ref === undefined) throw new ActorNotFoundError(name);
    return ref;
  }

  /** Whether `name` is registered. */
  has(name: string): boolean {
    return this.#refs.has(name);
  }

  /** Registered names. */
  names(): string[] {
    return [...this.#refs.keys()];
  }
}
