/**
 * The NodeOrchestrator: one node's microshards (MicroshardActors in workers), the
 * node-level schema of every index, and the mapping of logical operations to shard work.
 *
 * - **Placement**: a document lives in microshard `fnv1a(routing_key ?? id) % shardCount`.
 *   The shard count is fixed when the node first starts (kept in `shards.json`), so a
 *   document's microshard never changes (invariant 7).
 * - **Schema**: the node validates and evolves each index's schema before routing a write;
 *   when a batch adds fields, every shard is given the new schema first. Shards never
 *   disagree about a field's type.
 * - **Bulk**: validate every document, group by shard, write the groups in parallel.
 *
 * @module
 */

import type { ActorRef } from "../actors/types.ts";
import type { ActorSystem } from "../actors/system.ts";
import { IndexNotFoundError, InvalidInputError } from "../storage/errors.ts";
import type { ShardSearchResult, WriteOutcome, WriteRequest } from "../storage/microshard.ts";
import type { MicroshardMsg, MicroshardReplies } from "../storage/microshard_actor.ts";
import { validateDocId, validateIndexName } from "../storage/names.ts";
import {
  declareFields,
  EMPTY_SCHEMA,
  fieldDeclarations,
  planSchema,
  type Schema,
} from "../storage/schema.ts";
import { type EngineName, ENGINES } from "../storage/search_index.ts";
import { serializeError } from "../actors/errors.ts";
import {
  type CompiledSearch,
  compileSearch,
  mergedSchema,
  type SearchAnswer,
  searchAnswer,
  type SearchContext,
  type SearchLimits,
} from "../query/search.ts";

const SHARD_MODULE = new URL("../storage/microshard_actor.ts", import.meta.url);

type ShardRef = ActorRef<MicroshardMsg, MicroshardReplies>;

/** Options of {@linkcode NodeOrchestrator.start}. */
export interface OrchestratorOptions {
  readonly dataDir: string;
  /** Microshards of a new node; an existing node keeps its count. */
  readonly numShards: number;
  /** Per-shard memory limit for the search indexes, in bytes. */
  readonly memoryLimitBytes?: number;
  readonly searchLimits?: SearchLimits;
  /** Time a shard may take to answer, in ms. */
  readonly shardTimeoutMs?: number;
}

/** What `/_indexes` shows of one index. */
export interface IndexSummary {
  name: string;
  engine: EngineName;
  document_count: number;
  shard_count: number;
  field_count: number;
  fields: string[];
  memory_bytes: number;
}

/** A write as a client sends it. */
export type ClientWrite =
  | { op: "put"; index: string; id: unknown; routing_key?: unknown; doc: unknown }
  | { op: "delete"; index: string; id: unknown; routing_key?: unknown };

/** FNV-1a (32-bit) of a string's UTF-8 bytes. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (const byte of new TextEncoder().encode(text)) {
    hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  }
  return hash;
}

/** The shard pages of one search, with what merging them needs. */
export interface SearchPages {
  pages: ShardSearchResult[];
  search: CompiledSearch;
  context: SearchContext;
}

/** The node's microshards and index schemas. */
export class NodeOrchestrator {
  readonly shardCount: number;
  #shards: ShardRef[];
  #schemas = new Map<string, { schema: Schema; engine: EngineName }>();
  #options: OrchestratorOptions;

  private constructor(shards: ShardRef[], options: OrchestratorOptions) {
    this.#shards = shards;
    this.shardCount = shards.length;
    this.#options = options;
  }

  /** Spawns the microshard workers (supervised by `system`) and loads the schemas. */
  static async start(system: ActorSystem, options: OrchestratorOptions): Promise<NodeOrchestrator> {
    await Deno.mkdir(`${options.dataDir}/shards`, { recursive: true });
    const layoutPath = `${options.dataDir}/shards.json`;
    let count = options.numShards;
    try {
      count = JSON.parse(await Deno.readTextFile(layoutPath)).num_shards;
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
      await Deno.writeTextFile(`${layoutPath}.tmp`, JSON.stringify({ num_shards: count }));
      await Deno.rename(`${layoutPath}.tmp`, layoutPath);
    }
    const shards = await Promise.all(
      Array.from(
        { length: count },
        (_, i) =>
          system.spawnWorker<MicroshardMsg, MicroshardReplies>(SHARD_MODULE, {
            name: `shard-${i}`,
            args: {
              dir: `${options.dataDir}/shards/shard-${String(i).padStart(3, "0")}`,
              ...(options.memoryLimitBytes === undefined
                ? {}
                : { memoryLimitBytes: options.memoryLimitBytes }),
            },
            mailboxCapacity: 4_096,
            supervision: { policy: "permanent", restartLimit: { count: 5, withinMs: 60_000 } },
          }),
      ),
    );
    const node = new NodeOrchestrator(shards, options);
    await node.#loadSchemas();
    return node;
  }

