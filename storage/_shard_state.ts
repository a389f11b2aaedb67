/**
 * The state one microshard's parts share: the document store, the open indexes, the
 * sequence numbers and the catch-up bookkeeping. `Microshard` owns it; the internal
 * modules (`_engines.ts`, `_recovery.ts`, `_index_lifecycle.ts`, `_write_commit.ts`,
 * `_shard_reads.ts`) act on it, always inside the shard's exclusive queue except reads.
 *
 * @module
 */

import type { DocumentStore } from "./_document_store.ts";
import type { MicroshardFaults } from "./_shard_types.ts";
import type { IndexMeta } from "./kv_layout.ts";
import type { EngineName, SearchIndex } from "./search_index.ts";
import type { HybridLogicalClock } from "./hlc.ts";

/** An index with its engine open. */
export interface OpenIndex {
  meta: IndexMeta;
  engine: SearchIndex;
}

/** What a microshard's parts share. */
export interface ShardState {
  readonly dir: string;
  readonly store: DocumentStore;
  readonly faults: MicroshardFaults;
  readonly maxDocumentBytes: number;
  readonly memoryLimitBytes: number | undefined;
  readonly defaultEngine: EngineName;
  readonly pruneEveryEntries: number;
  readonly indexes: Map<string, OpenIndex>;
  /** Stamps client writes. */
  readonly clock: HybridLogicalClock;
  /** The wall clock, in ms since the epoch. */
  readonly nowMs: () => number;
  /** Tombstones are collected this long after their delete, in ms. */
  readonly tombstoneGraceMs: number;
  /** Tombstones are collected at most this often, in ms. */
  readonly tombstoneCollectIntervalMs: number;
  /** Slots whose tombstones are kept whatever their age (slots being moved). */
  heldSlots: ReadonlySet<number>;
  /**
   * With replicas, per slot the local time before which every replica holds this shard's
   * tombstones (a slot missing: none collected); `undefined` without replicas (the grace alone).
   */
  tombstoneHorizons: ReadonlyMap<number, number> | undefined;
  /** When tombstones were last collected, in ms since the epoch. */
  tombstonesCollectedAtMs: number;
  /** Tombstones collected since the shard opened. */
  tombstonesCollected: number;
  /** The last sequence number committed. */
  seq: number;
  /** Change-log entries up to here are pruned. */
  pruned: number;
  /** Changes committed since the last prune. */
  sincePrune: number;
  /** Rebuilds under way: an engine being refilled answers searches only partly. */
  rebuilding: number;
  /** Indexes whose engine missed a batch (it could not apply it): they catch up first. */
  readonly behind: Set<string>;
  /** Per index, the highest sequence number of a change-log entry naming it. */
  readonly lastTouch: Map<string, number>;
}
