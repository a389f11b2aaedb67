/**
 * The `fts5` engine: one SQLite database per (microshard, index), on disk, through Deno's
 * built-in `node:sqlite`.
 *
 * Layout:
 * - `docs(rid, id)` — one row per document; `rid` is the FTS5 rowid;
 * - `fts` — a contentless FTS5 table (`contentless_delete=1`) with generic columns
 *   `c0…cN-1`; each text field takes the next free column (mapping in `meta`), so a new
 *   text field is searchable at once; past N columns the index is rebuilt with 2N;
 * - `vals(rid, field, num, str)` — numbers, dates (epoch ms) and booleans (0/1) in `num`,
 *   exact strings in `str`, indexed by (field, num) and (field, str);
 * - `meta` — `applied_seq`, the column map, the column count.
 *
 * The SQL — the tables, and the compiler from a `Plan` to the statements that answer it — is
 * written by the pure functions of `_fts5_sql.ts`; this class owns the database, its
 * transactions, applying operations, and running searches and facets.
 *
 * Every `apply` is one SQLite transaction that also writes `applied_seq`, so the index and
 * its recorded sequence number never disagree. WAL with `synchronous=NORMAL`: a process
 * crash loses nothing committed; a power loss may lose the last transactions, which the
 * change log replays.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import {
  countQuery,
  createFtsSql,
  type Fts5SqlContext,
  fuzzyKey,
  fuzzyLeaves,
  insertFtsSql,
  INSTANCES_SQL,
  isSloppy,
  matchExpression,
  matchingQuery,
  phraseKey,
  positionsQuery,
  rangeFacetQuery,
  RANKING_VERSION,
  sloppyPhraseLeaves,
  type SqlQuery,
  TABLES_SQL,
  unscoredPageQuery,
  valuesFacetQuery,
  vocabularyQuery,
} from "./_fts5_sql.ts";
import {
  Bm25Scorer,
  type CorpusStats,
  disjunctionTerms,
  localStats,
  type PostingsReader,
  type RankingSource,
  scorePlan,
  scoringLeavesOf,
} from "./bm25.ts";
import { topHits } from "./top_hits.ts";
import { DenseScores, kthScore, maxScoreTopK } from "./max_score.ts";
import { Fts5Postings } from "./_fts5_postings.ts";
import type { IndexedValue, Schema } from "./schema.ts";
import { scalarOf } from "./schema.ts";
import { expandFuzzy } from "./edit_distance.ts";
import { sloppyPhraseMatches } from "./phrase_slop.ts";
import { type DeadlineCheck, deadlineCheck, NO_DEADLINE } from "./search_deadline.ts";
import { MAX_FACET_VALUE_LENGTH, MAX_FUZZY_EXPANSIONS } from "./search_index.ts";
import type {
  FacetCounts,
  FacetSpec,
  IndexOp,
  Plan,
  SchemaChange,
  SearchIndex,
  SearchOptions,
  SearchResult,
} from "./search_index.ts";
import { tokenize } from "./tokenizer.ts";

export { MAX_FACET_VALUE_LENGTH } from "./search_index.ts";

/** Bytes in a KiB (SQLite's negative `cache_size` is in KiB). */
const BYTES_PER_KIB = 1024;

/** Highest rid whose score is added up in a typed array (8 bytes a rid); past it, a `Map`. */
const MAX_DENSE_RID = 1 << 20;

/** Text columns a new index starts with. */
export const INITIAL_COLUMNS = 16;

/** Options of {@linkcode Fts5Index.open}. */
export interface Fts5Options {
  /** The database file; `:memory:` for tests that need no file. */
  readonly path: string;
  readonly schema: Schema;
}

/** Thrown when the database file cannot be used; the caller rebuilds from KV. */
export class IndexCorruptError extends Error {
  override readonly name = "IndexCorruptError";
}

