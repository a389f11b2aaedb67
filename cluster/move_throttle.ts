/**
 * The bound on how fast this node streams moving slots, in bytes per second, over every move
 * at once: each page of copies waits its turn on one virtual clock (a leaky bucket, as
 * Cassandra's `stream_throughput_outbound` throttles streaming), so a join or a leave cannot take
 * a node's whole disk and network from its clients.
 *
 * @module
 */

/** Default streaming bound, in bytes per second (64 MiB/s). */
export const DEFAULT_MOVE_BYTES_PER_SEC = 64 * 1024 * 1024;

/** One node's streaming bound (see the module doc). */
export class MoveThrottle {
  readonly #bytesPerSec: number;
  /** When the bytes taken so far have gone out at the bound, in `performance.now()` ms. */
  #freeAtMs = 0;
  /** Bytes taken through the throttle. */
  bytes = 0;

  /** `bytesPerSec` 0: no bound. */
  constructor(bytesPerSec: number) {
    this.#bytesPerSec = bytesPerSec;
  }

  /** Resolves when `bytes` more may be sent: at once, or once the earlier ones have gone out. */
  take(bytes: number): Promise<void> {
    this.bytes += bytes;
    if (this.#bytesPerSec <= 0) return Promise.resolve();
    const now = performance.now();
    const startMs = Math.max(now, this.#freeAtMs);
    this.#freeAtMs = startMs + bytes * 1_000 / this.#bytesPerSec;
    const waitMs = startMs - now;
    if (waitMs <= 0) return Promise.resolve();
    return new Promise((resolve) => setTimeout(resolve, waitMs));
  }
}
