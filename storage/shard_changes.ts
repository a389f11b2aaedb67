/**
 * Change counters a node's shard workers share with the main isolate, in shared memory: for
 * each shard, how many changes to its contents (write batches, schema changes, drops, the
 * recovery at start) have started and how many have finished. The main isolate
 * reads them without a message, so it can tell whether anything a shard holds changed since
 * it last asked — what lets it keep a search's statistics between searches
 * (`node/_stats_cache.ts`) and still score exactly as if it had asked every shard again.
 *
 * A shard is **settled** when every change it started has finished; the node's
 * {@linkcode ShardChanges.version} is the sum of finished changes while every shard is
 * settled, and `undefined` while any is changing. Counters only grow, so the same version
 * read twice means nothing changed in between. A worker that died mid-change left a change
 * started and never finished: its successor settles it (`restarted`) before its recovery.
 *
 * @example Two reads of the version around some work
 * ```ts
 * import { ShardChanges } from "./shard_changes.ts";
 * const changes = ShardChanges.create(2);
 * const before = changes.version();
 * changes.begin(1);
 * console.assert(changes.version() === undefined); // shard 1 is changing
 * changes.end(1);
 * console.assert(changes.version() !== before);
 * ```
 *
 * @module
 */

/** The shared counters of a node's shards (one view of the same memory in each isolate). */
export class ShardChanges {
  /**
   * `[started₀, finished₀, started₁, finished₁, …]`, 64-bit: 32-bit counters would wrap after
   * 2³¹ changes (weeks of single writes) and could meet an old version again.
   */
  readonly #counts: BigInt64Array;

  private constructor(counts: BigInt64Array) {
    this.#counts = counts;
  }

  /** New counters for `shards` shards, all settled. */
  static create(shards: number): ShardChanges {
    const buffer = new SharedArrayBuffer(shards * 2 * BigInt64Array.BYTES_PER_ELEMENT);
    return new ShardChanges(new BigInt64Array(buffer));
  }

  /** A view of counters made by {@linkcode create} (what a worker gets in its start args). */
  static of(buffer: SharedArrayBuffer): ShardChanges {
    return new ShardChanges(new BigInt64Array(buffer));
  }

  /** The shared memory, to hand to a worker. */
  get buffer(): SharedArrayBuffer {
    return this.#counts.buffer as SharedArrayBuffer;
  }

  /** Shard `shard` starts changing its contents. */
  begin(shard: number): void {
    Atomics.add(this.#counts, 2 * shard, 1n);
  }

  /** A change of shard `shard` finished (whether it succeeded or not). */
  end(shard: number): void {
    Atomics.add(this.#counts, 2 * shard + 1, 1n);
  }

  /** Runs `change` as one change of shard `shard`. */
  async during<T>(shard: number, change: () => Promise<T>): Promise<T> {
    this.begin(shard);
    try {
      return await change();
    } finally {
      this.end(shard);
    }
  }

  /**
   * A new worker of shard `shard` starts: the changes its predecessor started and never
   * finished (it died) count as finished — what they did is whatever the recovery finds.
   * (Were a predecessor still running and to finish one later, the shard would never look
   * settled again: the kept statistics would go unused, never wrong.)
   */
  restarted(shard: number): void {
    Atomics.store(this.#counts, 2 * shard + 1, Atomics.load(this.#counts, 2 * shard));
  }

  /** The sum of finished changes while every shard is settled; `undefined` while one changes. */
  version(): number | undefined {
    let version = 0n;
    for (let i = 0; i < this.#counts.length; i += 2) {
      const finished = Atomics.load(this.#counts, i + 1);
      if (Atomics.load(this.#counts, i) !== finished) return undefined;
      version += finished;
    }
    return Number(version);
  }
}