/** A search index in SQLite FTS5. */
export class Fts5Index implements SearchIndex {
  readonly engine = "fts5" as const;
  readonly durable: boolean;
  #path: string;
  #db: DatabaseSync;
  #columns = new Map<string, number>();
  #columnCount = INITIAL_COLUMNS;
  #applied = 0;
  #count = 0;
  #cacheBytes = 0;
  #schema: Schema;
  #stmts!: {
    ridOf: StatementSync;
    insertDoc: StatementSync;
    deleteDoc: StatementSync;
    deleteFts: StatementSync;
    deleteVals: StatementSync;
    insertVal: StatementSync;
    setMeta: StatementSync;
    maxRid: StatementSync;
    idsOf: StatementSync;
  };
  #insertFts!: StatementSync;
  #postings!: Fts5Postings;
  #dense: DenseScores | undefined;

  private constructor(path: string, db: DatabaseSync, schema: Schema) {
    this.#path = path;
    this.#schema = schema;
    this.#db = db;
    this.durable = path !== ":memory:";
  }

  /**
   * Opens (or creates) the index at `path`. A file that is not a valid index throws
   * `IndexCorruptError`.
   */
  static open(options: Fts5Options): Fts5Index {
    let db: DatabaseSync | undefined;
    try {
      db = new DatabaseSync(options.path);
      const index = new Fts5Index(options.path, db, options.schema);
      index.#init(options.schema);
      return index;
    } catch (error) {
      try {
        db?.close();
      } catch { /* already unusable */ }
      throw new IndexCorruptError(
        `Cannot open the search index at ${options.path}: ${(error as Error).message}`,
      );
    }
  }

  #init(schema: Schema): void {
    const db = this.#db;
    db.exec("PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY");
    db.exec(TABLES_SQL);
    const meta = new Map(
      (db.prepare("SELECT key, value FROM meta").all() as Array<{ key: string; value: string }>)
        .map((row) => [row.key, row.value]),
    );
    const columns = meta.get("columns");
    if (columns !== undefined && meta.get("ranking") !== RANKING_VERSION) {
      throw new Error("the file predates the ranking postings; it is rebuilt from KV");
    }
    if (columns === undefined) {
      this.#createFts(INITIAL_COLUMNS);
      this.#columnCount = INITIAL_COLUMNS;
    } else {
      this.#columns = new Map(Object.entries(JSON.parse(columns) as Record<string, number>));
      this.#columnCount = Number(meta.get("column_count"));
      this.#applied = Number(meta.get("applied_seq") ?? "0");
    }
    this.#prepare();
    this.#count = (db.prepare("SELECT count(*) AS n FROM docs").get() as { n: number }).n;
    const cache = (db.prepare("PRAGMA cache_size").get() as { cache_size: number }).cache_size;
    const pageSize = (db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size;
    // A negative cache_size is in KiB, a positive one in pages.
    this.#cacheBytes = cache < 0 ? -cache * BYTES_PER_KIB : cache * pageSize;
    if (this.updateSchema(schema) === "rebuild") this.reset(schema, 0);
    if (columns === undefined) this.#writeMeta();
  }

  #createFts(columns: number): void {
    this.#db.exec(createFtsSql(columns));
  }

  #prepare(): void {
    const db = this.#db;
    this.#stmts = {
      ridOf: db.prepare("SELECT rid FROM docs WHERE id = ?"),
      insertDoc: db.prepare("INSERT INTO docs(id) VALUES (?) RETURNING rid"),
      deleteDoc: db.prepare("DELETE FROM docs WHERE rid = ?"),
      deleteFts: db.prepare("DELETE FROM fts WHERE rowid = ?"),
      deleteVals: db.prepare("DELETE FROM vals WHERE rid = ?"),
      insertVal: db.prepare("INSERT INTO vals(rid, field, num, str) VALUES (?, ?, ?, ?)"),
      setMeta: db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)"),
      // Prepared once: preparing them for every search cost ~0.2 ms a query (profiled).
      maxRid: db.prepare("SELECT coalesce(max(rid), 0) AS m FROM docs"),
      idsOf: db.prepare("SELECT rid, id FROM docs WHERE rid IN (SELECT value FROM json_each(?))"),
    };
    this.#postings = new Fts5Postings(db);
    this.#insertFts = db.prepare(insertFtsSql(this.#columnCount));
  }

  #writeMeta(): void {
    this.#stmts.setMeta.run("columns", JSON.stringify(Object.fromEntries(this.#columns)));
    this.#stmts.setMeta.run("column_count", String(this.#columnCount));
    this.#stmts.setMeta.run("applied_seq", String(this.#applied));
    this.#stmts.setMeta.run("ranking", RANKING_VERSION);
  }

  appliedSeq(): number {
    return this.#applied;
  }

  updateSchema(schema: Schema): SchemaChange {
    this.#schema = schema;
    const textFields = Object.keys(schema.fields)
      .filter((path) => scalarOf(schema.fields[path]!.type) === "text")
      .filter((path) => !this.#columns.has(path))
      .sort();
    if (textFields.length === 0) return "ok";
    if (this.#columns.size + textFields.length > this.#columnCount) return "rebuild";
    for (const path of textFields) this.#columns.set(path, this.#columns.size);
    this.#stmts.setMeta.run("columns", JSON.stringify(Object.fromEntries(this.#columns)));
    return "ok";
  }

  reset(schema: Schema, seq: number): void {
    this.#schema = schema;
    const textFields = Object.keys(schema.fields)
      .filter((path) => scalarOf(schema.fields[path]!.type) === "text").sort();
    let columns = INITIAL_COLUMNS;
    while (columns < textFields.length) columns *= 2;
    this.#db.exec("BEGIN");
    try {
      this.#db.exec(
        "DROP TABLE IF EXISTS fts; DELETE FROM docs; DELETE FROM vals;",
      );
      this.#postings.clear();
      this.#createFts(columns);
      this.#columnCount = columns;
      this.#columns = new Map(textFields.map((path, i) => [path, i]));
      this.#applied = seq;
      this.#prepare();
      this.#writeMeta();
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#rollback();
      throw error;
    }
    this.#count = 0;
  }

  /**
   * Ends a failed transaction. SQLite may have rolled it back itself (a full disk does), so
   * a failing ROLLBACK is ignored: the caller rethrows the error that matters.
   */
  #rollback(): void {
    this.#postings.discard();
    try {
      this.#db.exec("ROLLBACK");
    } catch {
      // No transaction was active any more.
    }
  }

  apply(ops: readonly IndexOp[], seq: number): void {
    const { ridOf, insertDoc, deleteDoc, deleteFts, deleteVals, insertVal, setMeta } = this.#stmts;
    let count = this.#count;
    this.#db.exec("BEGIN");
    try {
      for (const op of ops) {
        const existing = ridOf.get(op.id) as { rid: number } | undefined;
        if (existing !== undefined) {
          this.#postings.unpost(existing.rid);
          deleteFts.run(existing.rid);
          deleteVals.run(existing.rid);
          deleteDoc.run(existing.rid);
          count--;
        }
        if (op.op === "delete") continue;
        const { rid } = insertDoc.get(op.id) as { rid: number };
        count++;
        const texts: Array<string | null> = new Array(this.#columnCount).fill(null);
        const tokens = new Map<number, string[]>();
        for (const value of op.values) this.#stage(rid, value, { texts, tokens }, insertVal);
        this.#insertFts.run(rid, ...texts);
        this.#postings.post(rid, tokens);
      }
      this.#postings.flush();
      setMeta.run("applied_seq", String(seq));
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#rollback();
      this.#postings.discard();
      throw error;
    }
    this.#count = count;
    this.#applied = seq;
  }

  #stage(
    rid: number,
    value: IndexedValue,
    staged: { texts: Array<string | null>; tokens: Map<number, string[]> },
    insertVal: StatementSync,
  ): void {
    switch (value.type) {
      case "text": {
        const column = this.#columns.get(value.path);
        if (column === undefined) {
          throw new Error(`text field "${value.path}" has no column; updateSchema was not called`);
        }
        // Fed pre-tokenized so that both engines agree on terms; elements of an array
        // are separated by a newline.
        const tokens = value.values.map((text) => tokenize(String(text)));
        staged.texts[column] = tokens.map((list) => list.join(" ")).join("\n");
        staged.tokens.set(column, tokens.flat());
        // Elements of text arrays (tags) are also kept whole, for facets.
        if (this.#schema.fields[value.path]?.type === "text[]") {
          for (const v of value.values) {
            const text = String(v);
            if (text.length <= MAX_FACET_VALUE_LENGTH) insertVal.run(rid, value.path, null, text);
          }
        }
        return;
      }
      case "string":
        for (const v of value.values) insertVal.run(rid, value.path, null, String(v));
        return;
      case "boolean":
        for (const v of value.values) insertVal.run(rid, value.path, v ? 1 : 0, null);
        return;
      case "i64":
      case "f64":
      case "date":
        for (const v of value.values) insertVal.run(rid, value.path, Number(v), null);
        return;
      case "json":
        return;
    }
  }

  search(plan: Plan, options: SearchOptions): SearchResult {
    const check = deadlineCheck(options.deadlineAtMs);
    check();
    const context = this.#sqlContext(plan, check);
    if (scoringLeavesOf(plan).length === 0) return this.#unscored(plan, options, context);
    if (options.limit <= 0) {
      return { total: this.#get<{ n: number }>(countQuery(plan, context)).n, hits: [] };
    }
    const terms = disjunctionTerms(plan);
    if (terms !== undefined && (options.sort ?? []).length === 0) {
      return this.#searchDisjunction(terms, plan, options, { context, check });
    }
    const matching = matchingQuery(plan, options, context);
    const rows = this.#db.prepare(matching.sql).all(...matching.params) as Array<
      Record<string, string | number | null>
    >;
    if (rows.length === 0) return { total: 0, hits: [] };
    check();
    const source = this.#rankingSource(context);
    const stats = options.stats ?? localStats(plan, source, check);
    const scores = scorePlan(plan, source, {
      stats,
      check,
      ...(options.ranking === undefined ? {} : { params: options.ranking }),
    });
    const sort = options.sort ?? [];
    const hits = rows.map((row) => {
      const hit = { id: row.id as string, score: scores.get(row.rid as number) ?? 0 };
      return sort.length === 0 ? hit : { ...hit, sortValues: this.#sortValues(row, options) };
    });
    return { total: rows.length, hits: topHits(hits, options) };
  }

  /**
   * A disjunction of terms (no sort): MaxScore over the postings finds the top hits without
   * scoring every match; the total is counted from the postings when MaxScore did not see
   * every match.
   */
  #searchDisjunction(
    terms: ReadonlyArray<{ field: string | null; term: string; weight: number }>,
    plan: Plan,
    options: SearchOptions,
    { context, check }: { context: Fts5SqlContext; check: DeadlineCheck },
  ): SearchResult {
    const source = this.#rankingSource(context);
    const scorer = new Bm25Scorer(
      options.stats ?? localStats(plan, source, check),
      options.ranking,
    );
    const disjuncts = terms.map((term) => ({ ...term, fields: source.fieldsOf(term.field) }));
    const k = options.offset + options.limit;
    const table = this.#scoreTable();
    table?.reset(); // a search that threw may have left scores behind
    const { scores, exhaustive } = maxScoreTopK(disjuncts, {
      read: source.read,
      readAmong: (fields, term, among, visit) => this.#readPostings(fields, term, visit, among),
      bound: (term) => {
        const stats = this.#postings.termStats(term.term);
        const perField = term.fields.map((field) => {
          const stat = stats.get(this.#columns.get(field) ?? -2);
          return stat === undefined ? undefined : { maxTf: stat.maxTf, minLen: stat.minLen };
        });
        return scorer.bound(term, perField);
      },
    }, { scorer, k, check, ...(table === undefined ? {} : { scores: table }) });
    const total = exhaustive ? scores.size : this.#postings.countAny(
      disjuncts.map((term) => ({ term: term.term, columns: this.#columnsOf(term.fields) })),
    );
    const cut = scores.kth?.(k) ?? kthScore(scores.values(), k);
    const kept: Array<[number, number]> = [];
    if (scores.reaching !== undefined) {
      for (const rid of scores.reaching(0, cut)) kept.push([rid, scores.get(rid)!]);
    } else {
      for (const [rid, score] of scores.entries()) if (score >= cut) kept.push([rid, score]);
    }
    table?.reset();
    const ids = new Map(
      (this.#stmts.idsOf.all(JSON.stringify(kept.map(([rid]) => rid))) as Array<
        { rid: number; id: string }
      >).map((row) => [row.rid, row.id]),
    );
    const hits = kept.flatMap(([rid, score]) => {
      const id = ids.get(rid);
      return id === undefined ? [] : [{ id, score }];
    });
    return { total, hits: topHits(hits, options) };
  }

  /** The typed-array score table, sized for the highest rid; `undefined` past `MAX_DENSE_RID`. */
  #scoreTable(): DenseScores | undefined {
    const { m } = this.#stmts.maxRid.get() as { m: number };
    if (m >= MAX_DENSE_RID) return undefined;
    if (this.#dense === undefined || this.#dense.capacity <= m) {
      this.#dense = new DenseScores(Math.min(MAX_DENSE_RID, Math.max(1024, 2 * (m + 1))));
    }
    return this.#dense;
  }

  /** Visits a term's postings in some fields (of the documents `among`, when given). */
  #readPostings(
    fields: readonly string[],
    term: string,
    visit: (doc: number, field: number, tf: number, len: number) => void,
    among?: readonly number[],
  ): void {
    const columns = this.#columnsOf(fields);
    if (columns.length === 0) return;
    // Column number → index into `fields`.
    const position = new Int32Array(Math.max(0, ...columns) + 1);
    columns.forEach((column, i) => position[column] = i);
    this.#postings.read(term, columns, (rid, col, tf, len) => {
      visit(rid, position[col]!, tf, len);
    }, among);
  }

  #columnsOf(fields: readonly string[]): number[] {
    return fields.map((field) => this.#columns.get(field)).filter((column) => column !== undefined);
  }

  /** A plan that scores nothing: SQL orders and pages it. */
  #unscored(plan: Plan, options: SearchOptions, context: Fts5SqlContext): SearchResult {
    const total = this.#get<{ n: number }>(countQuery(plan, context)).n;
    if (options.limit <= 0 || total === 0) return { total, hits: [] };
    const { sql, params } = unscoredPageQuery(plan, options, context);
    const rows = this.#db.prepare(sql).all(...params) as Array<
      Record<string, string | number | null>
    >;
    const sort = options.sort ?? [];
    return {
      total,
      hits: rows.map((row) => {
        const hit = { id: row.id as string, score: 0 };
        return sort.length === 0 ? hit : { ...hit, sortValues: this.#sortValues(row, options) };
      }),
    };
  }

  #sortValues(row: Record<string, string | number | null>, options: SearchOptions) {
    return (options.sort ?? []).map((spec, i) => {
      const value = row[`k${i}`] ?? null;
      return this.#schema.fields[spec.field]?.type.startsWith("boolean") && value !== null
        ? value === 1
        : value;
    });
  }

  stats(plan: Plan, options: { readonly deadlineAtMs?: number } = {}): CorpusStats {
    const check = deadlineCheck(options.deadlineAtMs);
    check();
    // The statistics need the fuzzy expansions, not which documents hold the phrases.
    const context = this.#sqlContext(plan, check, { phrases: false });
    return localStats(plan, this.#rankingSource(context), check);
  }

  /** The engine's postings, statistics and leaf matches, for `bm25.ts`. */
  #rankingSource(context: Fts5SqlContext): RankingSource<number> {
    const columnsOf = (fields: readonly string[]) => this.#columnsOf(fields);
    return {
      fieldsOf: (field) =>
        field === null ? [...this.#columns.keys()] : this.#columns.has(field) ? [field] : [],
      // The postings' key is (term, rid, col): a document's columns come one after another.
      read: Object.assign(
        (fields: readonly string[], term: string, visit: Parameters<PostingsReader<number>>[2]) =>
          this.#readPostings(fields, term, visit),
        { grouped: true },
      ),
      docFreq: (fields, term) => {
        const columns = columnsOf(fields);
        return columns.length === 0 ? 0 : this.#postings.docFreq(term, columns, this.#columns.size);
      },
      corpus: () => {
        const rows = this.#postings.fieldStats();
        const names = new Map([...this.#columns].map(([field, column]) => [column, field]));
        const fields = rows.filter((row) => names.has(row.col))
          .map((row) => [names.get(row.col)!, row.docs, row.tokens] as const);
        return { docCount: this.#count, fields };
      },
      expand: (leaf) =>
        context.fuzzyTerms.get(fuzzyKey(leaf.field, leaf.term, leaf.distance)) ?? [],
      matches: (leaf) => {
        if (leaf.kind === "phrase" && isSloppy(leaf)) {
          return new Set(context.sloppyPhrases.get(phraseKey(leaf)) ?? []);
        }
        const match = matchExpression(leaf, context);
        if (match === undefined) return new Set();
        const rows = this.#db.prepare("SELECT rowid AS rid FROM fts WHERE fts MATCH ?").all(
          match,
        ) as Array<{ rid: number }>;
        return new Set(rows.map((row) => row.rid));
      },
    };
  }

  /**
   * What the SQL compiler needs: the columns, the schema, the plan's fuzzy expansions and the
   * documents holding its sloppy phrases.
   */
  #sqlContext(
    plan: Plan,
    check: DeadlineCheck = NO_DEADLINE,
    { phrases = true }: { readonly phrases?: boolean } = {},
  ): Fts5SqlContext {
    const fuzzyTerms = new Map<string, readonly string[]>();
    for (const leaf of fuzzyLeaves(plan)) {
      const key = fuzzyKey(leaf.field, leaf.term, leaf.distance);
      check();
      if (!fuzzyTerms.has(key)) {
        fuzzyTerms.set(key, this.#expandFuzzy(leaf.field, leaf.term, leaf.distance));
      }
    }
    const sloppyPhrases = new Map<string, readonly number[]>();
    for (const leaf of phrases ? sloppyPhraseLeaves(plan) : []) {
      const key = phraseKey(leaf);
      check();
      if (!sloppyPhrases.has(key)) {
        sloppyPhrases.set(key, this.#sloppyPhrase(leaf, { fuzzyTerms, check }));
      }
    }
    return { columns: this.#columns, schema: this.#schema, fuzzyTerms, sloppyPhrases };
  }

  /**
   * The documents holding a phrase within its slop (Lucene's rule, `phrase_slop.ts`): FTS5's
   * NEAR names the candidates, whose positions (`fts5vocab` instances) are then checked per
   * column.
   */
  #sloppyPhrase(
    leaf: Extract<Plan, { kind: "phrase" }>,
    { fuzzyTerms, check }: {
      fuzzyTerms: ReadonlyMap<string, readonly string[]>;
      check: DeadlineCheck;
    },
  ): number[] {
    const near = matchExpression(leaf, { columns: this.#columns, fuzzyTerms });
    if (near === undefined) return [];
    const candidates = (this.#db.prepare("SELECT rowid AS rid FROM fts WHERE fts MATCH ?")
      .all(near) as Array<{ rid: number }>).map((row) => row.rid);
    if (candidates.length === 0) return [];
    this.#db.exec(INSTANCES_SQL);
    const column = leaf.field === null ? undefined : this.#columns.get(leaf.field);
    // Per document and column, per term: its positions.
    const positions = new Map<number, Map<string, Map<string, number[]>>>();
    for (const term of new Set(leaf.terms)) {
      check();
      const { sql, params } = positionsQuery(term, candidates, column);
      const rows = this.#db.prepare(sql).all(...params) as Array<
        { doc: number; col: string; offset: number }
      >;
      for (const { doc, col, offset } of rows) {
        let byColumn = positions.get(doc);
        if (byColumn === undefined) positions.set(doc, byColumn = new Map());
        let byTerm = byColumn.get(col);
        if (byTerm === undefined) byColumn.set(col, byTerm = new Map());
        const list = byTerm.get(term);
        if (list === undefined) byTerm.set(term, [offset]);
        else list.push(offset);
      }
    }
    const matched: number[] = [];
    for (const [rid, byColumn] of positions) {
      for (const byTerm of byColumn.values()) {
        const positionsOf = (term: string) => (byTerm.get(term) ?? []).sort((a, b) => a - b);
        if (sloppyPhraseMatches(leaf.terms, positionsOf, leaf.slop)) {
          matched.push(rid);
          break;
        }
      }
    }
    return matched;
  }

  /** The vocabulary terms (of one field, or all) within `distance` of `term`, closest first. */
  #expandFuzzy(field: string | null, term: string, distance: number): string[] {
    this.#db.exec("CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(fts, 'col')");
    const column = field === null ? undefined : this.#columns.get(field);
    if (field !== null && column === undefined) return [];
    const { sql, params } = vocabularyQuery(term, distance, column);
    const rows = this.#db.prepare(sql).all(...params) as Array<{ term: string }>;
    return expandFuzzy(term, distance, rows.map((row) => row.term), MAX_FUZZY_EXPANSIONS);
  }

  #get<T>(query: SqlQuery): T {
    return this.#db.prepare(query.sql).get(...query.params) as T;
  }

  facets(plan: Plan, specs: readonly FacetSpec[]): FacetCounts[] {
    const context = this.#sqlContext(plan);
    return specs.map((spec): FacetCounts => {
      if (spec.kind === "ranges") {
        const buckets = spec.ranges.map((range) => ({
          ...range,
          count: this.#get<{ n: number }>(rangeFacetQuery(plan, spec.field, range, context)).n,
        }));
        return { kind: "ranges", buckets };
      }
      const boolean = scalarOf(this.#schema.fields[spec.field]?.type ?? "string") === "boolean";
      const { sql, params } = valuesFacetQuery(plan, spec, context);
      const rows = this.#db.prepare(sql).all(...params) as Array<
        { value: string | number; n: number }
      >;
      const buckets = rows.map((row) => ({
        value: boolean ? row.value === 1 : row.value,
        count: row.n,
      }));
      return { kind: "values", buckets };
    });
  }

  count(): number {
    return this.#count;
  }

  memoryBytes(): number {
    // SQLite's page-cache budget for this connection and the decoded posting lists; the
    // index itself lives on disk.
    return this.#cacheBytes + this.#postings.cacheBytes();
  }

  close(): void {
    if (this.#db.isOpen) this.#db.close();
  }

  destroy(): void {
    this.close();
    if (this.durable) removeDatabaseFiles(this.#path);
  }
}

/** Removes an SQLite database file and its WAL and shared-memory files, if present. */
export function removeDatabaseFiles(path: string): void {
  for (const suffix of ["", "-wal", "-shm"]) {
    try {
      Deno.removeSync(path + suffix);
    } catch (error) {
      if (!(error instanceof Deno.errors.NotFound)) throw error;
    }
  }
}
