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
 * @module
 */

import type { ActorRef } from "../actors/types.ts";
import type { ActorSystem } from "../actors/system.ts";
import { serializeError } from "../actors/errors.ts";
import { DocumentTooLargeError, IndexNotFoundError, InvalidInputError } from "../storage/errors.ts";
import {
  DEFAULT_MAX_DOCUMENT_BYTES,
  type SlotPage,
  type SlotTombstonePage,
  type StampedRead,
  type StoredDocument,
  type WriteRequest,
} from "../storage/microshard.ts";
import type {
  MicroshardActorArgs,
  MicroshardMsg,
  MicroshardReplies,
} from "../storage/microshard_actor.ts";
import type { ShardReaderMsg, ShardReaderReplies } from "../storage/shard_reader_actor.ts";
import type { Bm25Params } from "../storage/bm25.ts";
import { checkRanking } from "../storage/ranking_config.ts";
import { validateIndexName } from "../storage/names.ts";
import {
  declareFields,
  EMPTY_SCHEMA,
  fieldDeclarations,
  planSchema,
  type Schema,
  typeChanges,
} from "../storage/schema.ts";
import { type EngineName, ENGINES } from "../storage/search_index.ts";
import type { PageSet, ShardQuery } from "../query/pipeline.ts";
import { mergedSchema } from "../query/search.ts";
import type {
  DroppedIndex,
  IndexConfig,
  IndexSchema,
  IndexSummary,
  WriteResult,
} from "./executor.ts";
import { IndexBusyError } from "./errors.ts";
import { fnv1a, slotOf } from "./hash.ts";
import { placementKey, type WriteCommand } from "./write_command.ts";

export { fnv1a } from "./hash.ts";

const SHARD_MODULE = new URL("../storage/microshard_actor.ts", import.meta.url);
const READER_MODULE = new URL("../storage/shard_reader_actor.ts", import.meta.url);
/** Reader workers of a node whose options name none (see `OrchestratorOptions.readerWorkers`). */
export const DEFAULT_READER_WORKERS = 2;
/** The niceness of shard worker threads of a node whose options name none. */
export const DEFAULT_SHARD_NICENESS = 10;
/** Messages a reader worker's mailbox holds. */
const READER_MAILBOX_CAPACITY = 4_096;
/** Messages a shard worker's mailbox holds. */
const SHARD_MAILBOX_CAPACITY = 4_096;
/** Time a shard may take to open (recovery, rebuilding in-memory indexes from KV), in ms. */
const SHARD_RECOVERY_TIMEOUT_MS = 15 * 60_000;
/** Default time a shard may take to answer, in ms. */
const DEFAULT_SHARD_TIMEOUT_MS = 30_000;
const ENCODER = new TextEncoder();
/** The engine of an index created by a write. */
const DEFAULT_ENGINE: EngineName = "fts5";

type ShardRef = ActorRef<MicroshardMsg, MicroshardReplies>;
type ReaderRef = ActorRef<ShardReaderMsg, ShardReaderReplies>;

/** Options of {@linkcode NodeOrchestrator.start}. */
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
  /**
   * Workers that answer point reads from KV handles of their own, so a read never waits
   * behind a shard worker's write batch (shard `i` is read by reader `i % readerWorkers`;
   * at most one per shard); 0 sends point reads to the shard workers. Default
   * {@linkcode DEFAULT_READER_WORKERS}.
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
}

/** A batch's writes for one shard, with the schemas they were planned against. */
interface ShardBatch {
  readonly positions: number[];
  readonly requests: WriteRequest[];
  readonly schemas: Record<string, IndexSchema>;
}

/** The node's microshards and index schemas. */
export class NodeOrchestrator {
  readonly shardCount: number;
  #shards: ShardRef[];
  #readers: ReaderRef[] = [];
  #schemas = new Map<string, IndexSchema>();
  #dropping = new Set<string>();
  #reindexing = new Set<string>();
  #options: OrchestratorOptions;

