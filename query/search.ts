/**
 * A search request from start to answer: check the request, parse and compile the query
 * against the index's schema (JSON payload fields win over inline modifiers), ask every
 * microshard for its top `offset + limit`, merge, and shape the answer of
 * `POST /api/{index}/search`.
 *
 * @module
 */

import { InvalidInputError } from "../storage/errors.ts";
import type { ShardHit, ShardSearchResult } from "../storage/microshard.ts";
import { EMPTY_SCHEMA, type FieldDef, type Schema } from "../storage/schema.ts";
import type { FacetSpec, Plan, SortSpec } from "../storage/search_index.ts";
import { checkFacets, type FacetAnswer, mergeFacets } from "./facets.ts";
import { checkReturnFields, checkSort, compilePlan, ID_FIELD } from "./compile.ts";
import { mergedPage } from "./merge.ts";
import { parseQuery } from "./parser.ts";
import type { SearchRequest } from "./request.ts";
import { checkBudget, type QueryBudget } from "./budget.ts";
import { type CompiledHighlight, compileHighlight, highlightDoc } from "./highlight.ts";

/** Hits returned when a request gives no limit. */
export const DEFAULT_LIMIT = 10;
/** The largest `limit` (and `offset + limit`) accepted by default. */
export const DEFAULT_MAX_LIMIT = 10_000;

/** Limits of a search. */
export interface SearchLimits {
  /** Hits returned when no limit is given; 10 by default. */
  readonly defaultLimit?: number;
  /** The largest `limit` (and `offset + limit`) accepted; 10,000 by default. */
  readonly maxLimit?: number;
  /** The cost budget of one query; `DEFAULT_QUERY_BUDGET` by default. */
  readonly budget?: QueryBudget;
  /**
   * How long shards may work on one search, from when it enters (the HTTP request timeout
   * on a server); past it they stop (`SearchTimeoutError`). No limit by default.
   */
  readonly timeoutMs?: number;
}

/** A compiled search, ready for the engines. */
export interface CompiledSearch {
  readonly plan: Plan;
  readonly limit: number;
  readonly offset: number;
  readonly sort: SortSpec[];
  readonly fields: string[] | undefined;
  readonly facets: FacetSpec[];
  /** Fragments to mark in each hit, when asked. */
  readonly highlight?: CompiledHighlight;
}

/** One hit of the answer: `_score`, `id`, then the document's (returned) fields. */
export type AnswerHit = { _score: number; id: string } & Record<string, unknown>;

/** Where a search's pages came from. */
export interface SearchContext {
  readonly started: number;
  readonly totalShards: number;
  readonly failedShards?: number;
  readonly nodesContacted?: number;
  readonly nodesFailed?: number;
}

/** The answer of a search. */
export interface SearchAnswer {
  hits: AnswerHit[];
  hits_returned: number;
  total_hits: number;
  limit: number;
  offset: number;
  total_shards: number;
  failed_shards: number;
  /** Nodes asked (1 on a node that runs alone). */
  nodes_contacted: number;
  /** Nodes that failed or did not answer in time. */
  nodes_failed: number;
  took_ms: number;
  facets?: FacetAnswer;
}

/** Checks `value` against the largest limit accepted. */
function atMost(name: string, value: number, max: number): number {
  if (value > max) throw new InvalidInputError(`${name} must be at most ${max}, got ${value}`);
  return value;
}

/** Compiles a request (checked for shape by `parseSearchRequest`) for `schema`. */
export function compileSearch(
  request: SearchRequest,
  schema: Schema,
  limits: SearchLimits = {},
): CompiledSearch {
  const maxLimit = limits.maxLimit ?? DEFAULT_MAX_LIMIT;
  const query = request.query;
  const parsed = parseQuery(query);
  const plan = compilePlan(parsed, schema, query);
  checkBudget(plan, limits.budget);
  const limit = atMost(
    '"limit"',
    request.limit ?? parsed.modifiers.limit ?? limits.defaultLimit ?? DEFAULT_LIMIT,
    maxLimit,
  );
  const offset = atMost('"offset"', request.offset ?? parsed.modifiers.offset ?? 0, maxLimit);
  atMost("offset + limit", offset + limit, maxLimit);
  const sortInput = request.sort ?? parsed.modifiers.sort ?? [];
  const fields = request.fields ?? parsed.modifiers.fields;
  const highlight = compileHighlight(request.highlight, schema, plan);
  return {
    plan,
    limit,
    offset,
    sort: checkSort(sortInput, schema, query),
    fields: fields === undefined ? undefined : checkReturnFields(fields, schema, query),
    facets: checkFacets(request.facets, schema),
    ...(highlight === undefined ? {} : { highlight }),
  };
}

