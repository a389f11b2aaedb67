/**
 * The NodeOrchestrator: one node's microshards (MicroshardActors in workers), the
 * node-level schema of every index, and the mapping of logical operations to shard work.
 *
 * - **Placement**: a document lives in microshard `fnv1a(routing_key ?? id) % shardCount`.
 *   The shard count is fixed when the node first starts (kept in `shards.json`), so a
 *   document's microshard never changes (invariant 7).
 * - **Schema**: the node plans each index's schema once per batch, against its own copy,
 *   and sends the result with the batch; shards adopt it and only check documents against
 *   it. Planning and adopting happen in one synchronous step (no `await` between reading
 *   the schema and replacing it), so concurrent batches never lose each other's fields.
 * - **Drop fencing**: while an index is being deleted, writes to it fail with 404; writes
 *   sent before the drop reach each shard before it (one sender, FIFO mailboxes), so they
 *   are deleted with the index.
 *
 * The parts, one concept a file: the shard and reader workers (`_shard_workers.ts`), the
 * node-level schemas and their planning per batch (`_node_schemas.ts`), a batch grouped per
 * shard (`_shard_batches.ts`), the options and their defaults (`_orchestrator_options.ts`).
 *
 * @module
 */

import type { ActorSystem } from "../actors/system.ts";
import { serializeError } from "../actors/errors.ts";
import { IndexNotFoundError, InvalidInputError } from "../storage/errors.ts";
import type {
  SlotPage,
  SlotTombstonePage,
  StampedRead,
  StoredDocument,
} from "../storage/microshard.ts";
import type { MicroshardMsg, MicroshardReplies } from "../storage/microshard_actor.ts";
import { validateIndexName } from "../storage/names.ts";
import { declareFields, fieldDeclarations, typeChanges } from "../storage/schema.ts";
import type { PageSet, ShardQuery } from "../query/pipeline.ts";
import { addStats } from "../storage/bm25.ts";
import type { ShardChanges } from "../storage/shard_changes.ts";
import type {
  DroppedIndex,
  IndexConfig,
  IndexSchema,
  IndexSummary,
  WriteResult,
} from "./executor.ts";
import { fnv1a } from "./hash.ts";
import type { WriteCommand } from "./write_command.ts";
import {
  beingDropped,
  beingReindexed,
  checkedRanking,
  NodeSchemas,
  type SchemaListEntry,
} from "./_node_schemas.ts";
import { DEFAULT_SHARD_TIMEOUT_MS, type OrchestratorOptions } from "./_orchestrator_options.ts";
import { shardBatches } from "./_shard_batches.ts";
import { StatsCache } from "./_stats_cache.ts";
import { type ReaderRef, type ShardRef, spawnReaders, spawnShards } from "./_shard_workers.ts";

export { fnv1a } from "./hash.ts";
export {
  DEFAULT_READER_WORKERS,
  DEFAULT_SHARD_NICENESS,
  type OrchestratorOptions,
} from "./_orchestrator_options.ts";

/** Time a shard may take to open (recovery, rebuilding in-memory indexes from KV), in ms. */
const SHARD_RECOVERY_TIMEOUT_MS = 15 * 60_000;

/** The node's microshards and index schemas. */
export class NodeOrchestrator {
  readonly shardCount: number;
  #shards: ShardRef[];
  #readers: ReaderRef[] = [];
  #schemas: NodeSchemas;
  #options: OrchestratorOptions;
  /** What every change of a shard's contents counts in (shared with the shard workers). */
  readonly #changes: ShardChanges;
  /** The statistics phase of searches, kept while no shard changes. */
  readonly #stats = new StatsCache();

