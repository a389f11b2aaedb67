/**
 * The requesting side of one peer link: sends request frames with fresh ids and settles
 * each with its answer. When the link ends, every request in flight rejects with
 * `NodeUnavailableError` at once: nothing waits for a timeout on a dead peer.
 *
 * @module
 */

import { deserializeError } from "../actors/errors.ts";
import { NodeUnavailableError } from "./errors.ts";
import { parseAnswerFrame } from "./frame_schema.ts";
import type { FrameLink } from "./link.ts";
import type { AnswerFrame, Request } from "./remote_protocol.ts";

/** Opens a link (handing it the frame handler); a client's link is opened this way. */
export type ClientLinkOpener = (onFrame: (frame: unknown) => void) => Promise<FrameLink>;

/** Requests over one link. */
export class RemoteClient {
  readonly node: string;
  readonly #link: FrameLink;
  readonly #pending = new Map<number, PromiseWithResolvers<unknown>>();
  #nextId = 0;

  /** Opens a link with `open` and a client over it. */
  static async open(node: string, open: ClientLinkOpener): Promise<RemoteClient> {
    // Answers arrive only after a request, so the client exists before the first frame.
    const built: { client?: RemoteClient } = {};
    // A frame that is not a valid answer throws here, and the link closes the stream.
    const link = await open((frame) => built.client?.receive(parseAnswerFrame(frame)));
    built.client = new RemoteClient(node, link);
    return built.client;
  }

  private constructor(node: string, link: FrameLink) {
    this.node = node;
    this.#link = link;
    this.#link.onClose((reason) => {
      const error = new NodeUnavailableError(node, reason);
      for (const pending of this.#pending.values()) pending.reject(error);
      this.#pending.clear();
    });
  }

  /** Whether requests can still be sent. */
  get open(): boolean {
    return this.#link.open;
  }

  /** Sends a request; resolves with its answer. */
  request(request: Request): Promise<unknown> {
    if (!this.#link.open) {
      return Promise.reject(new NodeUnavailableError(this.node, "the link is closed"));
    }
    const id = ++this.#nextId;
    try {
      this.#link.send({ ...request, id });
    } catch (error) {
      return Promise.reject(new NodeUnavailableError(this.node, (error as Error).message));
    }
    // Registered only once sent: a failed send closes the link, and the close listener would
    // reject a promise nobody holds (an unhandled rejection ends the process). An answer
    // cannot come before this line: frames arrive as events, never during `send`.
    const pending = Promise.withResolvers<unknown>();
    this.#pending.set(id, pending);
    return pending.promise;
  }

  /** Settles the request an answer names. Called by the link. */
  private receive(frame: AnswerFrame): void {
    const pending = this.#pending.get(frame.id);
    if (pending === undefined) return;
    this.#pending.delete(frame.id);
    if (frame.k === "ok") pending.resolve(frame.value);
    else pending.reject(deserializeError(frame.error));
  }

  /** Closes the link. */
  close(): Promise<void> {
    return this.#link.close();
  }
}
