/**
 * The one search pipeline: **compile → fan out over a {@linkcode ShardPort} → merge**. The
 * module API (a list of microshards), the node (its shard workers) and the cluster (every
 * node's shards) differ only in the port: what it means to ask "every shard" for its page.
 *
 * The search is compiled once, where it enters, against the index's schema there; shards
 * receive the compiled {@linkcode ShardQuery} (plain data), never the raw request.
 *
 * A search that scores runs in two phases (Elasticsearch's `dfs_query_then_fetch`): first
 * every shard answers its part of the statistics the plan's terms need (`phase: "stats"`),
 * which are added up; then every shard scores with the sums, so a document scores the same
 * on one shard or sixteen, on one node or three, and the merged order is the order of one
 * index. A port over one shard skips the first phase: that shard's statistics
 * are the index's. A port may also leave the documents out of its shards' pages and read only
 * those of the merged page (`PageSet.fetchDocs`: the fetch phase, `fetch_phase.ts`).
 *
 * @module
 */

import { IndexNotFoundError } from "../storage/errors.ts";
import type { Microshard, ShardSearchResult } from "../storage/microshard.ts";
import type { FacetSpec, Plan, SortSpec } from "../storage/search_index.ts";
import { addStats, type Bm25Params, type CorpusStats, scoringLeavesOf } from "../storage/bm25.ts";
import type { Schema } from "../storage/schema.ts";
import { type DocumentFetch, fetchPageDocs } from "./fetch_phase.ts";
import { parseSearchRequest, type SearchRequest } from "./request.ts";
import {
  type CompiledSearch,
  compileSearch,
  mergedSchema,
  type SearchAnswer,
  searchAnswer,
  type SearchContext,
  type SearchLimits,
  type StreamedAnswer,
  streamedAnswer,
} from "./search.ts";

export type { StreamedAnswer } from "./search.ts";

/** What every shard runs of a compiled search: its top `limit` (the answer's offset + limit). */
export interface ShardQuery {
  readonly index: string;
  readonly plan: Plan;
  readonly limit: number;
  readonly sort: readonly SortSpec[];
  readonly facets: readonly FacetSpec[];
  /** `"stats"`: answer only the shard's part of the statistics (the first phase). */
  readonly phase?: "stats";
  /** The index-wide statistics to score with (the first phase's sums). */
  readonly stats?: CorpusStats;
  /**
   * When every shard stops working on the search (epoch ms, `Date.now()`): the search's
   * entry time plus `SearchLimits.timeoutMs`; past it a shard throws `SearchTimeoutError`.
   */
  readonly deadlineAtMs?: number;
  /** BM25's `k1`, `b` and field boosts: the index's ranking settings where it was compiled. */
  readonly ranking?: Bm25Params;
}

/** The pages a port gathered, and where they came from. */
export interface PageSet {
  readonly pages: ShardSearchResult[];
  /** Shards asked, failed ones included. */
  readonly totalShards: number;
  readonly failedShards?: number;
  readonly nodesContacted?: number;
  readonly nodesFailed?: number;
  /**
   * In a cluster: the slots assigned to the answering node that it is still rebuilding (its
   * copy does not count yet; the coordinator asks another owner for them).
   */
  readonly rebuildingSlots?: readonly number[];
  /**
   * In a cluster: slots assigned to the answering node that it neither serves nor holds (the
   * coordinator's table is behind): its pages miss them, so the coordinator counts it failed.
   */
  readonly unservedSlots?: readonly number[];
  /**
   * Reads the documents of pages answered without them (`ShardSearchResult.docsLeftOut`):
   * a port whose shards leave them out returns it, and only the merged page's are read.
   */
  readonly fetchDocs?: DocumentFetch;
}

/** Asks every shard that holds the index for its page of a query. */
export type ShardPort = (query: ShardQuery) => Promise<PageSet>;

/** The shard pages of one search, unmerged, with what merging them needs. */
export interface SearchPages {
  readonly pages: ShardSearchResult[];
  readonly search: CompiledSearch;
  readonly context: SearchContext;
}

/** The query each shard runs for a compiled search. */
export function shardQuery(index: string, search: CompiledSearch): ShardQuery {
  return {
    index,
    plan: search.plan,
    limit: search.limit === 0 ? 0 : search.offset + search.limit,
    sort: search.sort,
    facets: search.facets,
  };
}

