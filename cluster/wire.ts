/**
 * The wire format between nodes: MessagePack values in length-prefixed frames.
 *
 * A frame is a 4-byte big-endian length followed by that many bytes of MessagePack.
 * libp2p delivers a stream's bytes in chunks that do not follow frame edges;
 * {@linkcode FrameDecoder} reassembles them. (`it-length-prefixed` does the same for the
 * async-iterable stream API of libp2p 2; libp2p 3 streams deliver `message` events, and
 * the 30 lines below are simpler than adapting one to the other.)
 *
 * @module
 */

import { Decoder, Encoder, type ExtensionCodec } from "@msgpack/msgpack";
import type { BufferBudget } from "./buffer_budget.ts";
import { MalformedFrameError } from "./errors.ts";

/**
 * Largest frame accepted, in bytes. A frame is one request or answer: a bulk of a few
 * thousand documents or a page of hits fits; a larger bulk is split by the HTTP layer's
 * batching. Bigger frames would let one peer pin that much memory per stream.
 */
export const DEFAULT_MAX_FRAME_BYTES = 8 * 1024 * 1024;

/** A frame longer than the limit arrived: the stream cannot be trusted any more. */
export class FrameTooLargeError extends Error {
  override readonly name = "FrameTooLargeError";
  constructor(bytes: number, maxFrameBytes: number) {
    super(`A frame of ${bytes} bytes is over the limit of ${maxFrameBytes} bytes`);
  }
}

/** Encodes and decodes frames; one per link, or shared. */
export class WireCodec {
  readonly #encoder: Encoder;
  readonly #decoder: Decoder;
  readonly maxFrameBytes: number;

  constructor(
    options: { extensionCodec?: ExtensionCodec; maxFrameBytes?: number } = {},
  ) {
    const ext = options.extensionCodec === undefined
      ? {}
      : { extensionCodec: options.extensionCodec };
    this.#encoder = new Encoder({ ignoreUndefined: true, ...ext });
    this.#decoder = new Decoder(ext);
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  }

  /** One frame: length prefix and MessagePack body. */
  encode(value: unknown): Uint8Array {
    const body = this.#encoder.encode(value);
    if (body.length > this.maxFrameBytes) {
      throw new FrameTooLargeError(body.length, this.maxFrameBytes);
    }
    const frame = new Uint8Array(4 + body.length);
    new DataView(frame.buffer).setUint32(0, body.length);
    frame.set(body, 4);
    return frame;
  }

  /** Decodes one frame body; throws `MalformedFrameError` when it is not one MessagePack value. */
  decode(body: Uint8Array): unknown {
    try {
      return this.#decoder.decode(body);
    } catch (error) {
      throw new MalformedFrameError(`not one MessagePack value: ${(error as Error).message}`);
    }
  }
}

/** Unfinished frames would take more memory than the connection or node may hold. */
export class FrameBudgetError extends Error {
  override readonly name = "FrameBudgetError";
  constructor(bytes: number) {
    super(`${bytes} more bytes of unfinished frames are over the connection's or node's budget`);
  }
}

/**
 * Reassembles frames from chunks; `push` returns the values completed by a chunk. Bytes
 * waiting for the rest of their frame are reserved from `budget`, released as frames
 * complete and by `dispose()`.
 */
export class FrameDecoder {
  readonly #codec: WireCodec;
  readonly #budget: BufferBudget | undefined;
  #pending: Uint8Array[] = [];
  #pendingBytes = 0;

  constructor(codec: WireCodec, budget?: BufferBudget) {
    this.#codec = codec;
    this.#budget = budget;
  }

  /** Adds a chunk; returns every value whose frame is now complete. */
  push(chunk: Uint8Array): unknown[] {
    if (this.#budget !== undefined && !this.#budget.reserve(chunk.length)) {
      throw new FrameBudgetError(chunk.length);
    }
    this.#pending.push(chunk);
    this.#pendingBytes += chunk.length;
    const values: unknown[] = [];
    while (this.#pendingBytes >= 4) {
      const head = this.#peek(4);
      const length = new DataView(head.buffer, head.byteOffset, 4).getUint32(0);
      if (length > this.#codec.maxFrameBytes) {
        throw new FrameTooLargeError(length, this.#codec.maxFrameBytes);
      }
      if (this.#pendingBytes < 4 + length) break;
      const frame = this.#take(4 + length);
      values.push(this.#codec.decode(frame.subarray(4)));
    }
    return values;
  }

  /** Drops what is pending and gives its bytes back to the budget (the stream ended). */
  dispose(): void {
    this.#budget?.release(this.#pendingBytes);
    this.#pending = [];
    this.#pendingBytes = 0;
  }

  /** The first `n` pending bytes (joined when they span chunks). */
  #peek(n: number): Uint8Array {
    const first = this.#pending[0]!;
    if (first.length >= n) return first;
    this.#pending = [concat(this.#pending, this.#pendingBytes)];
    return this.#pending[0]!;
  }

  #take(n: number): Uint8Array {
    const joined = this.#peek(n);
    const rest = joined.subarray(n);
    this.#pending.shift();
    if (rest.length > 0) this.#pending.unshift(rest);
    this.#pendingBytes -= n;
    this.#budget?.release(n);
    return joined.subarray(0, n);
  }
}

function concat(chunks: readonly Uint8Array[], total: number): Uint8Array {
  const out = new Uint8Array(total);
  let at = 0;
  for (const chunk of chunks) {
    out.set(chunk, at);
    at += chunk.length;
  }
  return out;
}
