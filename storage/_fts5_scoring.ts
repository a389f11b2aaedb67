/**
 * How the FTS5 engine answers a search: a plan that scores nothing is ordered and paged by
 * SQL; a disjunction of terms without a sort runs MaxScore over the ranking postings
 * (`max_score.ts`), so the top hits are found without scoring every match; any other scored
 * plan is matched by SQL and scored by `bm25.ts` over the engine's {@linkcode RankingSource}.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import {
  countQuery,
  type Fts5SqlContext,
  fuzzyKey,
  isSloppy,
  matchExpression,
  matchingQuery,
  phraseKey,
  type SqlQuery,
  unscoredPageQuery,
} from "./_fts5_sql.ts";
import type { Fts5Postings } from "./_fts5_postings.ts";
import {
  Bm25Scorer,
  disjunctionTerms,
  localStats,
  type PostingsReader,
  type RankingSource,
  scorePlan,
  scoringLeavesOf,
} from "./bm25.ts";
import { DenseScores, kthScore, maxScoreTopK } from "./max_score.ts";
import type { Schema } from "./schema.ts";
import type { DeadlineCheck } from "./search_deadline.ts";
import type { Plan, SearchOptions, SearchResult } from "./search_index.ts";
import { topHits } from "./top_hits.ts";

/** Highest rid whose score is added up in a typed array (8 bytes a rid); past it, a `Map`. */
const MAX_DENSE_RID = 1 << 20;
/** Rids the first typed-array score table holds. */
const MIN_DENSE_RIDS = 1024;
/** A column number no term statistic is kept under (`-1` is the postings' any column). */
const NO_COLUMN = -2;

/** The engine's state a search reads (taken afresh for each search). */
export interface Fts5View {
  readonly db: DatabaseSync;
  /** Each text field's FTS5 column. */
  readonly columns: ReadonlyMap<string, number>;
  readonly schema: Schema;
  readonly postings: Fts5Postings;
  /** Documents in the index. */
  readonly count: number;
  /** `SELECT coalesce(max(rid), 0) AS m FROM docs`. */
  readonly maxRid: StatementSync;
  /** `SELECT rid, id FROM docs WHERE rid IN (json_each(?))`. */
  readonly idsOf: StatementSync;
  readonly scoreTables: ScoreTables;
}

type Row = Record<string, string | number | null>;
type DisjunctionTerm = { field: string | null; term: string; weight: number };

/** The typed-array score table kept between searches, grown with the highest rid. */
export class ScoreTables {
  #dense: DenseScores | undefined;

  /** The table for rids up to `maxRid`; `undefined` past `MAX_DENSE_RID`. */
  tableFor(maxRid: number): DenseScores | undefined {
    if (maxRid >= MAX_DENSE_RID) return undefined;
    if (this.#dense === undefined || this.#dense.capacity <= maxRid) {
      const capacity = Math.min(MAX_DENSE_RID, Math.max(MIN_DENSE_RIDS, 2 * (maxRid + 1)));
      this.#dense = new DenseScores(capacity);
    }
    return this.#dense;
  }
}

/** Answers a search of `plan` (see the module doc). */
export function searchFts5(
  view: Fts5View,
  plan: Plan,
  options: SearchOptions & { readonly context: Fts5SqlContext; readonly check: DeadlineCheck },
): SearchResult {
  const { context, check } = options;
  if (scoringLeavesOf(plan).length === 0) return unscored(view, plan, options);
  if (options.limit <= 0) {
    return { total: getRow<{ n: number }>(view.db, countQuery(plan, context)).n, hits: [] };
  }
  const terms = disjunctionTerms(plan);
  if (terms !== undefined && (options.sort ?? []).length === 0) {
    return searchDisjunction(view, { ...options, plan, terms });
  }
  const matching = matchingQuery(plan, options, context);
  const rows = view.db.prepare(matching.sql).all(...matching.params) as Row[];
  if (rows.length === 0) return { total: 0, hits: [] };
  check();
  const source = rankingSource(view, context);
  const stats = options.stats ?? localStats(plan, source, check);
  const scores = scorePlan(plan, source, {
    stats,
    check,
    ...(options.ranking === undefined ? {} : { params: options.ranking }),
  });
  const sort = options.sort ?? [];
  const hits = rows.map((row) => {
    const hit = { id: row.id as string, score: scores.get(row.rid as number) ?? 0 };
    return sort.length === 0 ? hit : { ...hit, sortValues: sortValues(view, row, options) };
  });
  return { total: rows.length, hits: topHits(hits, options) };
}

/** The first row of a query. */
export function getRow<T>(db: DatabaseSync, query: SqlQuery): T {
  return db.prepare(query.sql).get(...query.params) as T;
}

/**
 * A disjunction of terms (no sort): MaxScore over the postings finds the top hits without
 * scoring every match; the total is counted from the postings when MaxScore did not see
 * every match.
 */
