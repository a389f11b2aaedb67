/**
 * A microshard: the hybrid store of one shard — documents in Deno KV, the source of truth,
 * and per index a derived search index (FTS5 or Orama). `Microshard` composes the parts and
 * runs them one caller at a time (reads beside the queue); each part is a file of its own:
 *
 * - `_write_plan.ts` — a batch planned by pure functions: `validateRequests`,
 *   `refuseOverMemory`, `stageChanges` (versions, sequence numbers, KV mutations), with
 *   `_index_plan.ts`'s `planIndexes` (evolve the schema, or check against the one the node
 *   carried);
 * - `_write_commit.ts` — `commitToKv`, `applyToEngines`, `housekeep`;
 * - `_document_store.ts` — the KV document store: headers, bodies, blobs, the change log;
 * - `_recovery.ts` — `recover` at open, `catchUp` from the change log, `prune`;
 * - `_engines.ts` — opening an engine, applying to it, rebuilding it from KV;
 * - `_index_lifecycle.ts` — `configureIndex`, `adoptMeta`, `dropIndex`;
 * - `_shard_reads.ts` — `readDocument`, `readSlotPage`, `searchShard`, `indexInfos`.
 * - `_slot_migration.ts` — gives documents written before slots were stored their slot.
 *
 * A write answered `ok` is durable (committed to KV) and searchable (applied to its
 * engine). Recovery ({@linkcode Microshard.open}) brings every engine level with KV.
 *
 * @module
 */

import { BlobGoneError, DocumentStore } from "./_document_store.ts";
import {
  configureIndex,
  dropIndex,
  findMisfitDocument,
  type IndexConfig,
} from "./_index_lifecycle.ts";
import { collectTombstones, collectTombstonesIfDue, prune, recover } from "./_recovery.ts";
import {
  indexInfos,
  readDocument,
  readSlotPage,
  readSlotTombstones,
  readStamped,
  searchShard,
  type ShardSearchOptions,
} from "./_shard_reads.ts";
import type { ShardState } from "./_shard_state.ts";
import {
  DEFAULT_MAX_DOCUMENT_BYTES,
  DEFAULT_PRUNE_EVERY_ENTRIES,
  DEFAULT_TOMBSTONE_COLLECT_INTERVAL_MS,
  DEFAULT_TOMBSTONE_GRACE_MS,
  type IndexInfo,
  type MicroshardOptions,
  type RecoveryReport,
  type ShardSearchResult,
  type SlotPage,
  type SlotTombstonePage,
  type StampedRead,
  type StoredDocument,
  type WriteOptions,
  type WriteOutcome,
  type WriteRequest,
} from "./_shard_types.ts";
import { HybridLogicalClock } from "./hlc.ts";
import { applyToEngines, commitToKv, housekeep } from "./_write_commit.ts";
import {
  changeOutcome,
  documentKey,
  type Failure,
  failureOutcome,
  notFoundOutcome,
  refuseOverMemory,
  stageChanges,
  unchangedOutcome,
  validateRequests,
  withoutFailures,
} from "./_write_plan.ts";
import { planIndexes } from "./_index_plan.ts";
import { StorageUnavailableError } from "./errors.ts";
import type { DocHeader, Tombstone } from "./kv_layout.ts";
import type { Plan } from "./search_index.ts";
import type { Schema } from "./schema.ts";

export {
  type CarriedSchema,
  type CarriedSchemas,
  DEFAULT_MAX_DOCUMENT_BYTES,
  DEFAULT_TOMBSTONE_COLLECT_INTERVAL_MS,
  DEFAULT_TOMBSTONE_GRACE_MS,
  type IndexInfo,
  type MicroshardFaults,
  type MicroshardOptions,
  type RecoveryReport,
  type ShardHit,
  type ShardSearchResult,
  type SlotDocument,
  type SlotPage,
  type SlotTombstone,
  type SlotTombstonePage,
  type StampedRead,
  type StoredDocument,
  type WriteOptions,
  type WriteOutcome,
  type WriteRequest,
} from "./_shard_types.ts";

/** Documents deleted per batch when a slot is dropped. */
const DROP_SLOT_BATCH_DOCUMENTS = 1_000;

