/**
 * The frames of the remote actor protocol. Internal to `cluster/`.
 *
 * A node opens one stream per peer for its requests; the peer answers on the same stream.
 * Every request carries an id; the answer names it. A `tell` is answered once the actor
 * has handled the message, so the sender can keep its mailbox bound.
 *
 * @module
 */

import type { SerializedError } from "../actors/errors.ts";

/** The libp2p protocol id of remote actor messages. */
export const ACTOR_PROTOCOL = "/cameodb/actor/1.0.0";

/** A request without its id. */
export type Request =
  | { readonly k: "resolve"; readonly name: string }
  | { readonly k: "ask"; readonly name: string; readonly msg: unknown; readonly timeoutMs: number }
  | { readonly k: "tell"; readonly name: string; readonly msg: unknown }
  | { readonly k: "stop"; readonly name: string };

/** Client → host. */
export type RequestFrame = Request & { readonly id: number };

/** Host → client. */
export type AnswerFrame =
  | { readonly k: "ok"; readonly id: number; readonly value?: unknown }
  | { readonly k: "err"; readonly id: number; readonly error: SerializedError };

/** What `resolve` answers: the bound of the actor's mailbox. */
export interface Resolved {
  readonly mailboxCapacity: number;
}
