/**
 * A search request from start to answer: check the request, parse and compile the query
 * against the index's schema (JSON payload fields win over inline modifiers), ask every
 * microshard for its top `offset + limit`, merge, and shape the answer of
 * `POST /api/{index}/search`.
 *
 * @module
 */

import { IndexNotFoundError, InvalidInputError } from "../storage/errors.ts";
import type { Microshard, ShardHit, ShardSearchResult } from "../storage/microshard.ts";
import { EMPTY_SCHEMA, type FieldDef, type Schema } from "../storage/schema.ts";
import type { FacetSpec, Plan, SortSpec } from "../storage/search_index.ts";
import { checkFacets, type FacetAnswer, mergeFacets } from "./facets.ts";
import { checkReturnFields, checkSort, compilePlan, ID_FIELD } from "./compile.ts";
import { mergedPage } from "./merge.ts";
import { parseQuery } from "./parser.ts";

/** The body of a search request. */
export interface SearchRequest {
  readonly query: string;
  readonly limit?: number;
  readonly offset?: number;
  readonly fields?: readonly string[];
  readonly sort?:
    | { field: string; order?: string }
    | ReadonlyArray<{ field: string; order?: string }>;
}

/** Limits of a search. */
export interface SearchLimits {
  /** Hits returned when no limit is given; 10 by default. */
  readonly defaultLimit?: number;
  /** The largest `limit` (and `offset + limit`) accepted; 10,000 by default. */
  readonly maxLimit?: number;
}

/** A compiled search, ready for the engines. */
export interface CompiledSearch {
  readonly plan: Plan;
  readonly limit: number;
  readonly offset: number;
  readonly sort: SortSpec[];
  readonly fields: string[] | undefined;
  readonly facets: FacetSpec[];
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

function integer(name: string, value: unknown, max: number): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(
      `"${name}" must be a non-negative integer, got ${JSON.stringify(value)}`,
    );
  }
  if (value > max) throw new InvalidInputError(`"${name}" must be at most ${max}, got ${value}`);
  return value;
}

/** Checks a request and compiles it for `schema`. */
export function compileSearch(
  request: unknown,
  schema: Schema,
  limits: SearchLimits = {},
): CompiledSearch {
  const maxLimit = limits.maxLimit ?? 10_000;
  if (typeof request !== "object" || request === null || Array.isArray(request)) {
    throw new InvalidInputError(`A search request is a JSON object with a "query" string`);
  }
  const body = request as Record<string, unknown>;
  for (const key of Object.keys(body)) {
    if (!["query", "limit", "offset", "fields", "sort", "facets"].includes(key)) {
      throw new InvalidInputError(`Unknown search parameter "${key}"`);
    }
  }
  if (typeof body.query !== "string") {
    throw new InvalidInputError(
      `"query" must be a string, got ${JSON.stringify(body.query ?? null)}`,
    );
  }
  const query = body.query;
  const parsed = parseQuery(query);
  const plan = compilePlan(parsed, schema, query);
  const limit = body.limit === undefined
    ? parsed.modifiers.limit ?? limits.defaultLimit ?? 10
    : integer("limit", body.limit, maxLimit);
  const offset = body.offset === undefined
    ? parsed.modifiers.offset ?? 0
    : integer("offset", body.offset, maxLimit);
  if (limit > maxLimit) {
    throw new InvalidInputError(`limit must be at most ${maxLimit}, got ${limit}`);
  }
  if (offset + limit > maxLimit) {
    throw new InvalidInputError(
      `offset + limit must be at most ${maxLimit}, got ${offset + limit}`,
    );
  }
  let sortInput: ReadonlyArray<{ field: string; order: string; position?: number }> =
    parsed.modifiers.sort ?? [];
  if (body.sort !== undefined) {
    const list = Array.isArray(body.sort) ? body.sort : [body.sort];
    sortInput = list.map((item: unknown) => {
      const spec = item as { field?: unknown; order?: unknown };
      if (typeof item !== "object" || item === null || typeof spec.field !== "string") {
        throw new InvalidInputError(
          `"sort" takes {"field": "...", "order": "asc" | "desc"} or an array of them`,
        );
      }
      return { field: spec.field, order: spec.order === undefined ? "asc" : String(spec.order) };
    });
  }
  let fields = parsed.modifiers.fields;
  if (body.fields !== undefined) {
    if (!Array.isArray(body.fields) || !body.fields.every((field) => typeof field === "string")) {
      throw new InvalidInputError(`"fields" must be an array of field names`);
    }
    fields = body.fields;
  }
  return {
    plan,
    limit,
    offset,
    sort: checkSort(sortInput, schema, query),
    fields: fields === undefined ? undefined : checkReturnFields(fields, schema, query),
    facets: checkFacets(body.facets, schema),
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

/** Shapes one hit of the answer, keeping only `fields` when given. */
export function answerHit(hit: ShardHit, fields: readonly string[] | undefined): AnswerHit {
  const doc = fields === undefined ? hit.doc : pick(hit.doc, fields);
  return { _score: hit.score, id: hit.id, ...doc };
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

/**
 * Searches an index over a node's microshards (module API; the HTTP layer does the same
 * through the MicroshardActors).
 */
export async function searchShards(
  shards: readonly Microshard[],
  index: string,
  request: unknown,
  limits: SearchLimits = {},
): Promise<SearchAnswer> {
  const started = performance.now();
  const schemas = shards.flatMap((shard) => shard.indexes().filter((info) => info.name === index))
    .map((info) => info.schema);
  if (schemas.length === 0) throw new IndexNotFoundError(index);
  const search = compileSearch(request, mergedSchema(schemas), limits);
  const holding = shards.filter((shard) => shard.indexes().some((info) => info.name === index));
  const pages = await Promise.all(holding.map((shard) =>
    shard.search(index, search.plan, {
      limit: search.limit === 0 ? 0 : search.offset + search.limit,
      offset: 0,
      sort: search.sort,
      facets: search.facets,
    })
  ));
  return searchAnswer(pages, search, { started, totalShards: shards.length });
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
        yield answerHit(hit, search.fields);
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
