/**
 * The `fts5` engine's SQL, as pure functions: the tables it keeps, and the compiler from an
 * engine-neutral {@linkcode Plan} to the SQL (text and parameters) that answers it. The
 * engine (`fts5_index.ts`) owns the database and runs what these functions write; what they
 * need of its state comes in a {@linkcode Fts5SqlContext}.
 *
 * @module
 */

import { nearDistanceFor } from "./phrase_slop.ts";
import { scalarOf, type Schema } from "./schema.ts";
import {
  type FacetSpec,
  MAX_FACET_VALUES_PER_SHARD,
  type Plan,
  type PlanValue,
  type SearchOptions,
} from "./search_index.ts";

/** Plan kinds answered by the FTS5 table (they drive an AND that holds them). */
const TEXT_KINDS = new Set(["term", "phrase", "prefix", "fuzzy", "ids"]);

/** A statement's text and its parameters, in the order they appear in the text. */
export interface SqlQuery {
  readonly sql: string;
  readonly params: Array<string | number>;
}

/** What the compiler needs of the engine's state. */
export interface Fts5SqlContext {
  /** Each text field's FTS5 column (`c0…`). */
  readonly columns: ReadonlyMap<string, number>;
  readonly schema: Schema;
  /** Per fuzzy leaf (by {@linkcode fuzzyKey}), the vocabulary terms it expands to. */
  readonly fuzzyTerms: ReadonlyMap<string, readonly string[]>;
  /**
   * Per sloppy phrase leaf (by {@linkcode phraseKey}), the rids holding it: FTS5's NEAR is
   * unordered, so the engine checks its candidates' positions (`phrase_slop.ts`) first.
   */
  readonly sloppyPhrases: ReadonlyMap<string, readonly number[]>;
}

/** The tables besides `fts` (created if missing), and their indexes. */
export const TABLES_SQL =
  `CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS docs(rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
  CREATE TABLE IF NOT EXISTS vals(rid INTEGER NOT NULL, field TEXT NOT NULL, num REAL, str TEXT);
  CREATE INDEX IF NOT EXISTS vals_num ON vals(field, num) WHERE num IS NOT NULL;
  CREATE INDEX IF NOT EXISTS vals_str ON vals(field, str) WHERE str IS NOT NULL;
  DROP INDEX IF EXISTS vals_rid;
  CREATE INDEX IF NOT EXISTS vals_doc ON vals(rid, field, num, str);
  DROP TABLE IF EXISTS postings;
  DROP TABLE IF EXISTS term_stats;
  CREATE TABLE IF NOT EXISTS post_blocks(term TEXT NOT NULL, first_rid INTEGER NOT NULL,
    last_rid INTEGER NOT NULL, n INTEGER NOT NULL, data BLOB NOT NULL, stats BLOB,
    PRIMARY KEY (term, first_rid)) WITHOUT ROWID;
  CREATE TABLE IF NOT EXISTS doc_terms(rid INTEGER PRIMARY KEY, data TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS field_stats(col INTEGER PRIMARY KEY, docs INTEGER NOT NULL,
    tokens INTEGER NOT NULL);
  CREATE TABLE IF NOT EXISTS post_log(seq INTEGER PRIMARY KEY AUTOINCREMENT,
    data TEXT NOT NULL);
  CREATE TABLE IF NOT EXISTS post_folded(seq INTEGER PRIMARY KEY, terms TEXT NOT NULL);`;

/**
 * The version of the ranking tables (`post_blocks`, `doc_terms`, `field_stats`, `post_log`,
 * `post_folded`) an index file holds, in `meta.ranking`; a file with another (or none) is rebuilt
 * from KV. Version 3 kept one `postings` row per posting and a `term_stats` table (both dropped
 * when met: the file is rebuilt); version 4 had blocks without the open block's statistics;
 * version 5 had no `post_log` (a build of it would not read the pending changes a later file
 * logs); version 6 numbered `post_log` rows from 1 again after each fold, which let a stale
 * handle's check pass; version 7 folded everything pending at once and had no `post_folded` (a
 * build of it would read back changes a later file folded).
 */
