/**
 * A byte budget for frames that have started arriving but are not complete: one per
 * connection, each drawing on one per node, so a peer that opens many streams and never
 * finishes a frame holds at most `maxConnectionBytes`, and all peers together at most
 * `maxNodeBytes` (the issue measured 256 MiB × 64 streams per connection before this).
 *
 * @module
 */

/** Bytes of unfinished frames one connection may hold (all its streams together). */
export const DEFAULT_MAX_CONNECTION_PENDING_BYTES = 16 * 1024 * 1024;

/** Bytes of unfinished frames the whole node may hold (every connection together). */
export const DEFAULT_MAX_NODE_PENDING_BYTES = 64 * 1024 * 1024;

/** A bounded count of bytes, optionally drawing on a parent budget as well. */
export class BufferBudget {
  readonly maxBytes: number;
  readonly #parent: BufferBudget | undefined;
  #usedBytes = 0;

  constructor(maxBytes: number, parent?: BufferBudget) {
    this.maxBytes = maxBytes;
    this.#parent = parent;
  }

  /** Bytes reserved now. */
  get usedBytes(): number {
    return this.#usedBytes;
  }

  /** Reserves `bytes` here and in the parent; `false` (and nothing reserved) when over. */
  reserve(bytes: number): boolean {
    if (this.#usedBytes + bytes > this.maxBytes) return false;
    if (this.#parent !== undefined && !this.#parent.reserve(bytes)) return false;
    this.#usedBytes += bytes;
    return true;
  }

  /** Gives back bytes reserved earlier. */
  release(bytes: number): void {
    const freed = Math.min(bytes, this.#usedBytes);
    this.#usedBytes -= freed;
    this.#parent?.release(freed);
  }
}
