/**
 * The answering side of the remote actor protocol: serves the actors this node exposes
 * to the requests arriving on one peer link. An `ask` is delivered with the asker's
 * timeout; a `tell` is delivered the same way and answered once handled (or failed), so
 * the sender's mailbox bound is released only when the message is done.
 *
 * @module
 */

import { ActorNotFoundError, serializeError } from "../actors/errors.ts";
import type { ActorRef, Message, ReplyMap } from "../actors/types.ts";
import type { FrameLink } from "./link.ts";
import type { AnswerFrame, RequestFrame, Resolved } from "./remote_protocol.ts";

/** An exposed actor: its ref and the bound of its mailbox. */
export interface Exposed {
  readonly ref: ActorRef<Message, ReplyMap<Message>>;
  readonly mailboxCapacity: number;
}

/** Finds the actor a peer names; `undefined` when none is exposed under the name. */
export type ExposedActors = (name: string) => Exposed | undefined;

/** Longest a told message may wait for room and its handler, in ms. */
export const HOST_TELL_TIMEOUT_MS = 60_000;

/** Serves requests from one link. */
export function serveLink(link: FrameLink, actors: ExposedActors): (frame: unknown) => void {
  const answer = (frame: AnswerFrame) => {
    if (link.open) {
      try {
        link.send(frame);
      } catch {
        // The link closed under us: the requester learns it from the link.
      }
    }
  };
  const settle = (id: number, work: Promise<unknown>) =>
    work.then(
      (value) => answer(value === undefined ? { k: "ok", id } : { k: "ok", id, value }),
      (error) => answer({ k: "err", id, error: serializeError(error) }),
    );
  return (raw) => {
    const frame = raw as RequestFrame;
    const exposed = actors(frame.name);
    if (exposed === undefined) {
      answer({ k: "err", id: frame.id, error: serializeError(new ActorNotFoundError(frame.name)) });
      return;
    }
    const msg = (frame as { msg?: Message }).msg;
    switch (frame.k) {
      case "resolve":
        answer({
          k: "ok",
          id: frame.id,
          value: { mailboxCapacity: exposed.mailboxCapacity } satisfies Resolved,
        });
        return;
      case "ask":
        settle(frame.id, exposed.ref.ask(msg!, { timeoutMs: frame.timeoutMs }));
        return;
      case "tell":
        settle(
          frame.id,
          exposed.ref.ask(msg!, { timeoutMs: HOST_TELL_TIMEOUT_MS }).then(() => undefined, () => {
            // A told message's failure belongs to the actor (its onError), not the sender.
          }),
        );
        return;
      case "stop":
        settle(frame.id, exposed.ref.stop());
        return;
    }
  };
}
