/**
 * The answering side of the remote actor protocol: serves the actors this node exposes
 * to the requests arriving on one peer link. An `ask` is delivered with the asker's
 * timeout; a `tell` is delivered the same way and answered once handled (or failed), so
 * the sender's mailbox bound is released only when the message is done.
 *
 * Every frame is checked against its schema first (`frame_schema.ts`; a bad one throws,
 * and the link closes the stream and counts it). Lifecycle requests (`stop`) are never
 * accepted from the network. Which actor a peer may reach, and with which messages, is
 * the `actors` lookup's decision (it is told the Noise-authenticated peer id). Errors go
 * back as `{name, message}` only: no stack, no file paths.
 *
 * @module
 */

import { ActorNotFoundError } from "../actors/errors.ts";
import type { SerializedError } from "../actors/errors.ts";
import type { ActorRef, Message, ReplyMap } from "../actors/types.ts";
import { PeerRefusedError } from "./errors.ts";
import { parseRequestFrame } from "./frame_schema.ts";
import type { FrameLink } from "./link.ts";
import type { AnswerFrame, Resolved } from "./remote_protocol.ts";
import type { TrustCounters } from "./trust_counters.ts";

/** An exposed actor: its ref and the bound of its mailbox. */
export interface Exposed {
  readonly ref: ActorRef<Message, ReplyMap<Message>>;
  readonly mailboxCapacity: number;
}

/**
 * Finds the actor `peer` names; `undefined` when none is exposed under the name. Throws
 * `PeerRefusedError` when the peer may not reach it.
 */
export type ExposedActors = (name: string, peer: string) => Exposed | undefined;

/** Longest a told message may wait for room and its handler, in ms. */
export const HOST_TELL_TIMEOUT_MS = 60_000;

/** An error as it may cross to a peer: name and message only. */
export function publicError(error: unknown): SerializedError {
  return error instanceof Error
    ? { name: error.name, message: error.message }
    : { name: "Error", message: String(error) };
}

/** Serves requests from one link whose remote end is the libp2p peer `peer`. */
export function serveLink(
  link: FrameLink,
  actors: ExposedActors,
  options: {
    peer: string;
    counters?: TrustCounters;
    /**
     * Serve `stop` (the `RemoteActorRef` conformance suite stops actors through the ref).
     * The cluster never sets it: actors are not stopped from the network.
     */
    allowStop?: boolean;
  },
): (frame: unknown) => void {
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
      (error) => answer({ k: "err", id, error: publicError(error) }),
    );
  const refuse = (id: number, error: Error) => {
    if (options.counters !== undefined) options.counters.refused_requests++;
    answer({ k: "err", id, error: publicError(error) });
  };
  return (raw) => {
    const frame = parseRequestFrame(raw);
    if (frame.k === "stop" && options.allowStop !== true) {
      refuse(
        frame.id,
        new PeerRefusedError(options.peer, "actors are not stopped from the network"),
      );
      return;
    }
    let exposed: Exposed | undefined;
    try {
      exposed = actors(frame.name, options.peer);
    } catch (error) {
      refuse(frame.id, error as Error);
      return;
    }
    if (exposed === undefined) {
      refuse(frame.id, new ActorNotFoundError(frame.name));
      return;
    }
    switch (frame.k) {
      case "stop":
        settle(frame.id, exposed.ref.stop());
        return;
      case "resolve":
        answer({
          k: "ok",
          id: frame.id,
          value: { mailboxCapacity: exposed.mailboxCapacity } satisfies Resolved,
        });
        return;
      case "ask":
        settle(frame.id, exposed.ref.ask(frame.msg as Message, { timeoutMs: frame.timeoutMs }));
        return;
      case "tell":
        settle(
          frame.id,
          exposed.ref.ask(frame.msg as Message, { timeoutMs: HOST_TELL_TIMEOUT_MS }).then(
            () => undefined,
            () => {
              // A told message's failure belongs to the actor (its onError), not the sender.
            },
          ),
        );
        return;
    }
  };
}
