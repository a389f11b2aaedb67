/**
 * The engine-neutral search index interface, the plan it executes, and the operations it
 * applies. Engines: `fts5` (SQLite FTS5 on disk, the default) and `orama` (in memory).
 * Nothing above this interface may depend on an engine.
 *
 * @module
 */

import type { Bm25Params, CorpusStats } from "./bm25.ts";
import type { IndexedValue, Schema } from "./schema.ts";

/** Search engines. */
export type EngineName = "fts5" | "orama";

/** Search engines, for validating input. */
export const ENGINES: readonly EngineName[] = ["fts5", "orama"];

/** A value in a plan: strings for string fields; numbers for numbers and dates (epoch ms). */
export type PlanValue = string | number | boolean;

/**
 * An engine-neutral query plan. Text terms are already normalized single tokens;
 * `field: null` searches every text field.
 *
 * - `term`, `phrase` (with `slop`: Lucene's sloppy phrase, the terms' positions, each taken
 *   back by its place in the phrase, within `slop` of each other — order-aware, see
 *   `phrase_slop.ts`), `prefix`, `fuzzy` (terms within a Damerau–Levenshtein distance,
 *   expanded against the index's vocabulary) match text and score (BM25);
 * - `eq`, `range`, `ids`, `all`, `none` filter and score nothing;
 * - `boost` multiplies the score of what it wraps; `rank` matches like `match` and adds the
 *   scores of the `optional` plans (Lucene's SHOULD clauses beside MUST clauses).
 *
 * A document's score is the sum, over the scoring leaves it matches that are not under a
 * `not`, of the leaf's score times the boosts above it; a leaf scores by BM25 over the
 * index-wide statistics of `SearchOptions.stats` (see `bm25.ts`).
 */
export type Plan =
  | { readonly kind: "all" }
  | { readonly kind: "none" }
  | { readonly kind: "term"; readonly field: string | null; readonly term: string }
  | {
    readonly kind: "phrase";
    readonly field: string | null;
    readonly terms: readonly string[];
    readonly slop: number;
  }
  | { readonly kind: "prefix"; readonly field: string | null; readonly prefix: string }
  | {
    readonly kind: "fuzzy";
    readonly field: string | null;
    readonly term: string;
    readonly distance: number;
  }
  | { readonly kind: "eq"; readonly field: string; readonly value: PlanValue }
  | {
    readonly kind: "range";
    readonly field: string;
    readonly gt?: PlanValue;
    readonly gte?: PlanValue;
    readonly lt?: PlanValue;
    readonly lte?: PlanValue;
  }
  | { readonly kind: "ids"; readonly ids: readonly string[] }
  | { readonly kind: "and"; readonly children: readonly Plan[] }
  | { readonly kind: "or"; readonly children: readonly Plan[] }
  | { readonly kind: "not"; readonly child: Plan }
  | { readonly kind: "boost"; readonly child: Plan; readonly factor: number }
  | { readonly kind: "rank"; readonly match: Plan; readonly optional: readonly Plan[] };

/** Most terms a fuzzy leaf expands to (the closest first). */
export const MAX_FUZZY_EXPANSIONS = 64;

/** A sort key: a non-text scalar field, ascending or descending; missing values last. */
export interface SortSpec {
  readonly field: string;
  readonly order: "asc" | "desc";
}

/** One change to apply: a document's indexed values, or its removal. */
export type IndexOp =
  | { readonly op: "put"; readonly id: string; readonly values: readonly IndexedValue[] }
  | { readonly op: "delete"; readonly id: string };

/** One hit: the document id, its relevance score (higher is better), and its sort values. */
export interface Hit {
  readonly id: string;
  readonly score: number;
  /** With a sort: the document's value per sort key (`null` when it has none). */
  readonly sortValues?: ReadonlyArray<PlanValue | null>;
}

/** A page of hits and the exact number of matches. */
export interface SearchResult {
  readonly total: number;
  readonly hits: readonly Hit[];
}

/** Paging and order of a search. Without `sort`, hits come by score, then id. */
export interface SearchOptions {
  readonly limit: number;
  readonly offset: number;
  readonly sort?: readonly SortSpec[];
  /**
   * The index-wide statistics to score with (every shard's {@linkcode SearchIndex.stats}
   * added up); without them the index scores with its own.
   */
  readonly stats?: CorpusStats;
  /**
   * When the search must stop (epoch ms, `Date.now()`): past it the engine throws
   * `SearchTimeoutError` between units of work (`search_deadline.ts`).
   */
  readonly deadlineAtMs?: number;
  /** BM25's `k1`, `b` and field boosts (the index's ranking settings); Lucene's by default. */
  readonly ranking?: Bm25Params;
}

/**
 * A facet to count over the matching documents: the most frequent values of a field
 * (string, boolean, or the elements of a text or string array), or the number of values
 * in each `[from, to)` range of a number or date field.
 */
export type FacetSpec =
  | { readonly field: string; readonly kind: "values"; readonly size: number }
  | {
    readonly field: string;
    readonly kind: "ranges";
    readonly ranges: ReadonlyArray<{ readonly from?: number; readonly to?: number }>;
  };

/** Counted facet: per value (most frequent first), or per range (in the order asked). */
export type FacetCounts =
  | {
    readonly kind: "values";
    readonly buckets: ReadonlyArray<{ value: PlanValue; count: number }>;
  }
  | {
    readonly kind: "ranges";
    readonly buckets: ReadonlyArray<{ from?: number; to?: number; count: number }>;
  };

/** Longest element of a text array kept whole for facets, in characters (both engines). */
export const MAX_FACET_VALUE_LENGTH = 256;

/** Most distinct values a shard reports per facet (the merge sums them across shards). */
export const MAX_FACET_VALUES_PER_SHARD = 1_000;

/** What an engine needs to do before applying documents under a new schema. */
export type SchemaChange = "ok" | "rebuild";

/**
 * A search index over the documents of one index in one microshard. It applies batches of
 * operations atomically together with the highest sequence number they carry, so that
 * after a crash `appliedSeq` says exactly which change-log entries it still needs.
 */
export interface SearchIndex {
  readonly engine: EngineName;
  /** Whether the index survives a restart (then recovery replays only the log's tail). */
  readonly durable: boolean;
  /** The highest sequence number applied (0 for a new or in-memory index). */
  appliedSeq(): number;
  /**
   * Adopts a newer schema. `"rebuild"` means the engine cannot index the new fields in
   * place: the caller resets it and re-applies every document.
   */
  updateSchema(schema: Schema): SchemaChange;
  /** Applies `ops` in order, atomically, and records `seq` as applied. */
  apply(ops: readonly IndexOp[], seq: number): void;
  /** Removes every document and starts over under `schema`, with `appliedSeq` = `seq`. */
  reset(schema: Schema, seq: number): void;
  /** Runs a plan: matching documents ranked by score (then id), one page of them. */
  search(plan: Plan, options: SearchOptions): SearchResult;
  /**
   * This index's part of the statistics that scoring `plan` needs (added up by the caller),
   * stopping past `deadlineAtMs` as `search` does.
   */
  stats(plan: Plan, options?: { readonly deadlineAtMs?: number }): CorpusStats;
  /** Counts facets over the documents matching `plan`. */
  facets(plan: Plan, specs: readonly FacetSpec[]): FacetCounts[];
  /** Documents indexed. */
  count(): number;
  /** Memory the index holds in this isolate, estimated, in bytes. */
  memoryBytes(): number;
  /** Releases the index. */
  close(): void;
  /** Closes the index and deletes its files. */
  destroy(): void;
}
