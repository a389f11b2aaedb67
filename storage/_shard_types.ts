/**
 * The public types of a microshard, re-exported by `microshard.ts` (where callers import
 * them from).
 *
 * @module
 */

import type { Bm25Params, CorpusStats } from "./bm25.ts";
import type { SerializedError } from "../actors/errors.ts";
import type { Schema } from "./schema.ts";
import type { EngineName, FacetCounts, Hit } from "./search_index.ts";

/** Default largest document, in bytes of UTF-8 JSON. */
export const DEFAULT_MAX_DOCUMENT_BYTES = 16 * 1024 * 1024;

/** Default number of change-log entries written between two attempts to prune the log. */
export const DEFAULT_PRUNE_EVERY_ENTRIES = 1_000;

/** Default time a tombstone is kept before it is collected, in ms (10 days, as Cassandra's gc_grace_seconds). */
export const DEFAULT_TOMBSTONE_GRACE_MS = 10 * 24 * 60 * 60 * 1_000;

/** Default time between two collections of tombstones, in ms (an hour). */
export const DEFAULT_TOMBSTONE_COLLECT_INTERVAL_MS = 60 * 60 * 1_000;

/** Fault injection for crash and gating tests: called between steps of the pipeline. */
export interface MicroshardFaults {
  /**
   * After a KV atomic operation of a write batch committed, before the index applies it. A
   * returned promise holds the batch (inside the shard's exclusive queue) until it settles.
   */
  readonly afterKvCommit?: () => void | Promise<void>;
  /** After a read found a document's header, before it reads the document's blob. */
  readonly beforeBlobRead?: () => Promise<void>;
  /** Before an engine applies operations (a write batch's or a catch-up's); may throw. */
  readonly beforeIndexApply?: (index: string) => void;
}

/** Options of `Microshard.open`. */
export interface MicroshardOptions {
  /** The shard's directory: `kv.sqlite` and `indexes/`. */
  readonly dir: string;
  /** Largest document accepted, in bytes; 16 MiB by default. */
  readonly maxDocumentBytes?: number;
  /** Writes are refused once the indexes hold more than this in memory; none by default. */
  readonly memoryLimitBytes?: number;
  /** The engine of indexes created without one; `fts5` by default. */
  readonly defaultEngine?: EngineName;
  /** Change-log entries kept before pruning is attempted; 1000 by default. */
  readonly pruneEveryEntries?: number;
  /** Fault injection for crash tests: called between steps of the write pipeline. */
  readonly faults?: MicroshardFaults;
  /** The tag of this shard's stamps (`hlc.ts`): the node id in a cluster; `local` by default. */
  readonly stampTag?: string;
  /** Tombstones are collected this long after their delete, in ms; 10 days by default. */
  readonly tombstoneGraceMs?: number;
  /** Tombstones are collected at most this often, in ms; an hour by default. */
  readonly tombstoneCollectIntervalMs?: number;
  /**
   * The node runs with replicas: a tombstone is collected only once every replica of its slot
   * holds it (see `Microshard.setTombstoneHorizons`; none is known when the shard opens).
   * False by default: the grace alone.
   */
  readonly tombstonesAwaitReplicas?: boolean;
  /** The wall clock, in ms since the epoch (stamps, tombstone ages); `Date.now` by default. */
  readonly nowMs?: () => number;
}

/**
 * One write in a batch. `slot` is the document's cluster slot, computed by the node where it
 * places the write (`slotOf(routingKey ?? id)`); without it the shard computes the same.
 * `routingKey` is stored in the header, so a moving slot's documents can be placed again.
 *
 * Without `stamp` the write is a client's: the shard stamps it with its hybrid logical clock
 * after observing the stored document's (or tombstone's) stamp, so it always beats what it
 * replaces. With `stamp` it is a copy of the serving owner's write (a moving slot's
 * snapshot item or forwarded write, which also carries the owner's `version`): it is
 * applied only when its stamp is newer than the stored document's or tombstone's, and
 * answered `unchanged` otherwise, so the newest write wins whatever the order of arrival; a
 * copied delete of a document the shard does not hold leaves its tombstone (answered
 * `not_found`). A delete leaves a tombstone (collected after
 * `MicroshardOptions.tombstoneGraceMs`). With `version` alone (no stamp) the versions are
 * compared instead, as before stamps were stored.
 */
export type WriteRequest =
  | {
    readonly op: "put";
    readonly index: string;
    readonly id: string;
    readonly doc: unknown;
    readonly slot?: number;
    readonly routingKey?: string;
    /** The version a copy is stored with (see {@linkcode WriteRequest}). */
    readonly version?: number;
    /** The owner's stamp of a copy (see {@linkcode WriteRequest}). */
    readonly stamp?: string;
  }
  | {
    readonly op: "delete";
    readonly index: string;
    readonly id: string;
    readonly slot?: number;
    readonly routingKey?: string;
    /** The version a copied delete leaves in its tombstone (see {@linkcode WriteRequest}). */
    readonly version?: number;
    /** The owner's stamp of a copy (see {@linkcode WriteRequest}). */
    readonly stamp?: string;
  };

