/**
 * The query language: parsing with positioned errors, typed compilation against an
 * index's schema into an engine-neutral plan, and searching across microshards.
 *
 * @module
 */

export { QueryError } from "./errors.ts";
export { lex, type Token, type TokenKind } from "./lexer.ts";
export {
  type Ast,
  MAX_NESTING,
  MAX_QUERY_LENGTH,
  type Modifiers,
  type ParsedQuery,
  parseQuery,
} from "./parser.ts";
export { checkReturnFields, checkSort, compilePlan, ID_FIELD } from "./compile.ts";
export { compareHits, mergedPage, mergePages, mergeSorted } from "./merge.ts";
export {
  type AnswerHit,
  answerHit,
  type CompiledSearch,
  compileSearch,
  DEFAULT_LIMIT,
  DEFAULT_MAX_LIMIT,
  mergedSchema,
  type SearchAnswer,
  type SearchContext,
  type SearchLimits,
  type StreamedAnswer,
} from "./search.ts";
export { parseSearchRequest, type SearchRequest, type SortInput } from "./request.ts";
export {
  answerOf,
  gatherPages,
  gatherStats,
  microshardPort,
  type PageSet,
  type SearchPages,
  searchShards,
  type ShardPort,
  type ShardQuery,
  shardQuery,
  streamOf,
} from "./pipeline.ts";
export {
  checkFacets,
  type FacetAnswer,
  MAX_FACET_RANGES,
  MAX_FACET_SIZE,
  mergeFacets,
} from "./facets.ts";
export {
  checkBudget,
  DEFAULT_QUERY_BUDGET,
  type PlanCost,
  planCost,
  type QueryBudget,
} from "./budget.ts";