/**
 * The union of an index's schemas over shards (each shard keeps its own copy); where one
 * shard widened a field from i64 to f64, the union has f64.
 */
export function mergedSchema(schemas: readonly Schema[]): Schema {
  if (schemas.length === 0) return EMPTY_SCHEMA;
  const fields: Record<string, FieldDef> = {};
  for (const schema of schemas) {
    for (const [name, def] of Object.entries(schema.fields)) {
      const seen = Object.hasOwn(fields, name) ? fields[name] : undefined;
      const widened = seen !== undefined && def.type.startsWith("i64") &&
        seen.type.startsWith("f64");
      if (!widened) fields[name] = def;
    }
  }
  return { version: Math.max(...schemas.map((schema) => schema.version)), fields };
}

/**
 * Shapes one hit of the answer, keeping only `fields` when given, with `_highlights` when
 * the search asks for them.
 */
export function answerHit(
  hit: ShardHit,
  fields: readonly string[] | undefined,
  highlight?: CompiledHighlight,
): AnswerHit {
  const doc = fields === undefined ? hit.doc : pick(hit.doc, fields);
  return highlight === undefined
    ? { _score: hit.score, id: hit.id, ...doc }
    : { _score: hit.score, id: hit.id, ...doc, _highlights: highlightDoc(hit.doc, highlight) };
}

function pick(doc: Record<string, unknown>, fields: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const field of fields) {
    if (field === ID_FIELD) continue;
    let value: unknown = doc;
    for (const part of field.split(".")) {
      value = typeof value === "object" && value !== null && Object.hasOwn(value, part)
        ? (value as Record<string, unknown>)[part]
        : undefined;
    }
    if (value !== undefined) out[field] = value;
  }
  return out;
}

/** Merges shard pages into the answer of a search: hits, totals, facets, timing. */
export function searchAnswer(
  pages: ReadonlyArray<ShardSearchResult>,
  search: CompiledSearch,
  context: SearchContext,
): SearchAnswer {
  const streamed = streamedAnswer(pages, search, context);
  const hits = [...streamed.hits];
  return { hits, ...streamed.footer() };
}

/** A search answer whose hits are merged as they are read (for NDJSON streaming). */
export interface StreamedAnswer {
  /** The page's hits, merged from the shard pages one at a time. */
  readonly hits: Iterable<AnswerHit>;
  /** Everything but the hits; `hits_returned` counts the hits read so far. */
  footer(): Omit<SearchAnswer, "hits">;
}

/** Like {@linkcode searchAnswer}, but the hits are produced lazily. */
export function streamedAnswer(
  pages: ReadonlyArray<ShardSearchResult>,
  search: CompiledSearch,
  context: SearchContext,
): StreamedAnswer {
  let returned = 0;
  const total = pages.reduce((sum, page) => sum + page.total, 0);
  return {
    hits: (function* () {
      for (const hit of mergedPage(pages, search)) {
        returned++;
        yield answerHit(hit, search.fields, search.highlight);
      }
    })(),
    footer: () => ({
      hits_returned: returned,
      total_hits: total,
      limit: search.limit,
      offset: search.offset,
      total_shards: context.totalShards,
      failed_shards: context.failedShards ?? 0,
      nodes_contacted: context.nodesContacted ?? 1,
      nodes_failed: context.nodesFailed ?? 0,
      took_ms: Math.round((performance.now() - context.started) * 100) / 100,
      ...(search.facets.length === 0
        ? {}
        : { facets: mergeFacets(search.facets, pages.map((page) => page.facets)) }),
    }),
  };
}