export const RANKING_VERSION = "8";

/** The names of `columns` generic text columns. */
function columnNames(columns: number): string[] {
  return Array.from({ length: columns }, (_, i) => `c${i}`);
}

/** The contentless FTS5 table with `columns` generic text columns. */
export function createFtsSql(columns: number): string {
  return `CREATE VIRTUAL TABLE fts USING fts5(${columnNames(columns).join(", ")}, content='', ` +
    `contentless_delete=1, tokenize='unicode61 remove_diacritics 2')`;
}

/** The insert of one document's text columns (rowid first). */
export function insertFtsSql(columns: number): string {
  const names = columnNames(columns);
  return `INSERT INTO fts(rowid, ${names.join(", ")}) VALUES (?, ${
    names.map(() => "?").join(", ")
  })`;
}

/** A term as an FTS5 string. */
export function quote(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
}

/** The key of a fuzzy leaf in {@linkcode Fts5SqlContext.fuzzyTerms}. */
export function fuzzyKey(field: string | null, term: string, distance: number): string {
  return JSON.stringify([field, term, distance]);
}

/** Whether a phrase leaf needs its positions checked (a slop, two terms or more). */
export function isSloppy(plan: Extract<Plan, { kind: "phrase" }>): boolean {
  return plan.slop > 0 && plan.terms.length > 1;
}

/** The key of a sloppy phrase leaf in {@linkcode Fts5SqlContext.sloppyPhrases}. */
export function phraseKey(plan: Extract<Plan, { kind: "phrase" }>): string {
  return JSON.stringify([plan.field, plan.terms, plan.slop]);
}

/** Every sloppy phrase leaf of a plan, wherever it is. */
export function sloppyPhraseLeaves(plan: Plan): Array<Extract<Plan, { kind: "phrase" }>> {
  switch (plan.kind) {
    case "phrase":
      return isSloppy(plan) ? [plan] : [];
    case "and":
    case "or":
      return plan.children.flatMap(sloppyPhraseLeaves);
    case "not":
    case "boost":
      return sloppyPhraseLeaves(plan.child);
    case "rank":
      return [plan.match, ...plan.optional].flatMap(sloppyPhraseLeaves);
    default:
      return [];
  }
}

/** Every fuzzy leaf of a plan, wherever it is (their expansions come from the vocabulary). */
export function fuzzyLeaves(plan: Plan): Array<Extract<Plan, { kind: "fuzzy" }>> {
  switch (plan.kind) {
    case "fuzzy":
      return [plan];
    case "and":
    case "or":
      return plan.children.flatMap(fuzzyLeaves);
    case "not":
    case "boost":
      return fuzzyLeaves(plan.child);
    case "rank":
      return [plan.match, ...plan.optional].flatMap(fuzzyLeaves);
    default:
      return [];
  }
}

/**
 * The candidate terms of a fuzzy leaf: vocabulary terms (of one column, or all) whose length
 * is within `distance + 1` of the term's.
 */
export function vocabularyQuery(term: string, distance: number, column?: number): SqlQuery {
  const params: Array<string | number> = [
    Math.max(1, term.length - distance - 1),
    term.length + distance + 1,
  ];
  if (column !== undefined) params.push(`c${column}`);
  const sql = `SELECT DISTINCT term FROM vocab WHERE length(term) BETWEEN ? AND ?${
    column === undefined ? "" : " AND col = ?"
  }`;
  return { sql, params };
}

/** The vocabulary table of every token's positions (`fts5vocab` of type `instance`). */
export const INSTANCES_SQL =
  "CREATE VIRTUAL TABLE IF NOT EXISTS vocab_instances USING fts5vocab(fts, 'instance')";

/**
 * The positions of a term in some documents (`doc`, `col` as `c<i>`, `offset`), in one column
 * when given.
 */