function searchDisjunction(
  view: Fts5View,
  options: SearchOptions & {
    readonly plan: Plan;
    readonly terms: readonly DisjunctionTerm[];
    readonly context: Fts5SqlContext;
    readonly check: DeadlineCheck;
  },
): SearchResult {
  const { plan, context, check } = options;
  const source = rankingSource(view, context);
  const scorer = new Bm25Scorer(
    options.stats ?? localStats(plan, source, check),
    options.ranking,
  );
  const disjuncts = options.terms.map((term) => ({ ...term, fields: source.fieldsOf(term.field) }));
  const k = options.offset + options.limit;
  const table = view.scoreTables.tableFor((view.maxRid.get() as { m: number }).m);
  table?.reset(); // a search that threw may have left scores behind
  const { scores, exhaustive } = maxScoreTopK(disjuncts, {
    read: source.read,
    readAmong: (fields, term, among, visit) => readPostings(view, { fields, term, visit, among }),
    bound: (term) => {
      const stats = view.postings.termStats(term.term);
      const perField = term.fields.map((field) => {
        const stat = stats.get(view.columns.get(field) ?? NO_COLUMN);
        return stat === undefined ? undefined : { maxTf: stat.maxTf, minLen: stat.minLen };
      });
      return scorer.bound(term, perField);
    },
  }, { scorer, k, check, ...(table === undefined ? {} : { scores: table }) });
  const total = exhaustive ? scores.size : view.postings.countAny(
    disjuncts.map((term) => ({ term: term.term, columns: columnsOf(view, term.fields) })),
  );
  const cut = scores.kth?.(k) ?? kthScore(scores.values(), k);
  const kept: Array<[number, number]> = [];
  if (scores.reaching !== undefined) {
    for (const rid of scores.reaching(0, cut)) kept.push([rid, scores.get(rid)!]);
  } else {
    for (const [rid, score] of scores.entries()) if (score >= cut) kept.push([rid, score]);
  }
  table?.reset();
  return { total, hits: topHits(hitsOf(view, kept), options) };
}

/** The hits of scored rids, with their ids (a rid deleted meanwhile is left out). */
function hitsOf(
  view: Fts5View,
  kept: ReadonlyArray<[number, number]>,
): Array<{ id: string; score: number }> {
  const rows = view.idsOf.all(JSON.stringify(kept.map(([rid]) => rid))) as Array<
    { rid: number; id: string }
  >;
  const ids = new Map(rows.map((row) => [row.rid, row.id]));
  return kept.flatMap(([rid, score]) => {
    const id = ids.get(rid);
    return id === undefined ? [] : [{ id, score }];
  });
}

/** Visits a term's postings in some fields (of the documents `among`, when given). */
function readPostings(
  view: Fts5View,
  read: {
    readonly fields: readonly string[];
    readonly term: string;
    readonly visit: (doc: number, field: number, tf: number, len: number) => void;
    readonly among?: readonly number[];
  },
): void {
  const columns = columnsOf(view, read.fields);
  if (columns.length === 0) return;
  // Column number → index into `fields`.
  const position = new Int32Array(Math.max(0, ...columns) + 1);
  columns.forEach((column, i) => position[column] = i);
  const visit = read.visit;
  view.postings.read(read.term, columns, (rid, col, tf, len) => {
    visit(rid, position[col]!, tf, len);
  }, read.among);
}

/** The FTS5 columns of some fields (fields without one left out). */
function columnsOf(view: Fts5View, fields: readonly string[]): number[] {
  return fields.map((field) => view.columns.get(field)).filter((column) => column !== undefined);
}

/** A plan that scores nothing: SQL orders and pages it. */
function unscored(
  view: Fts5View,
  plan: Plan,
  options: SearchOptions & { readonly context: Fts5SqlContext },
): SearchResult {
  const total = getRow<{ n: number }>(view.db, countQuery(plan, options.context)).n;
  if (options.limit <= 0 || total === 0) return { total, hits: [] };
  const { sql, params } = unscoredPageQuery(plan, options, options.context);
  const rows = view.db.prepare(sql).all(...params) as Row[];
  const sort = options.sort ?? [];
  return {
    total,
    hits: rows.map((row) => {
      const hit = { id: row.id as string, score: 0 };
      return sort.length === 0 ? hit : { ...hit, sortValues: sortValues(view, row, options) };
    }),
  };
}

/** A row's sort keys (`k0…`), booleans as booleans. */
function sortValues(view: Fts5View, row: Row, options: SearchOptions) {
  return (options.sort ?? []).map((spec, i) => {
    const value = row[`k${i}`] ?? null;
    return view.schema.fields[spec.field]?.type.startsWith("boolean") && value !== null
      ? value === 1
      : value;
  });
}

/** The engine's postings, statistics and leaf matches, for `bm25.ts`. */
export function rankingSource(view: Fts5View, context: Fts5SqlContext): RankingSource<number> {
  const { columns, postings } = view;
  return {
    fieldsOf: (field) => field === null ? [...columns.keys()] : columns.has(field) ? [field] : [],
    // The postings' key is (term, rid, col): a document's columns come one after another.
    read: Object.assign(
      (fields: readonly string[], term: string, visit: Parameters<PostingsReader<number>>[2]) =>
        readPostings(view, { fields, term, visit }),
      { grouped: true },
    ),
    docFreq: (fields, term) => {
      const of = columnsOf(view, fields);
      return of.length === 0 ? 0 : postings.docFreq(term, of, columns.size);
    },
    corpus: () => {
      const rows = postings.fieldStats();
      const names = new Map([...columns].map(([field, column]) => [column, field]));
      const fields = rows.filter((row) => names.has(row.col))
        .map((row) => [names.get(row.col)!, row.docs, row.tokens] as const);
      return { docCount: view.count, fields };
    },
    expand: (leaf) => context.fuzzyTerms.get(fuzzyKey(leaf.field, leaf.term, leaf.distance)) ?? [],
    matches: (leaf) => {
      if (leaf.kind === "phrase" && isSloppy(leaf)) {
        return new Set(context.sloppyPhrases.get(phraseKey(leaf)) ?? []);
      }
      const match = matchExpression(leaf, context);
      if (match === undefined) return new Set();
      const rows = view.db.prepare("SELECT rowid AS rid FROM fts WHERE fts MATCH ?").all(
        match,
      ) as Array<{ rid: number }>;
      return new Set(rows.map((row) => row.rid));
    },
  };
}