/** The hybrid store of one microshard. */
export class Microshard {
  readonly dir: string;
  #state: ShardState;
  #lock: Promise<unknown> = Promise.resolve();
  #closed = false;
  /** Reads running beside the exclusive queue (see `#read`). */
  #reads = new Set<Promise<unknown>>();
  #recovery: RecoveryReport = {
    replayedEntries: 0,
    rebuiltIndexes: [],
    removedBlobs: 0,
    migratedDocuments: 0,
    durationMs: 0,
  };
  #writeBatches = 0;

  private constructor(store: DocumentStore, options: MicroshardOptions) {
    this.dir = options.dir;
    this.#state = {
      dir: options.dir,
      store,
      faults: options.faults ?? {},
      maxDocumentBytes: options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES,
      memoryLimitBytes: options.memoryLimitBytes,
      defaultEngine: options.defaultEngine ?? "fts5",
      pruneEveryEntries: options.pruneEveryEntries ?? DEFAULT_PRUNE_EVERY_ENTRIES,
      indexes: new Map(),
      clock: new HybridLogicalClock({
        tag: options.stampTag ?? "local",
        ...(options.nowMs === undefined ? {} : { nowMs: options.nowMs }),
      }),
      nowMs: options.nowMs ?? Date.now,
      tombstoneGraceMs: options.tombstoneGraceMs ?? DEFAULT_TOMBSTONE_GRACE_MS,
      tombstoneCollectIntervalMs: options.tombstoneCollectIntervalMs ??
        DEFAULT_TOMBSTONE_COLLECT_INTERVAL_MS,
      heldSlots: new Set(),
      tombstoneHorizons: options.tombstonesAwaitReplicas === true ? new Map() : undefined,
      tombstonesCollectedAtMs: 0,
      tombstonesCollected: 0,
      seq: 0,
      pruned: 0,
      sincePrune: 0,
      rebuilding: 0,
      behind: new Set(),
      lastTouch: new Map(),
    };
  }

  /** Opens (or creates) the microshard in `options.dir` and recovers it. */
  static async open(options: MicroshardOptions): Promise<Microshard> {
    const started = performance.now();
    await Deno.mkdir(`${options.dir}/indexes`, { recursive: true });
    const beforeBlobRead = options.faults?.beforeBlobRead;
    const store = await DocumentStore.open(
      `${options.dir}/kv.sqlite`,
      beforeBlobRead === undefined ? {} : { beforeBlobRead },
    );
    const shard = new Microshard(store, options);
    try {
      const stats = await recover(shard.#state);
      shard.#recovery = { ...stats, durationMs: Math.round(performance.now() - started) };
    } catch (error) {
      shard.#closeAll();
      throw error;
    }
    return shard;
  }

  /** What recovery did when the shard opened. */
  get recovery(): RecoveryReport {
    return this.#recovery;
  }

  /** The last sequence number committed. */
  get seq(): number {
    return this.#state.seq;
  }

  /** How many write batches ran (each batch is one group commit). */
  get writeBatches(): number {
    return this.#writeBatches;
  }

  /** How many tombstones were collected since the shard opened. */
  get tombstonesCollected(): number {
    return this.#state.tombstonesCollected;
  }

  /** Runs `fn` after every earlier call: the store is used by one caller at a time. */
  #exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.#lock.then(() => {
      if (this.#closed) {
        throw new StorageUnavailableError(`The microshard at ${this.dir} is closed`);
      }
      return fn();
    });
    this.#lock = run.catch(() => {});
    return run;
  }

  /**
   * Runs a read beside the exclusive queue, so that reads do not wait for write batches.
   * This is safe because every engine call is synchronous (a search sees each slice of a
   * batch wholly applied or not at all; a batch not yet answered may be partly visible, as
   * it is in KV), a document's header is read in one KV call, and a blob is never
   * rewritten, only removed — a read that finds its blob gone meanwhile is retried in the
   * queue. While an index is being rebuilt, reads queue behind the rebuild. `fn` must call
   * the engine before its first `await`.
   */
  #read<T>(fn: () => Promise<T>): Promise<T> {
    if (this.#closed || this.#state.rebuilding > 0) return this.#exclusive(fn);
    const run = fn().catch((error) => {
      if (error instanceof BlobGoneError) return this.#exclusive(fn);
      throw error;
    });
    this.#reads.add(run);
    run.catch(() => {}).finally(() => this.#reads.delete(run));
    return run;
  }

  /**
   * Writes a batch: every request is validated first, the valid ones are committed to KV in
   * as few atomic operations as fit and applied to the search indexes; then the outcomes
   * come back in request order. A write answered `ok` is durable and searchable. With
   * `options.schemas`, the indexes named there use the schema the node planned (see
   * {@linkcode WriteOptions}); the others are planned and evolved here.
   */
  write(requests: readonly WriteRequest[], options: WriteOptions = {}): Promise<WriteOutcome[]> {
    return this.#exclusive(() => this.#write(requests, options));
  }

  async #write(requests: readonly WriteRequest[], options: WriteOptions) {
    this.#writeBatches++;
    const state = this.#state;
    const outcomes: Array<WriteOutcome | undefined> = new Array(requests.length);
    const fail = (failures: readonly Failure[]) => {
      for (const { request, error } of failures) {
        outcomes[request] = failureOutcome(requests[request]!.id, error);
      }
    };
    const valid = validateRequests(requests, { maxDocumentBytes: state.maxDocumentBytes });
    const usedBytes = [...state.indexes.values()]
      .reduce((sum, open) => sum + open.engine.memoryBytes(), 0);
    const refused = [
      ...valid.failures,
      ...refuseOverMemory(valid.bodies, { usedBytes, limitBytes: state.memoryLimitBytes }),
    ];
    fail(refused);
    const groups = withoutFailures(valid.groups, refused);
    const current = (index: string) => state.indexes.get(index)?.meta;
    const planned = planIndexes({
      requests,
      groups,
      current,
      defaultEngine: state.defaultEngine,
      schemas: options.schemas,
    });
    fail(planned.failures);
    const live = withoutFailures(groups, planned.failures);
    const previous = await this.#previous(requests, live, planned.metas);
    const staged = stageChanges({
      requests,
      groups: live,
      metas: planned.metas,
      bodies: valid.bodies,
      headers: previous.headers,
      tombstones: previous.tombstones,
      seq: state.seq,
      clock: state.clock,
      nowMs: state.nowMs(),
      ...(options.withStamps === true ? { tombstoneAbsent: true } : {}),
      // With replicas, a past-grace delete of an id not held here is not brought back to it.
      ...(state.tombstoneHorizons === undefined
        ? {}
        : { forgetDeletesBeforeMs: state.nowMs() - state.tombstoneGraceMs }),
    });
    for (const i of staged.notFound) outcomes[i] = notFoundOutcome(requests[i]!.id);
    for (const { request, version } of staged.stale) {
      outcomes[request] = unchangedOutcome(requests[request]!.id, version);
    }
    const kv = await commitToKv(state, planned.metas, staged.changes);
    fail(kv.failures);
    fail(await applyToEngines(state, kv.committed));
    for (const change of kv.committed) {
      const outcome = changeOutcome(change);
      outcomes[change.request] ??= options.withStamps === true && outcome.ok
        ? { ...outcome, stamp: change.stamp }
        : outcome;
    }
    await housekeep(state, kv.committed);
    return outcomes.map((outcome) => outcome!);
  }

  /** The headers and tombstones, before the batch, of the documents it writes in indexes that exist. */
  async #previous(
    requests: readonly WriteRequest[],
    groups: ReadonlyMap<string, readonly number[]>,
    metas: ReadonlyMap<string, unknown>,
  ): Promise<{ headers: Map<string, DocHeader>; tombstones: Map<string, Tombstone> }> {
    const headers = new Map<string, DocHeader>();
    const tombstones = new Map<string, Tombstone>();
    const store = this.#state.store;
    for (const [index, positions] of groups) {
      if (!metas.has(index)) continue;
      const ids = [...new Set(positions.map((i) => requests[i]!.id))];
      const { headers: found, tombstones: graves } = await store.headersAndTombstones(index, ids);
      for (const [id, header] of found) headers.set(documentKey(index, id), header);
      for (const [id, tombstone] of graves) tombstones.set(documentKey(index, id), tombstone);
    }
    return { headers, tombstones };
  }

  /** Reads a document by id; `undefined` when absent. */
  get(index: string, id: string): Promise<StoredDocument | undefined> {
    return this.#read(() => readDocument(this.#state, index, id));
  }

  /** Reads a document by id with its stamp, or its tombstone (see `readStamped`). */
  getStamped(index: string, id: string): Promise<StampedRead> {
    return this.#read(() => readStamped(this.#state, index, id));
  }

  /**
   * A page of one slot's documents of `index` (in id order, after `options.afterId`, at most
   * `options.limit`): what a moving slot is streamed from. Runs in the write queue, so a page
   * never sees half a batch.
   */
  slotPage(
    index: string,
    slot: number,
    options: { readonly afterId?: string; readonly limit: number },
  ): Promise<SlotPage> {
    return this.#exclusive(() => readSlotPage(this.#state, index, slot, options));
  }

  /**
   * A page of one slot's tombstones of `index` (in id order, after `options.afterId`, at most
   * `options.limit`): streamed with the slot's documents, so a move carries its deletes.
   */
  slotTombstones(
    index: string,
    slot: number,
    options: { readonly afterId?: string; readonly limit: number },
  ): Promise<SlotTombstonePage> {
    return this.#exclusive(() => readSlotTombstones(this.#state, index, slot, options));
  }

  /**
   * Keeps the tombstones of these slots whatever their age (the slots being moved), until
   * the next call; collection skips them.
   */
  holdSlots(slots: Iterable<number>): void {
    this.#state.heldSlots = new Set(slots);
  }

  /**
   * With replicas (`tombstonesAwaitReplicas`), the slots' horizons from now on, as
   * `[slot, ms]` pairs: a slot's tombstones written before its horizon (local wall-clock ms)
   * are held by every replica, so they may go once past the grace; a slot without one keeps
   * them. Then collects when the last collection is `tombstoneCollectIntervalMs` old; returns
   * how many were collected. Ignored without replicas (the grace alone decides).
   */
  setTombstoneHorizons(horizons: Iterable<readonly [number, number]>): Promise<number> {
    if (this.#state.tombstoneHorizons === undefined) return Promise.resolve(0);
    this.#state.tombstoneHorizons = new Map(horizons);
    return this.#exclusive(() => collectTombstonesIfDue(this.#state));
  }

  /**
   * Collects the tombstones older than `tombstoneGraceMs` outside held slots (and, with
   * replicas, written before their slot's horizon); returns how many. It also runs by itself
   * when the change log is pruned, at most every `tombstoneCollectIntervalMs`.
   */
  collectTombstones(): Promise<number> {
    return this.#exclusive(() => collectTombstones(this.#state));
  }

  /**
   * Deletes every document of one slot of `index` (the old owner's copy, once a moved slot
   * has flipped), in batches through the write pipeline, then the slot's tombstones (the new
   * owner keeps its own); returns how many documents were deleted.
   */
  async dropSlot(index: string, slot: number): Promise<number> {
    let deleted = 0;
    for (;;) {
      const ids: string[] = [];
      for await (const id of this.#state.store.slotIds(index, slot)) {
        ids.push(id);
        if (ids.length >= DROP_SLOT_BATCH_DOCUMENTS) break;
      }
      if (ids.length === 0) break;
      const outcomes = await this.write(ids.map((id) => ({ op: "delete", index, id })));
      const failed = outcomes.find((outcome) => !outcome.ok);
      if (failed !== undefined && !failed.ok) {
        throw new StorageUnavailableError(
          `Cannot drop slot ${slot} of index "${index}": ${failed.error.message}`,
        );
      }
      const batch = outcomes.filter((outcome) => outcome.ok && outcome.result === "deleted").length;
      // A slot entry without its header cannot be: never loop on one.
      if (batch === 0) break;
      deleted += batch;
    }
    await this.#exclusive(() => this.#state.store.deleteSlotTombstones(index, slot));
    return deleted;
  }

  /** Per slot, how many documents of `index` this shard holds (slots holding none are left out). */
  slotCounts(index: string): Promise<Map<number, number>> {
    return this.#exclusive(() => this.#state.store.slotCounts(index));
  }

  /** Runs a plan on one index and returns a page of hits with their documents. */
  search(index: string, plan: Plan, options: ShardSearchOptions): Promise<ShardSearchResult> {
    return this.#read(() => searchShard(this.#state, index, plan, options));
  }

  /** The indexes of this shard. */
  indexes(): IndexInfo[] {
    return indexInfos(this.#state);
  }

  /**
   * Creates an index or extends its schema with declared fields. The engine is chosen when
   * the index is created; naming another engine for an existing index is refused.
   */
  configure(index: string, config: IndexConfig): Promise<IndexInfo> {
    return this.#exclusive(async () => {
      await configureIndex(this.#state, index, config);
      return this.indexes().find((info) => info.name === index)!;
    });
  }

  /**
   * The first stored document of `index` that does not fit `schema`, or undefined: what a
   * retype (`configure` with `retype`) checks on every shard before anything changes.
   */
  checkSchema(index: string, schema: Schema): Promise<{ id: string; message: string } | undefined> {
    return this.#exclusive(() => findMisfitDocument(this.#state, index, schema));
  }

  /** Deletes an index: its documents, its engine and its files. Returns whether it existed. */
  dropIndex(index: string): Promise<boolean> {
    return this.#exclusive(() => dropIndex(this.#state, index));
  }

  /** Prunes the change log and closes KV and every index. */
  close(): Promise<void> {
    return this.#exclusive(async () => {
      await Promise.allSettled(this.#reads);
      await prune(this.#state).catch(() => {});
      this.#closeAll();
    });
  }

  #closeAll(): void {
    this.#closed = true;
    for (const open of this.#state.indexes.values()) open.engine.close();
    this.#state.indexes.clear();
    this.#state.store.close();
  }
}