  private constructor(shards: ShardRef[], changes: ShardChanges, options: OrchestratorOptions) {
    this.#shards = shards;
    this.#changes = changes;
    this.shardCount = shards.length;
    this.#options = options;
    this.#schemas = new NodeSchemas({
      ...(options.defaultEngine === undefined ? {} : { defaultEngine: options.defaultEngine }),
      ...(options.maxDocumentBytes === undefined
        ? {}
        : { maxDocumentBytes: options.maxDocumentBytes }),
    });
  }

  /** Spawns the microshard workers (supervised by `system`) and loads the schemas. */
  static async start(system: ActorSystem, options: OrchestratorOptions): Promise<NodeOrchestrator> {
    const { shards, changes } = await spawnShards(system, options);
    const node = new NodeOrchestrator(shards, changes, options);
    await node.#loadSchemas();
    // After the shards answered: their recovery (which may rewrite KV) is done.
    node.#readers = await spawnReaders(system, { ...options, shardCount: shards.length });
    return node;
  }

  #ask<T extends MicroshardMsg>(shard: ShardRef, msg: T): Promise<MicroshardReplies[T["type"]]> {
    return shard.ask(msg, { timeoutMs: this.#options.shardTimeoutMs ?? DEFAULT_SHARD_TIMEOUT_MS });
  }

  #everyShard<T extends MicroshardMsg>(msg: T): Promise<Array<MicroshardReplies[T["type"]]>> {
    return Promise.all(this.#shards.map((shard) => this.#ask(shard, msg)));
  }

  async #loadSchemas(): Promise<void> {
    // The first answer of each shard comes after its recovery (an Orama index is rebuilt from
    // KV: a minute or more for a large one on a busy machine), not within the usual timeout.
    const perShard = await Promise.all(
      this.#shards.map((shard) =>
        shard.ask({ type: "indexes" }, { timeoutMs: SHARD_RECOVERY_TIMEOUT_MS })
      ),
    );
    this.#schemas.load(perShard.flat());
  }

  /** Indexes on this node. */
  get indexCount(): number {
    return this.#schemas.size;
  }

  /** The microshard of a routing key. */
  shardOf(routingKey: string): number {
    return fnv1a(routingKey) % this.shardCount;
  }

  /** The node-level schema of an index, if it exists. */
  schema(index: string): IndexSchema | undefined {
    return this.#schemas.get(index);
  }

  /** Every index's schema as a field list (what nodes of a cluster exchange). */
  schemaList(): SchemaListEntry[] {
    return this.#schemas.list();
  }

  /** Declares or extends an index's schema (`PUT /api/{index}/_config`) on every shard. */
  async configure(index: string, config: IndexConfig): Promise<IndexSchema> {
    validateIndexName(index);
    const current = this.#schemas.get(index);
    if (current !== undefined && typeChanges(current.schema, config.fields ?? []).length > 0) {
      return await this.#retype(index, current, config);
    }
    const entry = this.#schemas.declare(index, config);
    const fields = fieldDeclarations(entry.schema);
    const description = config.description === undefined ? {} : { description: config.description };
    const ranking = config.ranking === undefined || entry.ranking === undefined
      ? {}
      : { ranking: entry.ranking };
    await this.#everyShard({
      type: "configure",
      index,
      config: { fields, engine: entry.engine, ...description, ...ranking },
    });
    return entry;
  }

  /**
   * Changes declared fields' types by reindexing from KV: writes to the index wait out (503,
   * retry), every shard checks that each stored document fits the new schema — the first
   * misfit refuses the change and nothing changes — then every shard commits the schema and
   * rebuilds its engine from KV. Writes sent before the fence reach each shard before its
   * check (one sender, FIFO mailboxes), so the check sees them.
   */
  async #retype(index: string, current: IndexSchema, config: IndexConfig): Promise<IndexSchema> {
    if (this.#schemas.dropping.has(index)) throw beingDropped(index);
    if (this.#schemas.reindexing.has(index)) throw beingReindexed(index);
    let schema;
    try {
      schema = declareFields(current.schema, config.fields ?? [], { retype: true });
    } catch (error) {
      throw new InvalidInputError((error as Error).message);
    }
    this.#schemas.reindexing.add(index);
    try {
      const misfit = (await this.#everyShard({ type: "checkSchema", index, schema }))
        .find((found) => found !== null);
      if (misfit != null) {
        throw new InvalidInputError(
          `Cannot change the schema of index "${index}": document "${misfit.id}" does not fit: ${misfit.message}`,
        );
      }
      const description = config.description === undefined
        ? {}
        : { description: config.description };
      await this.#everyShard({
        type: "configure",
        index,
        config: {
          fields: fieldDeclarations(schema),
          engine: current.engine,
          retype: true,
          ...description,
          ...checkedRanking(config, schema, current),
        },
      });
      const ranking = checkedRanking(config, schema, current);
      const entry = { schema, engine: current.engine, ...ranking };
      this.#schemas.set(index, entry);
      return entry;
    } finally {
      this.#schemas.reindexing.delete(index);
    }
  }

  /**
   * Plans, on this node, the schemas a batch needs and returns those that changed (as field
   * lists). In a cluster the ingress node calls it before the writes go to their owners, so
   * every node knows an index's fields before any of its documents is acknowledged. Writes
   * that would fail are left for {@linkcode write} to report.
   */
  planSchemas(commands: readonly WriteCommand[]): SchemaListEntry[] {
    return this.#schemas.planChanges(commands);
  }

  /**
   * Adopts schemas another node planned: their fields are declared on this node's schema
   * (new indexes are created with their engine). Shards learn new fields with the next batch
   * that carries them. A conflicting type is refused and logged by the caller.
   */
  adoptSchemas(
    schemas: ReadonlyArray<{ index: string; engine: string; fields: IndexConfig["fields"] }>,
  ): string[] {
    return this.#schemas.adopt(schemas);
  }

  /**
   * Writes a batch of checked commands: the schema of each index is planned once (documents
   * that do not fit fail alone), the valid writes go to their shards in parallel with the
   * schemas they were planned against. Outcomes come back in command order.
   */
  async write(
    commands: readonly WriteCommand[],
    options: { readonly withStamps?: boolean } = {},
  ): Promise<WriteResult[]> {
    const outcomes: Array<WriteResult | undefined> = new Array(commands.length);
    const fail = (i: number, error: unknown) => {
      outcomes[i] = { ok: false, id: commands[i]!.id, error: serializeError(error) };
    };
    this.#schemas.planBatch(commands, { outcomes, fail });
    const batches = shardBatches(commands, {
      outcomes,
      shardOf: (key) => this.shardOf(key),
      schemaOf: (index) => this.#schemas.get(index)!,
    });
    await Promise.all([...batches].map(async ([shard, batch]) => {
      try {
        const results = await this.#ask(this.#shards[shard]!, {
          type: "write",
          requests: batch.requests,
          schemas: batch.schemas,
          ...(options.withStamps === true ? { withStamps: true } : {}),
        });
        batch.positions.forEach((i, k) => (outcomes[i] = { ...results[k]!, shard_id: shard }));
      } catch (error) {
        for (const i of batch.positions) fail(i, error);
      }
    }));
    return outcomes.map((outcome) => outcome!);
  }

  /** Reads a document from its shard. */
  async get(index: string, id: string, routingKey?: string): Promise<StoredDocument | null> {
    if (!this.#schemas.has(index)) throw new IndexNotFoundError(index);
    return await this.#read(this.shardOf(routingKey ?? id), index, id);
  }

  /** Reads a document from shard `shard`, through a reader where there are readers. */
  async #read(shard: number, index: string, id: string): Promise<StoredDocument | null> {
    const readers = this.#readers.length;
    if (readers === 0) return await this.#ask(this.#shards[shard]!, { type: "get", index, id });
    return await this.#readers[shard % readers]!.ask(
      { type: "get", shard: Math.floor(shard / readers), index, id },
      { timeoutMs: this.#options.shardTimeoutMs ?? DEFAULT_SHARD_TIMEOUT_MS },
    );
  }

  /**
   * Reads a document with its stamp, or its tombstone, from its shard (what replicas compare;
   * asked of the shard itself, whose reads see every acknowledged write).
   */
  getStamped(index: string, id: string, routingKey?: string): Promise<StampedRead> {
    if (!this.#schemas.has(index)) return Promise.reject(new IndexNotFoundError(index));
    const shard = this.#shards[this.shardOf(routingKey ?? id)]!;
    return this.#ask(shard, { type: "getStamped", index, id });
  }

  /**
   * Every shard's page of a compiled query (a shard that has no such index yet has none).
   * With `fetchPhase` (this node's own searches, never a peer's: the answer carries a
   * function), the shards answer without documents and the set's `fetchDocs` reads them.
   */
  async shardPages(
    query: ShardQuery,
    options: { readonly fetchPhase?: boolean } = {},
  ): Promise<PageSet> {
    if (!this.#schemas.has(query.index)) throw new IndexNotFoundError(query.index);
    if (query.phase !== "stats") {
      if (options.fetchPhase !== true) return await this.#shardPages(query, false);
      const set = await this.#shardPages(query, true);
      const fetchDocs = (wanted: ReadonlyArray<{ page: number; id: string }>) =>
        Promise.all(wanted.map(({ page, id }) => this.#read(page, query.index, id)));
      return { ...set, fetchDocs };
    }
    // The first phase: answered from the statistics kept while no shard changed.
    const version = this.#changes.version();
    const kept = version === undefined
      ? undefined
      : this.#stats.lookup(query.index, query.plan, version);
    if (kept !== undefined) {
      return { pages: [{ total: 0, hits: [], stats: kept }], totalShards: this.shardCount };
    }
    const set = await this.#shardPages(query, false);
    // Summed once here, answered as one page as when kept (the first phase reads only stats).
    const stats = addStats(
      set.pages.flatMap((page) => page.stats === undefined ? [] : [page.stats]),
    );
    if (version !== undefined && this.#changes.version() === version) {
      this.#stats.record(query.index, query.plan, stats, version);
    }
    return { pages: [{ total: 0, hits: [], stats }], totalShards: this.shardCount };
  }

  /** Every shard's page of a query (page `i` from shard `i`), with or without documents. */
  async #shardPages(query: ShardQuery, withoutDocs: boolean): Promise<PageSet> {
    const pages = await Promise.all(this.#shards.map((shard) =>
      this.#ask(shard, {
        type: "search",
        index: query.index,
        plan: query.plan,
        limit: query.limit,
        offset: 0,
        sort: [...query.sort],
        facets: [...query.facets],
        ...(query.stats === undefined ? {} : { stats: query.stats }),
        ...(query.phase === "stats" ? { statsOnly: true } : {}),
        ...(withoutDocs ? { withoutDocs: true } : {}),
        ...(query.deadlineAtMs === undefined ? {} : { deadlineAtMs: query.deadlineAtMs }),
        ...(query.ranking === undefined ? {} : { ranking: query.ranking }),
      }).catch((error) => {
        if (error instanceof Error && error.name === "IndexNotFoundError") {
          return { total: 0, hits: [] };
        }
        throw error;
      })
    ));
    return { pages, totalShards: this.shardCount };
  }

  /**
   * A page of one cluster slot's documents of `index` from one local shard (a slot's
   * documents may sit in every shard: page through `shard` 0 … `shardCount - 1`). What a
   * moving slot is streamed from.
   */
  async slotPage(
    index: string,
    slot: number,
    options: { readonly shard: number; readonly afterId?: string; readonly limit: number },
  ): Promise<SlotPage> {
    if (!this.#schemas.has(index)) throw new IndexNotFoundError(index);
    const shard = this.#shards[options.shard];
    if (shard === undefined) throw new RangeError(`no local shard ${options.shard}`);
    return await this.#ask(shard, {
      type: "slotPage",
      index,
      slot,
      limit: options.limit,
      ...(options.afterId === undefined ? {} : { afterId: options.afterId }),
    });
  }

  /** A page of one cluster slot's tombstones of `index` from one local shard (see `slotPage`). */
  async slotTombstones(
    index: string,
    slot: number,
    options: { readonly shard: number; readonly afterId?: string; readonly limit: number },
  ): Promise<SlotTombstonePage> {
    if (!this.#schemas.has(index)) throw new IndexNotFoundError(index);
    const shard = this.#shards[options.shard];
    if (shard === undefined) throw new RangeError(`no local shard ${options.shard}`);
    return await this.#ask(shard, {
      type: "slotTombstones",
      index,
      slot,
      limit: options.limit,
      ...(options.afterId === undefined ? {} : { afterId: options.afterId }),
    });
  }

  /** Keeps these cluster slots' tombstones on every shard whatever their age (slots moving). */
  async holdSlots(slots: readonly number[]): Promise<void> {
    await this.#everyShard({ type: "holdSlots", slots: [...slots] });
  }

  /**
   * With replicas, tells every shard the cluster slots' tombstone horizons (local ms before
   * which every replica of the slot holds this node's tombstones; a slot left out keeps its
   * tombstones), and the shards collect if due. Resolves with how many were collected.
   */
  async setTombstoneHorizons(horizons: ReadonlyMap<number, number>): Promise<number> {
    const collected = await this.#everyShard({
      type: "tombstoneHorizons",
      horizons: [...horizons],
    });
    return collected.reduce((sum, n) => sum + n, 0);
  }

  /** Tombstones the local shards collected since they opened. */
  async tombstonesCollected(): Promise<number> {
    const stats = await this.#everyShard({ type: "stats" });
    return stats.reduce((sum, s) => sum + s.tombstonesCollected, 0);
  }

  /** Per cluster slot, how many documents of `index` this node holds (slots with none left out). */
  async slotCounts(index: string): Promise<Map<number, number>> {
    if (!this.#schemas.has(index)) throw new IndexNotFoundError(index);
    const counts = new Map<number, number>();
    const perShard = await Promise.all(
      this.#shards.map((shard) => this.#ask(shard, { type: "slotCounts", index })),
    );
    for (const pairs of perShard) {
      for (const [slot, count] of pairs) counts.set(slot, (counts.get(slot) ?? 0) + count);
    }
    return counts;
  }

  /** Deletes one cluster slot's documents of `index` on every local shard; returns how many. */
  async dropSlot(index: string, slot: number): Promise<number> {
    if (!this.#schemas.has(index)) throw new IndexNotFoundError(index);
    const deleted = await Promise.all(
      this.#shards.map((shard) => this.#ask(shard, { type: "dropSlot", index, slot })),
    );
    return deleted.reduce((sum, n) => sum + n, 0);
  }

  /** Deletes an index on every shard; writes to it fail with 404 until that is done. */
  async dropIndex(index: string): Promise<DroppedIndex> {
    validateIndexName(index);
    if (!this.#schemas.has(index) || this.#schemas.dropping.has(index)) {
      throw new IndexNotFoundError(index);
    }
    this.#schemas.dropping.add(index);
    try {
      // A shard that never got a document of the index holds none of it: the index is gone
      // from all of them.
      await this.#everyShard({ type: "dropIndex", index });
      this.#schemas.delete(index);
      this.#stats.forget(index);
      return { deleted_from_shards: this.shardCount, total_shards: this.shardCount };
    } finally {
      this.#schemas.dropping.delete(index);
    }
  }

  /** Every index of this node, summed over shards. */
  async indexes(): Promise<IndexSummary[]> {
    const infos = (await this.#everyShard({ type: "indexes" })).flat();
    return [...this.#schemas].sort(([a], [b]) => (a < b ? -1 : 1)).map(
      ([name, { schema, engine }]) => {
        const held = infos.filter((info) => info.name === name);
        const fields = Object.keys(schema.fields).sort();
        return {
          name,
          engine,
          document_count: held.reduce((sum, info) => sum + info.documentCount, 0),
          shard_count: this.shardCount,
          field_count: fields.length,
          fields,
          memory_bytes: held.reduce((sum, info) => sum + info.memoryBytes, 0),
        };
      },
    );
  }
}