export function positionsQuery(term: string, rids: readonly number[], column?: number): SqlQuery {
  const params: Array<string | number> = [term, JSON.stringify(rids)];
  if (column !== undefined) params.push(`c${column}`);
  const sql = "SELECT doc, col, offset FROM vocab_instances WHERE term = ? " +
    `AND doc IN (SELECT value FROM json_each(?))${column === undefined ? "" : " AND col = ?"}`;
  return { sql, params };
}

/**
 * The FTS5 expression of a text leaf, or `undefined` when it can match nothing. For a sloppy
 * phrase it is the candidates' NEAR (a superset: see {@linkcode nearDistanceFor}).
 */
export function matchExpression(
  plan: Plan,
  context: Pick<Fts5SqlContext, "columns" | "fuzzyTerms">,
): string | undefined {
  let expression: string;
  switch (plan.kind) {
    case "term":
      expression = quote(plan.term);
      break;
    case "phrase": {
      const distinct = [...new Set(plan.terms)];
      expression = !isSloppy(plan)
        ? quote(plan.terms.join(" "))
        : distinct.length === 1
        ? quote(distinct[0]!)
        : `NEAR(${distinct.map(quote).join(" ")}, ${
          nearDistanceFor(plan.terms.length, plan.slop)
        })`;
      break;
    }
    case "prefix":
      expression = `${quote(plan.prefix)} *`;
      break;
    case "fuzzy": {
      const terms = context.fuzzyTerms.get(fuzzyKey(plan.field, plan.term, plan.distance)) ?? [];
      if (terms.length === 0) return undefined;
      expression = terms.map(quote).join(" OR ");
      break;
    }
    default:
      return undefined;
  }
  if (plan.field === null) return context.columns.size === 0 ? undefined : `(${expression})`;
  const column = context.columns.get(plan.field);
  return column === undefined ? undefined : `{c${column}} : (${expression})`;
}

/** The column and the SQL value of a plan value (booleans are 0/1 in `num`). */
export function valueColumn(value: PlanValue): ["num" | "str", string | number] {
  if (typeof value === "string") return ["str", value];
  if (typeof value === "boolean") return ["num", value ? 1 : 0];
  return ["num", value];
}

/**
 * The SQL condition of a plan over `docs d`; parameters are appended to `params` in order.
 * A value filter (`eq`, `range`) is a list of matching rows (`d.rid IN (…)`) on its own,
 * but a probe of the row at hand (`EXISTS`) when `probe` is set: inside an AND that also
 * matches text, the text match drives and each of its rows is checked — materializing a
 * wide range (most of a shard) for every query cost ~80× more: 10.65 ms against 0.13 ms
 * for a term AND a range over 25k documents
 * (`deno run -A bench/compare/range_filter_profile.ts`).
 */
export function whereSql(
  plan: Plan,
  params: Array<string | number>,
  context: Fts5SqlContext,
  probe = false,
): string {
  switch (plan.kind) {
    case "all":
      return "1";
    case "none":
      return "0";
    case "term":
    case "phrase":
    case "prefix":
    case "fuzzy": {
      if (plan.kind === "phrase" && isSloppy(plan)) {
        params.push(JSON.stringify(context.sloppyPhrases.get(phraseKey(plan)) ?? []));
        return "d.rid IN (SELECT value FROM json_each(?))";
      }
      const match = matchExpression(plan, context);
      if (match === undefined) return "0";
      params.push(match);
      return "d.rid IN (SELECT rowid FROM fts WHERE fts MATCH ?)";
    }
    case "ids":
      if (plan.ids.length === 0) return "0";
      params.push(...plan.ids);
      return `d.id IN (${plan.ids.map(() => "?").join(", ")})`;
    case "eq": {
      const [column, value] = valueColumn(plan.value);
      params.push(plan.field, value);
      return rowsWhere(`field = ? AND ${column} = ?`, probe);
    }
    case "range":
      return rowsWhere(rangeCondition(plan, params), probe);
    case "and": {
      if (plan.children.length === 0) return "1";
      const matchesText = plan.children.some((child) => TEXT_KINDS.has(child.kind));
      const children = plan.children.map((child) => whereSql(child, params, context, matchesText));
      return `(${children.join(" AND ")})`;
    }
    case "or":
      return plan.children.length === 0 ? "0" : orSql(plan.children, params, context);
    case "not":
      return `(NOT ${whereSql(plan.child, params, context)})`;
    case "boost":
      return whereSql(plan.child, params, context, probe);
    case "rank":
      return whereSql(plan.match, params, context);
  }
}

