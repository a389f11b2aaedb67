/**
 * The node-level schema of every index, and its planning: the node plans each index's schema
 * once per batch, against its own copy, and sends the result with the batch; shards adopt it
 * and only check documents against it. Planning and adopting happen in one synchronous step
 * (no `await` between reading the schema and replacing it), so concurrent batches never lose
 * each other's fields. Writes to an index being dropped (404) or reindexed (503) are fenced
 * here.
 *
 * @module
 */

import { DocumentTooLargeError, IndexNotFoundError, InvalidInputError } from "../storage/errors.ts";
import { DEFAULT_MAX_DOCUMENT_BYTES } from "../storage/microshard.ts";
import type { Bm25Params } from "../storage/bm25.ts";
import { checkRanking } from "../storage/ranking_config.ts";
import {
  declareFields,
  EMPTY_SCHEMA,
  fieldDeclarations,
  planSchema,
  type Schema,
} from "../storage/schema.ts";
import { type EngineName, ENGINES } from "../storage/search_index.ts";
import { mergedSchema } from "../query/search.ts";
import type { IndexConfig, IndexSchema, WriteResult } from "./executor.ts";
import { IndexBusyError } from "./errors.ts";
import { DEFAULT_ENGINE } from "./_orchestrator_options.ts";
import type { WriteCommand } from "./write_command.ts";

const ENCODER = new TextEncoder();

/** An index's schema as a field list (what nodes of a cluster exchange). */
export interface SchemaListEntry {
  index: string;
  engine: EngineName;
  fields: Array<{ name: string; type: string }>;
}

/** What one shard says of one of its indexes, for {@linkcode NodeSchemas.load}. */
export interface ShardIndexInfo {
  readonly name: string;
  readonly engine: EngineName;
  readonly schema: Schema;
  readonly ranking?: Bm25Params;
}

/** Fails the write at position `i` of a batch with `error`. */
export type FailWrite = (i: number, error: unknown) => void;

/** The node's index schemas (see the module doc). */
export class NodeSchemas {
  /** Indexes being dropped: writes to them fail with 404. */
  readonly dropping = new Set<string>();
  /** Indexes being reindexed for a type change: writes to them fail with 503. */
  readonly reindexing = new Set<string>();
  readonly #byIndex = new Map<string, IndexSchema>();
  readonly #options: { readonly defaultEngine?: EngineName; readonly maxDocumentBytes?: number };

  constructor(
    options: { readonly defaultEngine?: EngineName; readonly maxDocumentBytes?: number },
  ) {
    this.#options = options;
  }

  /** Indexes known. */
  get size(): number {
    return this.#byIndex.size;
  }

  /** Whether `index` exists. */
  has(index: string): boolean {
    return this.#byIndex.has(index);
  }

  /** The schema of `index`, if it exists. */
  get(index: string): IndexSchema | undefined {
    return this.#byIndex.get(index);
  }

  /** Replaces the schema of `index`. */
  set(index: string, entry: IndexSchema): void {
    this.#byIndex.set(index, entry);
  }

  /** Forgets `index`. */
  delete(index: string): void {
    this.#byIndex.delete(index);
  }

  /** Every index and its schema. */
  [Symbol.iterator](): IterableIterator<[string, IndexSchema]> {
    return this.#byIndex[Symbol.iterator]();
  }

