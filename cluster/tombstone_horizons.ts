/**
 * Per cluster slot, the time before which every replica holds this node's tombstones: the
 * slot's *horizon*. With replicas a tombstone may be collected only once every other owner
 * holds it too — else an owner that missed the delete (down longer than the grace, its hint
 * dropped) gives the document back through anti-entropy after the others forgot the delete.
 *
 * The horizon of a slot is the local time an anti-entropy round of it *started* (before its
 * digests were read), recorded when that round completed with every other owner of the slot:
 * each tombstone written here before it was in the digests (a shard reads a slot only after
 * the write batch under way), and each owner took it (or held something newer). This is
 * Cassandra's "only purge repaired tombstones" on top of `gc_grace_seconds`, and Riak's
 * reaping of a delete once every primary has acknowledged it (`delete_mode`). A slot owned
 * here alone has every replica here: its horizon is now.
 *
 * Horizons live in memory: after a restart none is known, so the shards keep every tombstone
 * until the next complete rounds (safe). They reach the shards after a sweep, at most every
 * `sendIntervalMs` (`storage.tombstone_collect_interval_ms`), and the shards collect then.
 *
 * @module
 */

import { CLUSTER_SLOTS } from "../storage/slot.ts";
import type { ClusterView } from "./view.ts";

/** A horizon and the owners the round that set it compared with. */
interface Horizon {
  readonly atMs: number;
  /** The slot's owners then, joined: a horizon holds only while they stay the owners. */
  readonly owners: string;
}

/** Options of {@linkcode TombstoneHorizons}. */
export interface TombstoneHorizonsOptions {
  /** Hands the horizons to the local shards; resolves with the tombstones they collected. */
  readonly send: (horizons: ReadonlyMap<number, number>) => Promise<number>;
  /** The horizons are sent at most this often, in ms. */
  readonly sendIntervalMs: number;
  /** The wall clock, in ms since the epoch; `Date.now` by default. */
  readonly nowMs?: () => number;
  readonly log?: { warn(message: string): void };
}

/** The horizons of this node's slots, and their delivery to the shards. */
export class TombstoneHorizons {
  readonly #bySlot = new Map<number, Horizon>();
  readonly #options: TombstoneHorizonsOptions;
  readonly #nowMs: () => number;
  #sentAtMs = -Infinity;
  #sending = false;

  constructor(options: TombstoneHorizonsOptions) {
    this.#options = options;
    this.#nowMs = options.nowMs ?? Date.now;
  }

  /**
   * A round of `slot` that started at `startedAtMs` completed with every other owner of
   * `owners` (the slot's owners when it started). A horizon never moves back.
   */
  record(slot: number, startedAtMs: number, owners: readonly string[]): void {
    const before = this.#bySlot.get(slot);
    const key = owners.join(",");
    if (before !== undefined && before.owners === key && before.atMs >= startedAtMs) return;
    this.#bySlot.set(slot, { atMs: startedAtMs, owners: key });
  }

  /**
   * The horizons of the slots this node owns in `view`: the recorded one while the slot's
   * owners are those it was recorded with, now for a slot owned here alone; other slots are
   * left out (their tombstones stay).
   */
  horizons(view: Pick<ClusterView, "self" | "slots">): Map<number, number> {
    const horizons = new Map<number, number>();
    if (view.slots === undefined) return horizons;
    const nowMs = this.#nowMs();
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      const owners = view.slots.entry(slot).owners;
      if (!owners.includes(view.self)) continue;
      if (owners.length === 1) {
        horizons.set(slot, nowMs);
        continue;
      }
      const horizon = this.#bySlot.get(slot);
      if (horizon !== undefined && horizon.owners === owners.join(",")) {
        horizons.set(slot, horizon.atMs);
      }
    }
    return horizons;
  }

  /**
   * A sweep ended: sends the horizons of `view` to the shards unless they were sent less than
   * `sendIntervalMs` ago (or a send is under way). Resolves once sent (or skipped).
   */
  async sweepEnded(view: Pick<ClusterView, "self" | "slots" | "joining">): Promise<void> {
    if (view.joining === true || this.#sending) return;
    if (this.#nowMs() - this.#sentAtMs < this.#options.sendIntervalMs) return;
    this.#sending = true;
    this.#sentAtMs = this.#nowMs();
    try {
      await this.#options.send(this.horizons(view));
    } catch (error) {
      this.#options.log?.warn(`cannot send the tombstone horizons: ${(error as Error).message}`);
    } finally {
      this.#sending = false;
    }
  }
}
