/**
 * What became of the dials to the configured seeds: which answered, which refused and
 * why, and when to try a refused one again (doubling from `retryMinMs` to `retryMaxMs`).
 * A node every seed refuses — a wrong `network.cluster.psk` makes the handshake fail —
 * has a `problem`, which health reports as `red`.
 *
 * @module
 */

/** First wait before a refused seed is dialed again, in ms. */
export const SEED_RETRY_MIN_MS = 500;
/** Longest wait between dials of a refused seed, in ms. */
export const SEED_RETRY_MAX_MS = 10_000;

/** The outcome of dialing each seed. */
export class SeedTracker {
  readonly #seeds: readonly string[];
  readonly #retryMinMs: number;
  readonly #retryMaxMs: number;
  readonly #failures = new Map<string, { reason: string; count: number }>();
  #reached = false;

  constructor(
    seeds: readonly string[],
    options: { retryMinMs?: number; retryMaxMs?: number } = {},
  ) {
    this.#seeds = seeds;
    this.#retryMinMs = options.retryMinMs ?? SEED_RETRY_MIN_MS;
    this.#retryMaxMs = options.retryMaxMs ?? SEED_RETRY_MAX_MS;
  }

  /** A dial to `seed` succeeded. */
  reached(seed: string): void {
    this.#failures.delete(seed);
    this.#reached = true;
  }

  /** A dial to `seed` failed; returns how long to wait before dialing it again, in ms. */
  failed(seed: string, reason: string): number {
    const count = (this.#failures.get(seed)?.count ?? 0) + 1;
    this.#failures.set(seed, { reason, count });
    return Math.min(this.#retryMaxMs, this.#retryMinMs * 2 ** (count - 1));
  }

  /** Whether `seed` has failed exactly once (the time to say so in the log). */
  firstFailure(seed: string): boolean {
    return this.#failures.get(seed)?.count === 1;
  }

  /** Set when seeds are configured, none was reached, and every one has refused. */
  get problem(): string | undefined {
    if (this.#seeds.length === 0 || this.#reached) return undefined;
    if (!this.#seeds.every((seed) => this.#failures.has(seed))) return undefined;
    const reasons = this.#seeds.map((seed) => `${seed}: ${this.#failures.get(seed)!.reason}`);
    return `every seed refused the connection (a different network.cluster.psk looks like this): ${
      reasons.join("; ")
    }`;
  }
}
