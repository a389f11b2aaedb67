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
 * written by the pure functions of `_fts5_sql.ts`; the ranking postings are
 * `_fts5_postings.ts`; a document's values are staged by `_fts5_staging.ts`; a query's fuzzy
 * expansions and sloppy phrases are read by `_fts5_match_context.ts`; searches are answered
 * and scored by `_fts5_scoring.ts`. This class owns the database, its tables and
 * transactions, applying operations, and facets.
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
  createFtsSql,
  insertFtsSql,
  rangeFacetQuery,
  RANKING_VERSION,
  TABLES_SQL,
  valuesFacetQuery,
} from "./_fts5_sql.ts";
import { type CorpusStats, localStats } from "./bm25.ts";
import { type FoldLimits, Fts5Postings } from "./_fts5_postings.ts";
import { matchContext, type MatchContextOptions } from "./_fts5_match_context.ts";
import { type Fts5View, getRow, rankingSource, ScoreTables, searchFts5 } from "./_fts5_scoring.ts";
import { stageValue } from "./_fts5_staging.ts";
import { scalarOf, type Schema } from "./schema.ts";
import { deadlineCheck } from "./search_deadline.ts";
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

export { MAX_FACET_VALUE_LENGTH } from "./search_index.ts";

/** Bytes in a KiB (SQLite's negative `cache_size` is in KiB). */
const BYTES_PER_KIB = 1024;

/** Text columns a new index starts with. */
export const INITIAL_COLUMNS = 16;

/** Options of {@linkcode Fts5Index.open}. */
export interface Fts5Options {
  /** The database file; `:memory:` for tests that need no file. */
  readonly path: string;
  readonly schema: Schema;
  /** When pending postings changes are folded into their blocks (tests make them small). */
  readonly foldLimits?: FoldLimits;
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
  readonly #scoreTables = new ScoreTables();

  readonly #foldLimits: FoldLimits | undefined;

  private constructor(path: string, db: DatabaseSync, schema: Schema, foldLimits?: FoldLimits) {
    this.#path = path;
    this.#foldLimits = foldLimits;
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
      const index = new Fts5Index(options.path, db, options.schema, options.foldLimits);
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
    db.exec(
      "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA temp_store=MEMORY",
    );
    db.exec(TABLES_SQL);
    const meta = new Map(
      (db.prepare("SELECT key, value FROM meta").all() as Array<{ key: string; value: string }>)
        .map((row) => [row.key, row.value]),
    );
    const columns = meta.get("columns");
    if (columns !== undefined && meta.get("ranking") !== RANKING_VERSION) {
      throw new Error("the file's ranking tables are of another version; it is rebuilt from KV");
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
      // Not `RETURNING rid`: a statement with RETURNING opens a statement savepoint, and FTS5
      // writes its pending rows to disk at every savepoint — one tiny segment per document
      // (profiled: 112 µs a document against 7 µs).
      insertDoc: db.prepare("INSERT INTO docs(id) VALUES (?)"),
      deleteDoc: db.prepare("DELETE FROM docs WHERE rid = ?"),
      deleteFts: db.prepare("DELETE FROM fts WHERE rowid = ?"),
      deleteVals: db.prepare("DELETE FROM vals WHERE rid = ?"),
      insertVal: db.prepare("INSERT INTO vals(rid, field, num, str) VALUES (?, ?, ?, ?)"),
      setMeta: db.prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)"),
      // Prepared once: preparing them for every search cost ~0.2 ms a query (profiled).
      maxRid: db.prepare("SELECT coalesce(max(rid), 0) AS m FROM docs"),
      idsOf: db.prepare("SELECT rid, id FROM docs WHERE rid IN (SELECT value FROM json_each(?))"),
    };
    this.#postings = new Fts5Postings(db, this.#foldLimits);
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
    try {
      this.#db.exec("ROLLBACK");
    } catch {
      // No transaction was active any more.
    }
    // The postings' pending changes are the log's again (the rolled-back apply's are gone).
    this.#postings.reload();
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
        const rid = Number(insertDoc.run(op.id).lastInsertRowid);
        count++;
        const texts: Array<string | null> = new Array(this.#columnCount).fill(null);
        const tokens = new Map<number, string[]>();
        const into = {
          rid,
          texts,
          tokens,
          columns: this.#columns,
          schema: this.#schema,
          insertVal,
        };
        for (const value of op.values) stageValue(value, into);
        this.#insertFts.run(rid, ...texts);
        this.#postings.post(rid, tokens);
      }
      this.#postings.flush();
      setMeta.run("applied_seq", String(seq));
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#rollback();
      throw error;
    }
    this.#count = count;
    this.#applied = seq;
  }

  search(plan: Plan, options: SearchOptions): SearchResult {
    const check = deadlineCheck(options.deadlineAtMs);
    check();
    const context = this.#matchContext(plan, { check });
    return searchFts5(this.#view(), plan, { ...options, context, check });
  }

  /** The plan's fuzzy expansions and sloppy phrases, read from the index as it is now. */
  #matchContext(plan: Plan, options: Omit<MatchContextOptions, "columns" | "schema"> = {}) {
    return matchContext(this.#db, plan, {
      columns: this.#columns,
      schema: this.#schema,
      ...options,
    });
  }

  /** The state a search reads, as it is now. */
  #view(): Fts5View {
    return {
      db: this.#db,
      columns: this.#columns,
      schema: this.#schema,
      postings: this.#postings,
      count: this.#count,
      maxRid: this.#stmts.maxRid,
      idsOf: this.#stmts.idsOf,
      scoreTables: this.#scoreTables,
    };
  }

  stats(plan: Plan, options: { readonly deadlineAtMs?: number } = {}): CorpusStats {
    const check = deadlineCheck(options.deadlineAtMs);
    check();
    // The statistics need the fuzzy expansions, not which documents hold the phrases.
    const context = this.#matchContext(plan, { check, phrases: false });
    return localStats(plan, rankingSource(this.#view(), context), check);
  }

  facets(plan: Plan, specs: readonly FacetSpec[]): FacetCounts[] {
    const context = this.#matchContext(plan);
    return specs.map((spec): FacetCounts => {
      if (spec.kind === "ranges") {
        const buckets = spec.ranges.map((range) => {
          const query = rangeFacetQuery(plan, spec.field, range, context);
          return { ...range, count: getRow<{ n: number }>(this.#db, query).n };
        });
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

  /** Folds the postings' pending changes into their blocks (a file at rest has none), closes. */
  close(): void {
    if (!this.#db.isOpen) return;
    try {
      this.#db.exec("BEGIN");
      this.#postings.fold();
      this.#db.exec("COMMIT");
    } catch {
      // A full disk, say: the changes stay logged and are read back at the next open.
      this.#rollback();
    }
    this.#db.close();
  }

  destroy(): void {
    if (this.#db.isOpen) this.#db.close(); // no fold: the files are removed
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