/** Compiles `request` for `schema` and gathers every shard's page through `port`. */
export async function gatherPages(
  port: ShardPort,
  index: string,
  request: SearchRequest,
  options: {
    readonly schema: Schema;
    readonly limits?: SearchLimits;
    /** The index's ranking settings (Lucene's BM25 defaults without them). */
    readonly ranking?: Bm25Params;
    /**
     * The port asks exactly one shard: its own statistics are the index's, so the first
     * phase is skipped (one round trip to the shard instead of two).
     */
    readonly oneShard?: boolean;
  },
): Promise<SearchPages> {
  const started = performance.now();
  const timeoutMs = options.limits?.timeoutMs;
  const deadline = timeoutMs === undefined ? {} : { deadlineAtMs: Date.now() + timeoutMs };
  const ranking = options.ranking === undefined ? {} : { ranking: options.ranking };
  const search = compileSearch(request, options.schema, options.limits ?? {});
  const query = { ...shardQuery(index, search), ...deadline, ...ranking };
  const stats = options.oneShard === true ? undefined : await gatherStats(port, query);
  const set = await port(stats === undefined ? query : { ...query, stats });
  const pages = set.fetchDocs === undefined
    ? set.pages
    : await fetchPageDocs(set.pages, search, set.fetchDocs);
  return {
    pages,
    search,
    context: {
      started,
      totalShards: set.totalShards,
      ...(set.failedShards === undefined ? {} : { failedShards: set.failedShards }),
      ...(set.nodesContacted === undefined ? {} : { nodesContacted: set.nodesContacted }),
      ...(set.nodesFailed === undefined ? {} : { nodesFailed: set.nodesFailed }),
    },
  };
}

/**
 * The first phase: every shard's statistics for the plan, added up; `undefined` when the
 * search scores nothing or returns no hits (then no shard needs them).
 */
export async function gatherStats(
  port: ShardPort,
  query: ShardQuery,
): Promise<CorpusStats | undefined> {
  if (query.limit === 0 || scoringLeavesOf(query.plan).length === 0) return undefined;
  const set = await port({ ...query, limit: 0, facets: [], phase: "stats" });
  return addStats(set.pages.flatMap((page) => page.stats === undefined ? [] : [page.stats]));
}

/** The merged answer of gathered pages (`POST /api/{index}/search`). */
export function answerOf(gathered: SearchPages): SearchAnswer {
  return searchAnswer(gathered.pages, gathered.search, gathered.context);
}

/** The answer of gathered pages, merged as the client reads it (`search/stream`). */
export function streamOf(gathered: SearchPages): StreamedAnswer {
  return streamedAnswer(gathered.pages, gathered.search, gathered.context);
}

/** The port over microshards opened in this isolate (the module API). */
export function microshardPort(shards: readonly Microshard[]): ShardPort {
  return async (query) => {
    const holding = shards.filter((shard) =>
      shard.indexes().some((info) => info.name === query.index)
    );
    const pages = await Promise.all(holding.map((shard) =>
      shard.search(query.index, query.plan, {
        limit: query.limit,
        offset: 0,
        sort: query.sort,
        facets: query.facets,
        ...(query.stats === undefined ? {} : { stats: query.stats }),
        ...(query.phase === "stats" ? { statsOnly: true } : {}),
        ...(query.deadlineAtMs === undefined ? {} : { deadlineAtMs: query.deadlineAtMs }),
        ...(query.ranking === undefined ? {} : { ranking: query.ranking }),
      })
    ));
    return { pages, totalShards: shards.length };
  };
}

/**
 * Searches an index over microshards opened in this isolate (module API; a server does the
 * same through its shard workers).
 */
export async function searchShards(
  shards: readonly Microshard[],
  index: string,
  body: unknown,
  limits: SearchLimits = {},
): Promise<SearchAnswer> {
  const request = parseSearchRequest(body);
  const infos = shards.flatMap((shard) => shard.indexes().filter((info) => info.name === index));
  if (infos.length === 0) throw new IndexNotFoundError(index);
  const ranking = infos.find((info) => info.ranking !== undefined)?.ranking;
  const gathered = await gatherPages(microshardPort(shards), index, request, {
    schema: mergedSchema(infos.map((info) => info.schema)),
    limits,
    oneShard: shards.length === 1,
    ...(ranking === undefined ? {} : { ranking }),
  });
  return answerOf(gathered);
}
