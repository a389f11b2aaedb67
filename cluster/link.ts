/**
 * A frame link: one libp2p stream carrying MessagePack frames both ways. Sending never
 * overruns the stream's write buffer (frames wait, in order, for the `drain` event);
 * every received frame is handed to `onFrame`; the link reports its end once.
 *
 * Nothing a peer sends throws past the link: an oversized, over-budget or unreadable
 * frame, or a frame `onFrame` refuses (it throws, e.g. `MalformedFrameError` from the
 * frame schema), closes this stream and is counted; the connection and the process stay.
 *
 * @module
 */

import type { Stream } from "@libp2p/interface";
import type { BufferBudget } from "./buffer_budget.ts";
import type { TrustCounters } from "./trust_counters.ts";
import { FrameBudgetError, FrameDecoder, FrameTooLargeError, type WireCodec } from "./wire.ts";

/** Frames that may wait for the stream's write buffer to drain. */
export const DEFAULT_MAX_QUEUED_FRAMES = 65_536;

/** The link is closed; nothing more can be sent on it. */
export class LinkClosedError extends Error {
  override readonly name = "LinkClosedError";
  constructor(reason: string) {
    super(`The link to the peer is closed: ${reason}`);
  }
}

/** Options of a {@linkcode FrameLink}. */
export interface FrameLinkOptions {
  readonly maxQueuedFrames?: number;
  /** Where bytes of unfinished incoming frames are reserved (the connection's budget). */
  readonly budget?: BufferBudget;
  /** Where refused frames are counted. */
  readonly counters?: TrustCounters;
}

/** A bidirectional frame channel over one stream. */
export class FrameLink {
  readonly #stream: Stream;
  readonly #codec: WireCodec;
  readonly #decoder: FrameDecoder;
  readonly #maxQueuedFrames: number;
  #queue: Uint8Array[] = [];
  #draining = false;
  #closed: string | undefined;
  #onClose: Array<(reason: string) => void> = [];

  constructor(
    stream: Stream,
    codec: WireCodec,
    onFrame: (value: unknown) => void,
    options: FrameLinkOptions = {},
  ) {
    this.#stream = stream;
    this.#codec = codec;
    this.#decoder = new FrameDecoder(codec, options.budget);
    this.#maxQueuedFrames = options.maxQueuedFrames ?? DEFAULT_MAX_QUEUED_FRAMES;
    const counters = options.counters;
    stream.addEventListener("message", (event) => {
      if (this.#closed !== undefined) return;
      try {
        for (const value of this.#decoder.push(event.data.subarray())) {
          if (this.#closed !== undefined) return;
          onFrame(value);
        }
      } catch (error) {
        if (counters !== undefined) count(counters, error);
        this.abort(`refused frame: ${(error as Error).message}`);
      }
    });
    stream.addEventListener("close", (event) => {
      this.#end(event.error === undefined ? "the stream closed" : event.error.message);
    });
  }

  /** Whether the link can still send. */
  get open(): boolean {
    return this.#closed === undefined;
  }

  /** Calls `listener` once when the link ends (at once if it has). */
  onClose(listener: (reason: string) => void): void {
    if (this.#closed !== undefined) listener(this.#closed);
    else this.#onClose.push(listener);
  }

  /** Sends one value; throws `LinkClosedError` when the link is closed or overloaded. */
  send(value: unknown): void {
    if (this.#closed !== undefined) throw new LinkClosedError(this.#closed);
    const frame = this.#codec.encode(value);
    if (this.#draining) {
      if (this.#queue.length >= this.#maxQueuedFrames) {
        this.abort(`more than ${this.#maxQueuedFrames} frames wait to be sent`);
        throw new LinkClosedError(this.#closed!);
      }
      this.#queue.push(frame);
      return;
    }
    this.#write(frame);
  }

  #write(frame: Uint8Array): void {
    try {
      if (!this.#stream.send(frame)) this.#waitForDrain();
    } catch (error) {
      this.abort(`cannot send: ${(error as Error).message}`);
      throw new LinkClosedError(this.#closed!);
    }
  }

  #waitForDrain(): void {
    this.#draining = true;
    this.#stream.onDrain().then(() => {
      this.#draining = false;
      while (this.#queue.length > 0 && !this.#draining && this.#closed === undefined) {
        const frame = this.#queue.shift()!;
        try {
          this.#write(frame);
        } catch {
          return;
        }
      }
    }, (error) => this.#end(`the stream failed: ${(error as Error).message}`));
  }

  /** Closes the link at once; queued frames are dropped. */
  abort(reason: string): void {
    if (this.#closed !== undefined) return;
    try {
      this.#stream.abort(new LinkClosedError(reason));
    } catch {
      // Already gone: ending is all that is left to do.
    }
    this.#end(reason);
  }

  /** Closes the link after the queued frames are written. */
  async close(): Promise<void> {
    if (this.#closed !== undefined) return;
    try {
      if (this.#draining) await this.#stream.onDrain({ signal: AbortSignal.timeout(1_000) });
      await this.#stream.close({ signal: AbortSignal.timeout(1_000) });
    } catch {
      this.#stream.abort(new LinkClosedError("closing"));
    }
    this.#end("closed");
  }

  #end(reason: string): void {
    if (this.#closed !== undefined) return;
    this.#closed = reason;
    this.#queue = [];
    this.#decoder.dispose();
    for (const listener of this.#onClose.splice(0)) listener(reason);
  }
}

function count(counters: TrustCounters, error: unknown): void {
  if (error instanceof FrameTooLargeError) counters.oversized_frames++;
  else if (error instanceof FrameBudgetError) counters.over_budget_frames++;
  // A MalformedFrameError, or anything else the frame's handler threw on it.
  else counters.malformed_frames++;
}
