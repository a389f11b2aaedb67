/**
 * The hybrid store: microshards that keep documents in Deno KV and index them through
 * two search engines (SQLite FTS5 on disk, Orama in memory) behind one interface.
 *
 * @example Write a document and find it
 * ```ts
 * import { Microshard } from "./mod.ts";
 *
 * const dir = await Deno.makeTempDir();
 * const shard = await Microshard.open({ dir });
 * const [outcome] = await shard.write([
 *   { op: "put", index: "books", id: "b1", doc: { title: "Rust in Action", year: 2021 } },
 * ]);
 * if (!outcome?.ok) throw new Error("write failed");
 * // Acknowledged: durable in KV and already searchable.
 * const found = await shard.search("books", { kind: "term", field: "title", term: "rust" }, {
 *   limit: 10,
 *   offset: 0,
 * });
 * if (found.hits[0]?.id !== "b1") throw new Error("not found");
 * await shard.close();
 * await Deno.remove(dir, { recursive: true });
 * ```
 *
 * @module
 */

export {
  type CarriedSchema,
  type CarriedSchemas,
  DEFAULT_MAX_DOCUMENT_BYTES,
  DEFAULT_TOMBSTONE_COLLECT_INTERVAL_MS,
  DEFAULT_TOMBSTONE_GRACE_MS,
  type IndexInfo,
  Microshard,
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
} from "./microshard.ts";
export {
  decodeStamp,
  encodeStamp,
  HybridLogicalClock,
  type HybridLogicalClockOptions,
  isStamp,
  type Stamp,
  type StampParts,
} from "./hlc.ts";
export {
  createActor as createMicroshardActor,
  MAX_GROUP_COMMIT_MESSAGES,
  MAX_GROUP_COMMIT_REQUESTS,
  mergeSchemas,
  type MicroshardActorArgs,
  type MicroshardMsg,
  type MicroshardReplies,
} from "./microshard_actor.ts";
export {
  createActor as createShardReaderActor,
  MAX_BLOB_GONE_RETRIES,
  type ShardReaderMsg,
  type ShardReaderOptions,
  type ShardReaderReplies,
} from "./shard_reader_actor.ts";
export {
  type EngineName,
  ENGINES,
  type Hit,
  type IndexOp,
  MAX_FUZZY_EXPANSIONS,
  type Plan,
  type PlanValue,
  type SearchIndex,
  type SearchOptions,
  type SearchResult,
  type SortSpec,
} from "./search_index.ts";
export {
  addStats,
  type Bm25Params,
  Bm25Scorer,
  type CorpusStats,
  DEFAULT_BM25,
  localStats,
  type RankingSource,
  scorePlan,
  termKey,
} from "./bm25.ts";
export { DenseScores, kthScore, maxScoreTopK } from "./max_score.ts";
export { Fts5Index, IndexCorruptError } from "./fts5_index.ts";
export { OramaIndex } from "./orama_index.ts";
export {
  declareFields,
  describeFields,
  EMPTY_SCHEMA,
  FIELD_TYPES,
  type FieldDef,
  fieldDef,
  type FieldType,
  findMisfit,
  flatten,
  ID_FIELD_NAME,
  MAX_DEPTH,
  MAX_FIELDS,
  parseDate,
  planSchema,
  type Schema,
  SchemaError,
  thumbprint,
} from "./schema.ts";
export {
  AssertionError,
  DocumentTooLargeError,
  IndexNotFoundError,
  InvalidInputError,
  MemoryLimitError,
  SearchTimeoutError,
  StorageUnavailableError,
} from "./errors.ts";
export { type DeadlineCheck, deadlineCheck } from "./search_deadline.ts";
export { MAX_ID_BYTES, validateDocId, validateIndexName } from "./names.ts";
export { MAX_TERM_LENGTH, tokenize } from "./tokenizer.ts";