/**
 * An OR of `children`: the `eq`s on one field of one value type as one `IN` list (a search that
 * leaves out a thousand slots is one list, not a thousand subqueries), the rest joined two by
 * two, so the expression stays within SQLite's depth limit of 1,000 (a flat `a OR b OR …` of
 * 1,023 excluded slots failed with "Expression tree is too large").
 */
function orSql(
  children: readonly Plan[],
  params: Array<string | number>,
  context: Fts5SqlContext,
): string {
  const lists = new Map<
    string,
    { field: string; column: string; values: Array<string | number> }
  >();
  const pieces: Array<(params: Array<string | number>) => string> = [];
  for (const child of children) {
    if (child.kind !== "eq") {
      pieces.push((into) => whereSql(child, into, context));
      continue;
    }
    const [column, value] = valueColumn(child.value);
    const key = JSON.stringify([child.field, column]);
    let list = lists.get(key);
    if (list === undefined) {
      lists.set(key, list = { field: child.field, column, values: [] });
      const held = list;
      pieces.push((into) => {
        into.push(held.field, ...held.values);
        const marks = held.values.map(() => "?").join(", ");
        return rowsWhere(`field = ? AND ${held.column} IN (${marks})`, false);
      });
    }
    list.values.push(value);
  }
  return balancedOr(pieces, params);
}

/** `pieces` joined by OR as a balanced tree (depth log2 of their number), in order. */
function balancedOr(
  pieces: ReadonlyArray<(params: Array<string | number>) => string>,
  params: Array<string | number>,
): string {
  if (pieces.length === 1) return pieces[0]!(params);
  const half = Math.ceil(pieces.length / 2);
  return `(${balancedOr(pieces.slice(0, half), params)} OR ${
    balancedOr(pieces.slice(half), params)
  })`;
}

/** Documents with a `vals` row meeting `condition`: listed, or probed per row. */
function rowsWhere(condition: string, probe: boolean): string {
  return probe
    ? `EXISTS (SELECT 1 FROM vals v WHERE v.rid = d.rid AND ${condition})`
    : `d.rid IN (SELECT rid FROM vals WHERE ${condition})`;
}

/** The `vals` condition of a range: its field and each bound it has. */
function rangeCondition(
  plan: Extract<Plan, { kind: "range" }>,
  params: Array<string | number>,
): string {
  const conditions: string[] = [];
  params.push(plan.field);
  let column = "num";
  const bounds = [[">", plan.gt], [">=", plan.gte], ["<", plan.lt], ["<=", plan.lte]] as const;
  for (const [op, bound] of bounds) {
    if (bound === undefined) continue;
    const [col, value] = valueColumn(bound);
    column = col;
    conditions.push(`${col} ${op} ?`);
    params.push(value);
  }
  if (conditions.length === 0) conditions.push(`${column} IS NOT NULL`);
  return `field = ? AND ${conditions.join(" AND ")}`;
}

/** The number of documents matching a plan. */
export function countQuery(plan: Plan, context: Fts5SqlContext): SqlQuery {
  const params: Array<string | number> = [];
  const where = whereSql(plan, params, context);
  return { sql: `SELECT count(*) AS n FROM docs d WHERE ${where}`, params };
}

/**
 * The documents matching a plan, unordered: `rid`, `id` and, with a sort, `k0…` per sort key.
 * The engine scores them from its postings (`bm25.ts`) and orders them.
 */