  private constructor(shards: ShardRef[], options: OrchestratorOptions) {
    this.#shards = shards;
    this.shardCount = shards.length;
    this.#options = options;
  }

  /** Spawns the microshard workers (supervised by `system`) and loads the schemas. */
  static async start(system: ActorSystem, options: OrchestratorOptions): Promise<NodeOrchestrator> {
    await Deno.mkdir(`${options.dataDir}/shards`, { recursive: true });
    const count = await shardCountOf(options.dataDir, options.numShards);
    const shards = await Promise.all(
      Array.from(
        { length: count },
        (_, i) =>
          system.spawnWorker<MicroshardMsg, MicroshardReplies>(SHARD_MODULE, {
            name: `shard-${i}`,
            args: {
              dir: shardDir(options.dataDir, i),
              ...(options.memoryLimitBytes === undefined
                ? {}
                : { memoryLimitBytes: options.memoryLimitBytes }),
              ...(options.maxDocumentBytes === undefined
                ? {}
                : { maxDocumentBytes: options.maxDocumentBytes }),
              niceness: options.shardNiceness ?? DEFAULT_SHARD_NICENESS,
              ...(options.commitWindowMs === undefined
                ? {}
                : { commitWindowMs: options.commitWindowMs }),
              ...(options.shardApplyGate === undefined
                ? {}
                : { applyGate: options.shardApplyGate }),
              ...(options.stampTag === undefined ? {} : { stampTag: options.stampTag }),
              ...(options.tombstoneGraceMs === undefined
                ? {}
                : { tombstoneGraceMs: options.tombstoneGraceMs }),
            } satisfies MicroshardActorArgs,
            mailboxCapacity: SHARD_MAILBOX_CAPACITY,
            supervision: { policy: "permanent", restartLimit: { count: 5, withinMs: 60_000 } },
          }),
      ),
    );
    const node = new NodeOrchestrator(shards, options);
    await node.#loadSchemas();
    // After the shards answered: their recovery (which may rewrite KV) is done.
    node.#readers = await spawnReaders(system, options, count);
    return node;
  }

