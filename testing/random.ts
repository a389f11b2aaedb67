/**
 * A seeded random source for tests (mulberry32), so a failing run can be replayed.
 *
 * @module
 */

/** A deterministic random source. */
export class SeededRandom {
  #state: number;
  /** The seed this source started from. */
  readonly seed: number;

  /** Starts from `seed` (a 32-bit integer). */
  constructor(seed: number) {
    this.seed = seed >>> 0;
    this.#state = this.seed;
  }

  /** A float in [0, 1). */
  next(): number {
    this.#state = (this.#state + 0x6d2b79f5) >>> 0;
    let t = this.#state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }

  /** An integer in [min, max]. */
  int(min: number, max: number): number {
    return min + Math.floor(this.next() * (max - min + 1));
  }

  /** One element of a non-empty array. */
  pick<T>(items: readonly T[]): T {
    return items[this.int(0, items.length - 1)]!;
  }
}

/** A seed from `CAMEODB_TEST_SEED`, else a fresh one; printed so a failure can be replayed. */
export function testSeed(name: string): number {
  const fromEnv = Deno.env.get("CAMEODB_TEST_SEED");
  const seed = fromEnv === undefined ? Math.floor(Math.random() * 2 ** 31) : Number(fromEnv);
  console.log(`${name}: seed ${seed} (replay with CAMEODB_TEST_SEED=${seed})`);
  return seed;
}