  #ask<T extends MicroshardMsg>(shard: ShardRef, msg: T): Promise<MicroshardReplies[T["type"]]> {
    return shard.ask(msg, { timeoutMs: this.#options.shardTimeoutMs ?? 30_000 });
  }

  async #loadSchemas(): Promise<void> {
    const perShard = await Promise.all(
      this.#shards.map((shard) => this.#ask(shard, { type: "indexes" })),
    );
    const byIndex = new Map<string, { schemas: Schema[]; engine: EngineName }>();
    for (const infos of perShard) {
      for (const info of infos) {
        const entry = byIndex.get(info.name) ?? { schemas: [], engine: info.engine };
        entry.schemas.push(info.schema);
        byIndex.set(info.name, entry);
      }
    }
    for (const [name, { schemas, engine }] of byIndex) {
      this.#schemas.set(name, { schema: mergedSchema(schemas), engine });
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
  schema(index: string): { schema: Schema; engine: EngineName } | undefined {
    return this.#schemas.get(index);
  }

  /**
   * The schema `docs` would give an index (its current one, or a new fts5 index), and whether
   * it differs from what the node has.
   */
  #plan(index: string, docs: readonly unknown[]) {
    const current = this.#schemas.get(index);
    const engine = current?.engine ?? ("fts5" as EngineName);
    const plan = planSchema(current?.schema ?? EMPTY_SCHEMA, docs);
    return { plan, engine, changed: current === undefined || plan.schema !== current.schema };
  }

  /** Gives every shard the index's schema (creating the index where missing), then keeps it. */
  async #adopt(
    index: string,
    schema: Schema,
    engine: EngineName,
    description?: string,
  ): Promise<{ schema: Schema; engine: EngineName }> {
    const fields = fieldDeclarations(schema);
    await Promise.all(this.#shards.map((shard) =>
      this.#ask(shard, {
        type: "configure",
        index,
        config: { fields, engine, ...(description === undefined ? {} : { description }) },
      })
    ));
    const entry = { schema, engine };
    this.#schemas.set(index, entry);
    return entry;
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

  /**
   * Evolves, on this node, the schemas a batch of writes needs, and returns the indexes whose
   * schema changed. In a cluster the router calls it before writes go to their owner nodes,
   * so that every node knows an index's fields before any of its documents is acknowledged.
   * Writes that would fail validation are left for {@linkcode write} to report.
   */
  async evolveSchemas(
    writes: readonly ClientWrite[],
  ): Promise<
    Array<{ index: string; engine: EngineName; fields: Array<{ name: string; type: string }> }>
  > {
    const docs = new Map<string, unknown[]>();
    for (const write of writes) {
      if (write.op !== "put" || typeof write.index !== "string") continue;
      try {
        validateIndexName(write.index);
      } catch {
        continue;
      }
      const list = docs.get(write.index) ?? [];
      list.push(write.doc);
      docs.set(write.index, list);
    }
    const changed = [];
    for (const [index, list] of docs) {
      const { plan, engine, changed: differs } = this.#plan(index, list);
      if (!differs || plan.errors.every((error) => error !== undefined)) continue;
      await this.#adopt(index, plan.schema, engine);
      changed.push({ index, engine, fields: fieldDeclarations(plan.schema) });
    }
    return changed;
  }

  /** Declares or extends an index's schema (`PUT /api/{index}/_config`). */
  async configure(
    index: string,
    config: {
      fields?: Array<{ name: string; type: string }>;
      engine?: string;
      description?: string;
    },
  ): Promise<{ schema: Schema; engine: EngineName }> {
    validateIndexName(index);
    const current = this.#schemas.get(index);
    if (config.engine !== undefined && !ENGINES.includes(config.engine as EngineName)) {
      throw new InvalidInputError(`Unknown engine "${config.engine}": use ${ENGINES.join(" or ")}`);
    }
    if (current !== undefined && config.engine !== undefined && config.engine !== current.engine) {
      throw new InvalidInputError(
        `Index "${index}" uses the ${current.engine} engine; the engine is chosen when an index is created`,
      );
    }
    const engine = current?.engine ?? (config.engine as EngineName | undefined) ?? "fts5";
    let schema: Schema;
    try {
      schema = declareFields(current?.schema ?? EMPTY_SCHEMA, config.fields ?? []);
    } catch (error) {
      throw new InvalidInputError((error as Error).message);
    }
    return await this.#adopt(index, schema, engine, config.description);
  }

  /**
   * Writes a batch: every request is checked (index, id, schema) at node level, the schema
   * evolves once per index, valid requests go to their shards in parallel. Outcomes come
   * back in request order.
   */
  async write(
    writes: readonly ClientWrite[],
  ): Promise<Array<WriteOutcome & { shard_id?: number }>> {
    const outcomes: Array<(WriteOutcome & { shard_id?: number }) | undefined> = new Array(
      writes.length,
    );
    const fail = (i: number, error: unknown) => {
      outcomes[i] = { ok: false, id: String(writes[i]!.id ?? ""), error: serializeError(error) };
    };
    const routed: Array<{ i: number; shard: number; request: WriteRequest }> = [];
    const perIndex = new Map<string, number[]>();
    writes.forEach((write, i) => {
      try {
        validateIndexName(write.index);
        const id = validateDocId(write.id);
        if (
          write.routing_key !== undefined &&
          (typeof write.routing_key !== "string" || write.routing_key === "")
        ) {
          throw new InvalidInputError(
            `Invalid routing_key for "${id}": a non-empty string is expected`,
          );
        }
        const list = perIndex.get(write.index) ?? [];
        list.push(i);
        perIndex.set(write.index, list);
      } catch (error) {
        fail(i, error);
      }
    });
    for (const [index, positions] of perIndex) {
      const current = this.#schemas.get(index);
      const puts = positions.filter((i) => writes[i]!.op === "put");
      if (current === undefined && puts.length === 0) {
        for (const i of positions) {
          outcomes[i] = { ok: true, id: String(writes[i]!.id), result: "not_found", version: 0 };
        }
        continue;
      }
      const { plan, engine, changed } = this.#plan(
        index,
        puts.map((i) => (writes[i] as { doc: unknown }).doc),
      );
      plan.errors.forEach((error, k) => {
        if (error === undefined) return;
        const i = puts[k]!;
        fail(
          i,
          new InvalidInputError(
            `Cannot write document "${writes[i]!.id}" to index "${index}": ${error.message}`,
          ),
        );
      });
      const valid = positions.filter((i) => outcomes[i] === undefined);
      if (valid.length === 0) continue;
      if (changed) await this.#adopt(index, plan.schema, engine);
      for (const i of valid) {
        const write = writes[i]!;
        const id = write.id as string;
        const shard = this.shardOf((write.routing_key as string | undefined) ?? id);
        routed.push({
          i,
          shard,
          request: write.op === "put"
            ? { op: "put", index, id, doc: write.doc }
            : { op: "delete", index, id },
        });
      }
    }
    const perShard = new Map<number, typeof routed>();
    for (const entry of routed) {
      const list = perShard.get(entry.shard) ?? [];
      list.push(entry);
      perShard.set(entry.shard, list);
    }
    await Promise.all([...perShard].map(async ([shard, entries]) => {
      try {
        const results = await this.#ask(this.#shards[shard]!, {
          type: "write",
          requests: entries.map((e) => e.request),
        });
        entries.forEach((entry, k) => (outcomes[entry.i] = { ...results[k]!, shard_id: shard }));
      } catch (error) {
        for (const entry of entries) fail(entry.i, error);
      }
    }));
    return outcomes.map((outcome) => outcome!);
  }

  /** Reads a document from its shard. */
  async get(index: string, id: string, routingKey?: string) {
    validateIndexName(index);
    validateDocId(id);
    if (!this.#schemas.has(index)) throw new IndexNotFoundError(index);
    const shard = this.shardOf(routingKey ?? id);
    return await this.#ask(this.#shards[shard]!, { type: "get", index, id });
  }

  /** Searches an index over every shard and merges the pages. */
  async search(index: string, body: unknown): Promise<SearchAnswer> {
    const { pages, search, context } = await this.searchPages(index, body);
    return searchAnswer(pages, search, context);
  }

  /** Compiles a search and collects every shard's page, unmerged (for streaming). */
  async searchPages(index: string, body: unknown): Promise<SearchPages> {
    const started = performance.now();
    const entry = this.#schemas.get(index);
    if (entry === undefined) throw new IndexNotFoundError(index);
    const search = compileSearch(body, entry.schema, this.#options.searchLimits ?? {});
    const pages = await Promise.all(this.#shards.map((shard) =>
      this.#ask(shard, {
        type: "search",
        index,
        plan: search.plan,
        limit: search.limit === 0 ? 0 : search.offset + search.limit,
        offset: 0,
        sort: search.sort,
        facets: search.facets,
      })
    ));
    return { pages, search, context: { started, totalShards: this.shardCount } };
  }

  /** Deletes an index on every shard. */
  async dropIndex(index: string): Promise<{ deleted_from_shards: number; total_shards: number }> {
    validateIndexName(index);
    if (!this.#schemas.has(index)) throw new IndexNotFoundError(index);
    const results = await Promise.all(
      this.#shards.map((shard) => this.#ask(shard, { type: "dropIndex", index })),
    );
    this.#schemas.delete(index);
    return { deleted_from_shards: results.filter(Boolean).length, total_shards: this.shardCount };
  }

  /** Every index of this node, summed over shards. */
  async indexes(): Promise<IndexSummary[]> {
    const perShard = await Promise.all(
      this.#shards.map((shard) => this.#ask(shard, { type: "indexes" })),
    );
    return [...this.#schemas].sort(([a], [b]) => (a < b ? -1 : 1)).map(
      ([name, { schema, engine }]) => {
        const infos = perShard.flat().filter((info) => info.name === name);
        const fields = Object.keys(schema.fields).sort();
        return {
          name,
          engine,
          document_count: infos.reduce((sum, info) => sum + info.documentCount, 0),
          shard_count: infos.length,
          field_count: fields.length,
          fields,
          memory_bytes: infos.reduce((sum, info) => sum + info.memoryBytes, 0),
        };
      },
    );
  }
}