  #ask<T extends MicroshardMsg>(shard: ShardRef, msg: T): Promise<MicroshardReplies[T["type"]]> {
    return shard.ask(msg, { timeoutMs: this.#options.shardTimeoutMs ?? DEFAULT_SHARD_TIMEOUT_MS });
  }

  #everyShard<T extends MicroshardMsg>(msg: T): Promise<Array<MicroshardReplies[T["type"]]>> {
    return Promise.all(this.#shards.map((shard) => this.#ask(shard, msg)));
  }

  async #loadSchemas(): Promise<void> {
    const byIndex = new Map<
      string,
      { schemas: IndexSchema["schema"][]; engine: EngineName; ranking?: Bm25Params }
    >();
    // The first answer of each shard comes after its recovery (an Orama index is rebuilt from
    // KV: a minute or more for a large one on a busy machine), not within the usual timeout.
    const perShard = await Promise.all(
      this.#shards.map((shard) =>
        shard.ask({ type: "indexes" }, { timeoutMs: SHARD_RECOVERY_TIMEOUT_MS })
      ),
    );
    for (const info of perShard.flat()) {
      const entry = byIndex.get(info.name) ?? { schemas: [], engine: info.engine };
      entry.schemas.push(info.schema);
      if (info.ranking !== undefined) entry.ranking ??= info.ranking;
      byIndex.set(info.name, entry);
    }
    for (const [name, { schemas, engine, ranking }] of byIndex) {
      const settings = ranking === undefined ? {} : { ranking };
      this.#schemas.set(name, { schema: mergedSchema(schemas), engine, ...settings });
    }
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
  schemaList(): Array<
    { index: string; engine: EngineName; fields: Array<{ name: string; type: string }> }
  > {
    return [...this.#schemas].map(([index, { schema, engine }]) => ({
      index,
      engine,
      fields: fieldDeclarations(schema),
    }));
  }

  /** Declares or extends an index's schema (`PUT /api/{index}/_config`) on every shard. */
  async configure(index: string, config: IndexConfig): Promise<IndexSchema> {
    validateIndexName(index);
    const current = this.#schemas.get(index);
    if (current !== undefined && typeChanges(current.schema, config.fields ?? []).length > 0) {
      return await this.#retype(index, current, config);
    }
    const entry = this.#declare(index, config);
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
    if (this.#dropping.has(index)) throw beingDropped(index);
    if (this.#reindexing.has(index)) throw beingReindexed(index);
    let schema;
    try {
      schema = declareFields(current.schema, config.fields ?? [], { retype: true });
    } catch (error) {
      throw new InvalidInputError((error as Error).message);
    }
    this.#reindexing.add(index);
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
      this.#reindexing.delete(index);
    }
  }

  /** The schema a configuration gives an index, adopted at once (no await in between). */
  #declare(index: string, config: IndexConfig): IndexSchema {
    if (this.#dropping.has(index)) throw beingDropped(index);
    const current = this.#schemas.get(index);
    if (config.engine !== undefined && !ENGINES.includes(config.engine as EngineName)) {
      throw new InvalidInputError(`Unknown engine "${config.engine}": use ${ENGINES.join(" or ")}`);
    }
    if (current !== undefined && config.engine !== undefined && config.engine !== current.engine) {
      throw new InvalidInputError(
        `Index "${index}" uses the ${current.engine} engine; the engine is chosen when an index is created`,
      );
    }
    const engine = current?.engine ?? (config.engine as EngineName | undefined) ??
      this.#options.defaultEngine ?? DEFAULT_ENGINE;
    let schema;
    try {
      schema = declareFields(current?.schema ?? EMPTY_SCHEMA, config.fields ?? []);
    } catch (error) {
      throw new InvalidInputError((error as Error).message);
    }
    const entry = { schema, engine, ...checkedRanking(config, schema, current) };
    this.#schemas.set(index, entry);
    return entry;
  }

  /**
   * Plans, on this node, the schemas a batch needs and returns those that changed (as field
   * lists). In a cluster the ingress node calls it before the writes go to their owners, so
   * every node knows an index's fields before any of its documents is acknowledged. Writes
   * that would fail are left for {@linkcode write} to report.
   */
  planSchemas(commands: readonly WriteCommand[]): ReturnType<NodeOrchestrator["schemaList"]> {
    const changed = [];
    for (const [index, positions] of groupBy(commands, (command) => command.index)) {
      const before = this.#schemas.get(index);
      this.#planIndex(index, positions, commands, new Array(commands.length), () => {});
      const after = this.#schemas.get(index);
      if (after !== undefined && after !== before) {
        changed.push({ index, engine: after.engine, fields: fieldDeclarations(after.schema) });
      }
    }
    return changed;
  }

  /**
   * Adopts schemas another node planned: their fields are declared on this node's schema
   * (new indexes are created with their engine). Shards learn new fields with the next batch
   * that carries them. A conflicting type is refused and logged by the caller.
   */
  adoptSchemas(
    schemas: ReadonlyArray<{ index: string; engine: string; fields: IndexConfig["fields"] }>,
  ) {
    const refused: string[] = [];
    for (const { index, engine, fields } of schemas) {
      try {
        this.#declare(index, {
          ...(this.#schemas.has(index) ? {} : { engine }),
          ...(fields === undefined ? {} : { fields }),
        });
      } catch (error) {
        refused.push(`${index}: ${(error as Error).message}`);
      }
    }
    return refused;
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
    for (const [index, positions] of groupBy(commands, (command) => command.index)) {
      this.#planIndex(index, positions, commands, outcomes, fail);
    }
    const batches = this.#shardBatches(commands, outcomes);
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

  /**
   * Plans one index's part of a batch: fails what does not fit, answers deletes on a missing
   * index, and adopts the evolved schema — synchronously, so no other batch interleaves.
   */
  #planIndex(
    index: string,
    positions: readonly number[],
    commands: readonly WriteCommand[],
    outcomes: Array<WriteResult | undefined>,
    fail: (i: number, error: unknown) => void,
  ): void {
    if (this.#dropping.has(index)) {
      for (const i of positions) fail(i, beingDropped(index));
      return;
    }
    if (this.#reindexing.has(index)) {
      for (const i of positions) fail(i, beingReindexed(index));
      return;
    }
    const current = this.#schemas.get(index);
    const puts = positions.filter((i) => commands[i]!.op === "put");
    if (current === undefined && puts.length === 0) {
      for (const i of positions) {
        outcomes[i] = { ok: true, id: commands[i]!.id, result: "not_found", version: 0 };
      }
      return;
    }
    let docs = puts.map((i) => (commands[i] as { doc: unknown }).doc);
    let plan = planSchema(current?.schema ?? EMPTY_SCHEMA, docs);
    if (plan.schema !== current?.schema) {
      // The batch adds fields: a document the shard will refuse for its size must not add
      // any (the field limit counts only accepted documents' fields). Sizes are measured only
      // for batches that change the schema, which are few.
      const fitting = puts.filter((i) => !this.#tooLarge(commands[i]!, i, fail));
      if (fitting.length < puts.length) {
        puts.splice(0, puts.length, ...fitting);
        docs = puts.map((i) => (commands[i] as { doc: unknown }).doc);
        plan = planSchema(current?.schema ?? EMPTY_SCHEMA, docs);
      }
    }
    plan.errors.forEach((error, k) => {
      if (error === undefined) return;
      const i = puts[k]!;
      fail(
        i,
        new InvalidInputError(
          `Cannot write document "${commands[i]!.id}" to index "${index}": ${error.message}`,
        ),
      );
    });
    const valid = positions.some((i) => outcomes[i] === undefined);
    if (valid && (current === undefined || plan.schema !== current.schema)) {
      const engine = current?.engine ?? this.#options.defaultEngine ?? DEFAULT_ENGINE;
      this.#schemas.set(index, { ...current, schema: plan.schema, engine });
    }
  }

  /** Whether a put's document is over the shard's size limit (failing it if so). */
  #tooLarge(command: WriteCommand, i: number, fail: (i: number, error: unknown) => void): boolean {
    const max = this.#options.maxDocumentBytes ?? DEFAULT_MAX_DOCUMENT_BYTES;
    const bytes = ENCODER.encode(JSON.stringify((command as { doc: unknown }).doc)).length;
    if (bytes <= max) return false;
    fail(
      i,
      new DocumentTooLargeError(
        `Document "${command.id}" is ${bytes} bytes; at most ${max} are allowed`,
      ),
    );
    return true;
  }

  /** The batch's valid writes grouped per shard, each with its index's schema. */
  #shardBatches(
    commands: readonly WriteCommand[],
    outcomes: ReadonlyArray<WriteResult | undefined>,
  ): Map<number, ShardBatch> {
    const batches = new Map<number, ShardBatch>();
    commands.forEach((command, i) => {
      if (outcomes[i] !== undefined) return;
      const shard = this.shardOf(placementKey(command));
      let batch = batches.get(shard);
      if (batch === undefined) {
        batches.set(shard, batch = { positions: [], requests: [], schemas: {} });
      }
      batch.positions.push(i);
      batch.requests.push(shardRequest(command));
      batch.schemas[command.index] ??= this.#schemas.get(command.index)!;
    });
    return batches;
  }

  /** Reads a document from its shard. */
  async get(index: string, id: string, routingKey?: string): Promise<StoredDocument | null> {
    if (!this.#schemas.has(index)) throw new IndexNotFoundError(index);
    const shard = this.shardOf(routingKey ?? id);
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

  /** Every shard's page of a compiled query (a shard that has no such index yet has none). */
  async shardPages(query: ShardQuery): Promise<PageSet> {
    if (!this.#schemas.has(query.index)) throw new IndexNotFoundError(query.index);
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
    if (!this.#schemas.has(index) || this.#dropping.has(index)) {
      throw new IndexNotFoundError(index);
    }
    this.#dropping.add(index);
    try {
      // A shard that never got a document of the index holds none of it: the index is gone
      // from all of them.
      await this.#everyShard({ type: "dropIndex", index });
      this.#schemas.delete(index);
      return { deleted_from_shards: this.shardCount, total_shards: this.shardCount };
    } finally {
      this.#dropping.delete(index);
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

function beingReindexed(index: string): IndexBusyError {
  return new IndexBusyError(`Index "${index}" is being reindexed for a schema change; retry`);
}

function beingDropped(index: string): IndexNotFoundError {
  const error = new IndexNotFoundError(index);
  error.message = `Index "${index}" is being deleted`;
  return error;
}

/** The shard count kept in `shards.json`, written with `requested` on a new node. */
/** The directory of shard `i`. */
function shardDir(dataDir: string, i: number): string {
  return `${dataDir}/shards/shard-${String(i).padStart(3, "0")}`;
}

/** Spawns the point-read workers: reader `r` holds shards `r`, `r + n`, `r + 2n`, …. */
function spawnReaders(
  system: ActorSystem,
  options: OrchestratorOptions,
  shardCount: number,
): Promise<ReaderRef[]> {
  const count = Math.min(shardCount, options.readerWorkers ?? DEFAULT_READER_WORKERS);
  return Promise.all(Array.from({ length: count }, (_, r) => {
    const dirs: string[] = [];
    for (let i = r; i < shardCount; i += count) dirs.push(shardDir(options.dataDir, i));
    return system.spawnWorker<ShardReaderMsg, ShardReaderReplies>(READER_MODULE, {
      name: `reader-${r}`,
      args: { dirs },
      mailboxCapacity: READER_MAILBOX_CAPACITY,
      supervision: { policy: "permanent", restartLimit: { count: 5, withinMs: 60_000 } },
    });
  }));
}

async function shardCountOf(dataDir: string, requested: number): Promise<number> {
  const layoutPath = `${dataDir}/shards.json`;
  try {
    return JSON.parse(await Deno.readTextFile(layoutPath)).num_shards;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await Deno.writeTextFile(`${layoutPath}.tmp`, JSON.stringify({ num_shards: requested }));
    await Deno.rename(`${layoutPath}.tmp`, layoutPath);
    return requested;
  }
}

/** Positions of `items` grouped by `key`, in first-seen order. */
function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, number[]> {
  const groups = new Map<string, number[]>();
  items.forEach((item, i) => {
    const name = key(item);
    const list = groups.get(name);
    if (list === undefined) groups.set(name, [i]);
    else list.push(i);
  });
  return groups;
}

/**
 * A command as its shard stores it: with its cluster slot (computed here, where the placement
 * hash is) and its routing key, so the slot's documents can be read as a range and moved.
 */
function shardRequest(command: WriteCommand): WriteRequest {
  const { index, id } = command;
  const slot = slotOf(placementKey(command));
  const placed = {
    slot,
    ...(command.routingKey === undefined ? {} : { routingKey: command.routingKey }),
    ...(command.stamp === undefined ? {} : { stamp: command.stamp }),
    ...(command.version === undefined ? {} : { version: command.version }),
  };
  return command.op === "put"
    ? { op: "put", index, id, doc: command.doc, ...placed }
    : { op: "delete", index, id, ...placed };
}

/**
 * The ranking an index has after `config`: the one it sets, checked against `schema` (400 on
 * nonsense, before anything changes), or the index's own.
 */
function checkedRanking(
  config: IndexConfig,
  schema: Schema,
  current: IndexSchema | undefined,
): { ranking?: Bm25Params } {
  if (config.ranking !== undefined) return { ranking: checkRanking(config.ranking, schema) };
  return current?.ranking === undefined ? {} : { ranking: current.ranking };
}