export function matchingQuery(
  plan: Plan,
  options: SearchOptions,
  context: Fts5SqlContext,
): SqlQuery {
  const sort = sortColumns(options, context.schema);
  const whereParams: Array<string | number> = [];
  const where = whereSql(plan, whereParams, context);
  const sql = `SELECT d.rid AS rid, d.id AS id${sort.columns.map((c) => `, ${c}`).join("")} ` +
    `FROM docs d WHERE ${where}`;
  return { sql, params: [...sort.params, ...whereParams] };
}

/**
 * One page of the documents matching a plan that scores nothing (filters, `all`): `id`, a
 * score of 0 and, with a sort, `k0…` per sort key, ordered by the sort keys (missing values
 * last), then id.
 */
export function unscoredPageQuery(
  plan: Plan,
  options: SearchOptions,
  context: Fts5SqlContext,
): SqlQuery {
  const sort = sortColumns(options, context.schema);
  const whereParams: Array<string | number> = [];
  const where = whereSql(plan, whereParams, context);
  const sql = `SELECT d.id AS id, 0 AS score${sort.columns.map((c) => `, ${c}`).join("")} ` +
    `FROM docs d WHERE ${where} ORDER BY ${[...sort.order, "d.id"].join(", ")} LIMIT ? OFFSET ?`;
  return { sql, params: [...sort.params, ...whereParams, options.limit, options.offset] };
}

/** Per sort key, a column `k<i>` (the lowest or highest value) and its ORDER BY terms. */
function sortColumns(options: SearchOptions, schema: Schema) {
  const columns: string[] = [];
  const order: string[] = [];
  const params: string[] = [];
  (options.sort ?? []).forEach((spec, i) => {
    const type = schema.fields[spec.field]?.type;
    const column = type !== undefined && scalarOf(type) === "string" ? "str" : "num";
    const aggregate = spec.order === "asc" ? "min" : "max";
    params.push(spec.field);
    columns.push(
      `(SELECT ${aggregate}(${column}) FROM vals v WHERE v.rid = d.rid AND v.field = ?) AS k${i}`,
    );
    order.push(`(k${i} IS NULL)`, `k${i} ${spec.order === "asc" ? "ASC" : "DESC"}`);
  });
  return { columns, order, params };
}

/**
 * A values facet: the most frequent values of a field over the documents matching a plan
 * (`value`, `n`), at most `spec.size` and {@linkcode MAX_FACET_VALUES_PER_SHARD}.
 */
export function valuesFacetQuery(
  plan: Plan,
  spec: Extract<FacetSpec, { kind: "values" }>,
  context: Fts5SqlContext,
): SqlQuery {
  const params: Array<string | number> = [];
  const matching = `SELECT d.rid FROM docs d WHERE ${whereSql(plan, params, context)}`;
  const type = context.schema.fields[spec.field]?.type ?? "string";
  const column = scalarOf(type) === "boolean" ? "num" : "str";
  const sql = `SELECT ${column} AS value, count(DISTINCT rid) AS n FROM vals ` +
    `WHERE field = ? AND ${column} IS NOT NULL AND rid IN (${matching}) ` +
    `GROUP BY ${column} ORDER BY n DESC, ${column} LIMIT ?`;
  return { sql, params: [spec.field, ...params, Math.min(spec.size, MAX_FACET_VALUES_PER_SHARD)] };
}

/** A range facet's bucket: the documents matching a plan with a value in `[from, to)`. */
export function rangeFacetQuery(
  plan: Plan,
  field: string,
  range: { readonly from?: number; readonly to?: number },
  context: Fts5SqlContext,
): SqlQuery {
  const params: Array<string | number> = [];
  const matching = `SELECT d.rid FROM docs d WHERE ${whereSql(plan, params, context)}`;
  const conditions = ["field = ?"];
  const bounds: Array<string | number> = [field];
  if (range.from !== undefined) {
    conditions.push("num >= ?");
    bounds.push(range.from);
  }
  if (range.to !== undefined) {
    conditions.push("num < ?");
    bounds.push(range.to);
  }
  const sql = `SELECT count(DISTINCT rid) AS n FROM vals WHERE ${conditions.join(" AND ")} ` +
    `AND rid IN (${matching})`;
  return { sql, params: [...bounds, ...params] };
}
