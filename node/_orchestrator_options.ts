/**
 * The NodeOrchestrator's options and the defaults it falls back on.
 *
 * @module
 */

import type { EngineName } from "../storage/search_index.ts";

/** Reader workers of a node whose options name none (see `OrchestratorOptions.readerWorkers`). */
export const DEFAULT_READER_WORKERS = 2;
/**
 * Where point reads are answered: `main` — from KV handles of the main isolate's own (no
 * worker hop: measured ~0.35 ms a read against ~0.9 ms through a reader worker, 2 cores);
 * `workers` — by `readerWorkers` reader workers; `shards` — by the shard workers (then a
 * read waits behind the shard's write batch). `main` and `workers` never wait behind a write.
 */
export type PointReads = "main" | "workers" | "shards";
/** Where a node whose options name none answers point reads. */
export const DEFAULT_POINT_READS: PointReads = "main";
/** The niceness of shard worker threads of a node whose options name none. */
export const DEFAULT_SHARD_NICENESS = 10;
/** Default time a shard may take to answer, in ms. */
export const DEFAULT_SHARD_TIMEOUT_MS = 30_000;
/** The engine of an index created by a write. */
export const DEFAULT_ENGINE: EngineName = "fts5";

/** Options of `NodeOrchestrator.start`. */
export interface OrchestratorOptions {
  readonly dataDir: string;
  /** Microshards of a new node; an existing node keeps its count. */
  readonly numShards: number;
  /** Per-shard memory limit for the search indexes, in bytes. */
  readonly memoryLimitBytes?: number;
  /** Time a shard may take to answer, in ms. */
  readonly shardTimeoutMs?: number;
  /** The engine of an index created without one (by a write, or `_config` naming none). */
  readonly defaultEngine?: EngineName;
  /** Largest document the shards accept, in bytes (their default: 16 MiB). */
  readonly maxDocumentBytes?: number;
  /** Where point reads are answered. Default {@linkcode DEFAULT_POINT_READS}. */
  readonly pointReads?: PointReads;
  /**
   * With `pointReads: "workers"`: workers that answer point reads from KV handles of their
   * own, so a read never waits behind a shard worker's write batch (shard `i` is read by
   * reader `i % readerWorkers`; at most one per shard); 0 sends point reads to the shard
   * workers. Default {@linkcode DEFAULT_READER_WORKERS}.
   */
  readonly readerWorkers?: number;
  /**
   * `storage.wal_sync = "batch"`: each shard's write batch waits this long, in ms, for more
   * writes to share its commit (0 or absent: `always`, it starts at once).
   */
  readonly commitWindowMs?: number;
  /**
   * The niceness of the shard workers' threads (Linux; 0 leaves them as they are): above 0,
   * the main isolate and the reader workers get a core first when a bulk keeps the shards
   * busy. Default {@linkcode DEFAULT_SHARD_NICENESS}.
   */
  readonly shardNiceness?: number;
  /** Tests: holds every shard worker's thread at its engine applies (`MicroshardActorArgs`). */
  readonly shardApplyGate?: Int32Array;
  /** The tag of the shards' write stamps (the node id; `local` by default). */
  readonly stampTag?: string;
  /** Tombstones are kept this long after a delete, in ms (the shards' default: 10 days). */
  readonly tombstoneGraceMs?: number;
  /** Tombstones are collected at most this often, in ms (the shards' default: an hour). */
  readonly tombstoneCollectIntervalMs?: number;
  /**
   * The node runs with replicas: the shards collect a tombstone only once every replica of
   * its slot holds it (see `NodeOrchestrator.setTombstoneHorizons`).
   */
  readonly tombstonesAwaitReplicas?: boolean;
}