  /** Every index's schema as a field list. */
  list(): SchemaListEntry[] {
    return [...this.#byIndex].map(([index, { schema, engine }]) => ({
      index,
      engine,
      fields: fieldDeclarations(schema),
    }));
  }

  /** Takes the indexes every shard holds (after recovery): one merged schema per index. */
  load(infos: readonly ShardIndexInfo[]): void {
    const byIndex = new Map<
      string,
      { schemas: IndexSchema["schema"][]; engine: EngineName; ranking?: Bm25Params }
    >();
    for (const info of infos) {
      const entry = byIndex.get(info.name) ?? { schemas: [], engine: info.engine };
      entry.schemas.push(info.schema);
      if (info.ranking !== undefined) entry.ranking ??= info.ranking;
      byIndex.set(info.name, entry);
    }
    for (const [name, { schemas, engine, ranking }] of byIndex) {
      const settings = ranking === undefined ? {} : { ranking };
      this.#byIndex.set(name, { schema: mergedSchema(schemas), engine, ...settings });
    }
  }

  /** The schema a configuration gives an index, adopted at once (no await in between). */
  declare(index: string, config: IndexConfig): IndexSchema {
    if (this.dropping.has(index)) throw beingDropped(index);
    const current = this.#byIndex.get(index);
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
    this.#byIndex.set(index, entry);
    return entry;
  }

  /**
   * Adopts schemas another node planned: their fields are declared on this node's schema
   * (new indexes are created with their engine). Returns the refusals (a conflicting type).
   */
  adopt(
    schemas: ReadonlyArray<{ index: string; engine: string; fields: IndexConfig["fields"] }>,
  ): string[] {
    const refused: string[] = [];
    for (const { index, engine, fields } of schemas) {
      try {
        this.declare(index, {
          ...(this.#byIndex.has(index) ? {} : { engine }),
          ...(fields === undefined ? {} : { fields }),
        });
      } catch (error) {
        refused.push(`${index}: ${(error as Error).message}`);
      }
    }
    return refused;
  }

  /** Plans the schemas a batch needs and returns those that changed (as field lists). */
  planChanges(commands: readonly WriteCommand[]): SchemaListEntry[] {
    const changed = [];
    for (const [index, positions] of groupBy(commands, (command) => command.index)) {
      const before = this.#byIndex.get(index);
      this.#planIndex(index, { positions, commands, outcomes: new Array(commands.length) });
      const after = this.#byIndex.get(index);
      if (after !== undefined && after !== before) {
        changed.push({ index, engine: after.engine, fields: fieldDeclarations(after.schema) });
      }
    }
    return changed;
  }

  /**
   * Plans every index's part of a batch (once each): fails in `outcomes` what does not fit
   * (through `fail`), answers deletes on a missing index, and adopts the evolved schemas.
   */
  planBatch(
    commands: readonly WriteCommand[],
    options: { readonly outcomes: Array<WriteResult | undefined>; readonly fail: FailWrite },
  ): void {
    for (const [index, positions] of groupBy(commands, (command) => command.index)) {
      this.#planIndex(index, { positions, commands, ...options });
    }
  }

  /**
   * Plans one index's part of a batch: fails what does not fit, answers deletes on a missing
   * index, and adopts the evolved schema — synchronously, so no other batch interleaves.
   */
  #planIndex(
    index: string,
    batch: {
      readonly positions: readonly number[];
      readonly commands: readonly WriteCommand[];
      readonly outcomes: Array<WriteResult | undefined>;
      readonly fail?: FailWrite;
    },
  ): void {
    const { positions, commands, outcomes } = batch;
    const fail = batch.fail ?? (() => {});
    if (this.dropping.has(index)) {
      for (const i of positions) fail(i, beingDropped(index));
      return;
    }
    if (this.reindexing.has(index)) {
      for (const i of positions) fail(i, beingReindexed(index));
      return;
    }
    const current = this.#byIndex.get(index);
    const puts = positions.filter((i) => commands[i]!.op === "put");
    if (current === undefined && puts.length === 0) {
      for (const i of positions) {
        outcomes[i] = { ok: true, id: commands[i]!.id, result: "not_found", version: 0 };
      }
      return;
    }
    const plan = this.#planPuts(current, { puts, commands, fail });
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
      this.#byIndex.set(index, { ...current, schema: plan.schema, engine });
    }
  }

  /**
   * The schema plan of a batch's puts. When the batch adds fields, a document the shard will
   * refuse for its size must not add any (the field limit counts only accepted documents'
   * fields): such puts are failed and dropped from `puts`, and the rest planned again. Sizes
   * are measured only for batches that change the schema, which are few.
   */
  #planPuts(
    current: IndexSchema | undefined,
    batch: { readonly puts: number[]; readonly commands: readonly WriteCommand[]; fail: FailWrite },
  ): ReturnType<typeof planSchema> {
    const { puts, commands, fail } = batch;
    const docsOf = () => puts.map((i) => (commands[i] as { doc: unknown }).doc);
    const plan = planSchema(current?.schema ?? EMPTY_SCHEMA, docsOf());
    if (plan.schema === current?.schema) return plan;
    const fitting = puts.filter((i) => !this.#tooLarge(commands[i]!, i, fail));
    if (fitting.length === puts.length) return plan;
    puts.splice(0, puts.length, ...fitting);
    return planSchema(current?.schema ?? EMPTY_SCHEMA, docsOf());
  }

  /** Whether a put's document is over the shard's size limit (failing it if so). */
  #tooLarge(command: WriteCommand, i: number, fail: FailWrite): boolean {
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
}

/** The error of a write or a change to an index being reindexed: 503, retry. */
export function beingReindexed(index: string): IndexBusyError {
  return new IndexBusyError(`Index "${index}" is being reindexed for a schema change; retry`);
}

/** The error of a write or a change to an index being deleted: 404. */
export function beingDropped(index: string): IndexNotFoundError {
  const error = new IndexNotFoundError(index);
  error.message = `Index "${index}" is being deleted`;
  return error;
}

/**
 * The ranking an index has after `config`: the one it sets, checked against `schema` (400 on
 * nonsense, before anything changes), or the index's own.
 */
export function checkedRanking(
  config: IndexConfig,
  schema: Schema,
  current: IndexSchema | undefined,
): { ranking?: Bm25Params } {
  if (config.ranking !== undefined) return { ranking: checkRanking(config.ranking, schema) };
  return current?.ranking === undefined ? {} : { ranking: current.ranking };
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
