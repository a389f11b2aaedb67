/**
 * An index's life in one microshard: created or extended by declared fields (`configure`),
 * or by new metadata a write batch commits (`adoptMeta`), and dropped with its documents,
 * engine and files (`dropIndex`; recovery finishes an interrupted drop).
 *
 * @module
 */

import { indexPath, openEngine, rebuildEngine } from "./_engines.ts";
import type { ShardState } from "./_shard_state.ts";
import type { Bm25Params } from "./bm25.ts";
import { InvalidInputError } from "./errors.ts";
import { checkRanking } from "./ranking_config.ts";
import { removeDatabaseFiles } from "./fts5_index.ts";
import type { IndexMeta } from "./kv_layout.ts";
import { validateIndexName } from "./names.ts";
import { declareFields, EMPTY_SCHEMA, findMisfit, type Schema, typeChanges } from "./schema.ts";
import { type EngineName, ENGINES } from "./search_index.ts";

/** What `configure` takes: declared fields, the engine of a new index, a description. */
export interface IndexConfig {
  readonly fields?: ReadonlyArray<{ name: string; type: string }>;
  readonly engine?: string;
  readonly description?: string;
  /** BM25's `k1`, `b` and field boosts (replacing the index's; checked against its schema). */
  readonly ranking?: Bm25Params;
  /**
   * Allow declared fields to change type: the engine is rebuilt from KV. The caller checks
   * first that every stored document fits (`findMisfitDocument`).
   */
  readonly retype?: boolean;
}

/**
 * Creates an index or extends its schema with declared fields, and commits its metadata.
 * The engine is chosen when the index is created; naming another one later is refused.
 */
export async function configureIndex(
  state: ShardState,
  index: string,
  config: IndexConfig,
): Promise<IndexMeta> {
  validateIndexName(index);
  if (config.engine !== undefined && !ENGINES.includes(config.engine as EngineName)) {
    throw new InvalidInputError(`Unknown engine "${config.engine}": use ${ENGINES.join(" or ")}`);
  }
  const existing = state.indexes.get(index)?.meta;
  if (existing !== undefined && config.engine !== undefined && config.engine !== existing.engine) {
    throw new InvalidInputError(
      `Index "${index}" uses the ${existing.engine} engine; the engine is chosen when an index is created`,
    );
  }
  const base = existing ?? {
    name: index,
    engine: (config.engine as EngineName | undefined) ?? state.defaultEngine,
    schema: EMPTY_SCHEMA,
  };
  let schema: Schema;
  const retyped = config.retype === true &&
    typeChanges(base.schema, config.fields ?? []).length > 0;
  try {
    schema = declareFields(base.schema, config.fields ?? [], { retype: config.retype === true });
  } catch (error) {
    throw new InvalidInputError((error as Error).message);
  }
  const meta: IndexMeta = {
    ...base,
    schema,
    ...(config.description === undefined ? {} : { description: config.description }),
    ...(config.ranking === undefined ? {} : { ranking: checkRanking(config.ranking, schema) }),
  };
  await state.store.setIndexMeta(meta);
  await adoptMeta(state, meta);
  // New types change how values are indexed: every document is indexed again from KV.
  if (retyped && existing !== undefined) await rebuildEngine(state, index);
  return meta;
}

/**
 * The first stored document of an index that does not fit `schema` (its id and why), or
 * undefined when every one fits — what a retype checks before it changes anything.
 */
export async function findMisfitDocument(
  state: ShardState,
  index: string,
  schema: Schema,
): Promise<{ id: string; message: string } | undefined> {
  if (!state.indexes.has(index)) return undefined;
  for await (const { id, header } of state.store.documents(index)) {
    const misfit = findMisfit(schema, await state.store.body(header));
    if (misfit !== undefined) return { id, message: misfit.message };
  }
  return undefined;
}

/**
 * Installs committed index metadata and brings its engine along: a new index's engine
 * starts empty at `emptyThrough`, the shard's sequence number before any document of the
 * index was committed (a batch that creates the index is committed before it is applied:
 * starting at the later number would mark that batch applied, and a crash in between would
 * leave it unsearchable); an engine that cannot take the new schema in place is rebuilt
 * from KV.
 */
export async function adoptMeta(
  state: ShardState,
  meta: IndexMeta,
  emptyThrough: number = state.seq,
): Promise<void> {
  const open = state.indexes.get(meta.name);
  if (open === undefined) {
    const engine = openEngine(state.dir, meta);
    engine.reset(meta.schema, emptyThrough);
    state.indexes.set(meta.name, { meta, engine });
    return;
  }
  open.meta = meta;
  if (open.engine.updateSchema(meta.schema) === "rebuild") await rebuildEngine(state, meta.name);
}

/** Deletes an index: its documents, its engine and its files. Returns whether it existed. */
export async function dropIndex(state: ShardState, index: string): Promise<boolean> {
  validateIndexName(index);
  const meta = await state.store.indexMeta(index);
  if (meta === undefined) return false;
  // Marked first: a crash from here on is finished by the next open.
  await state.store.setIndexMeta({ ...meta, dropping: true });
  await finishDrop(state, index);
  return true;
}

/** Removes a dropping index's engine, files and documents, then its metadata. */
export async function finishDrop(state: ShardState, index: string): Promise<void> {
  const open = state.indexes.get(index);
  state.indexes.delete(index);
  if (open !== undefined) open.engine.destroy();
  else removeDatabaseFiles(indexPath(state.dir, index));
  await state.store.deleteDocuments(index);
  await state.store.deleteIndexMeta(index);
}