/** The outcome of one write. */
export type WriteOutcome =
  | {
    readonly ok: true;
    readonly id: string;
    /** `unchanged`: a versioned write not newer than the stored document, left as is. */
    readonly result: "created" | "updated" | "deleted" | "not_found" | "unchanged";
    readonly version: number;
    /** The stamp of the change, with `WriteOptions.withStamps` (what a copy of it carries). */
    readonly stamp?: string;
  }
  | { readonly ok: false; readonly id: string; readonly error: SerializedError };

/** An index's schema and engine as the node planned them, carried by a write batch. */
export interface CarriedSchema {
  readonly schema: Schema;
  readonly engine: EngineName;
}

/** Per index, the schema the node planned for a batch. */
export type CarriedSchemas = Readonly<Record<string, CarriedSchema>>;

/** Options of `Microshard.write`. */
export interface WriteOptions {
  /**
   * The write is an owner's that it copies to other replicas: each change's outcome carries
   * its stamp (what the copies carry), and a delete of an id the shard does not hold still
   * leaves a stamped tombstone (answered `not_found`), so the copies order it against a put
   * another replica holds and this one missed.
   */
  readonly withStamps?: boolean;
  /**
   * The schemas the node planned for this batch, per index. For an index named here the
   * shard does not plan or evolve: it adopts the carried schema when it is newer than its
   * own (creating the index with its engine when missing; an existing index keeps its
   * engine, chosen when it was created), keeps its own when that is newer,
   * and only checks each document against the schema it uses — a document that does not fit
   * fails with `AssertionError` (the caller's mistake). Indexes not named here are planned
   * and evolved by the shard itself.
   */
  readonly schemas?: CarriedSchemas;
}

/** A stored document. */
export interface StoredDocument {
  readonly id: string;
  readonly version: number;
  readonly doc: Record<string, unknown>;
}

/**
 * A stored document as a slot's range read returns it: with the routing key it was written
 * with and the stamp of its write (absent for a document written before stamps were stored).
 */
export interface SlotDocument extends StoredDocument {
  readonly routingKey?: string;
  readonly stamp?: string;
}

/** A tombstone as a slot's range read returns it. */
export interface SlotTombstone {
  readonly id: string;
  readonly version: number;
  readonly stamp: string;
  readonly routingKey?: string;
}

/**
 * A document by id as replicas compare it (see `Microshard.getStamped`): the document with its
 * stamp, or the tombstone its delete left; neither when this shard holds nothing of the id.
 */
export interface StampedRead {
  readonly document?: SlotDocument;
  readonly tombstone?: SlotTombstone;
}

/** A page of one slot's tombstones of one index, in id order. */
export interface SlotTombstonePage {
  readonly tombstones: readonly SlotTombstone[];
  /** The id to pass as `afterId` for the next page; absent on the last page. */
  readonly next?: string;
}

/** A page of one slot's documents of one index, in id order. */
export interface SlotPage {
  readonly documents: readonly SlotDocument[];
  /** The id to pass as `afterId` for the next page; absent on the last page. */
  readonly next?: string;
}

/** A page of search results with their documents. */
export interface ShardSearchResult {
  readonly total: number;
  readonly hits: ReadonlyArray<ShardHit>;
  /** Facet counts, in the order asked, when facets were asked for. */
  readonly facets?: FacetCounts[];
  /** With `statsOnly`: this shard's part of the statistics scoring the plan needs. */
  readonly stats?: CorpusStats;
  /**
   * With `withoutDocs`: the hits carry no documents (`doc` is empty, `version` 0) — the node
   * reads those of the merged page itself (the fetch phase, `query/fetch_phase.ts`).
   */
  readonly docsLeftOut?: true;
}

/** A hit with its document. */
export interface ShardHit extends Hit {
  readonly doc: Record<string, unknown>;
  readonly version: number;
}

/** What a microshard tells about one index. */
export interface IndexInfo {
  readonly name: string;
  readonly engine: EngineName;
  readonly schema: Schema;
  readonly description?: string;
  /** The index's ranking settings, when it sets them. */
  readonly ranking?: Bm25Params;
  readonly documentCount: number;
  readonly memoryBytes: number;
}

/** What recovery did when the shard opened. */
export interface RecoveryReport {
  readonly replayedEntries: number;
  readonly rebuiltIndexes: string[];
  readonly removedBlobs: number;
  /** Headers given their slot when a directory written before slots were stored opened. */
  readonly migratedDocuments: number;
  readonly durationMs: number;
}
