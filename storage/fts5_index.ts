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
 * Every `apply` is one SQLite transaction that also writes `applied_seq`, so the index and
 * its recorded sequence number never disagree. WAL with `synchronous=NORMAL`: a process
 * crash loses nothing committed; a power loss may lose the last transactions, which the
 * change log replays.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { IndexedValue, Schema } from "./schema.ts";
import { scalarOf } from "./schema.ts";
import type {
  IndexOp,
  Plan,
  PlanValue,
  SchemaChange,
  SearchIndex,
  SearchOptions,
  SearchResult,
} from "./search_index.ts";
import { tokenize } from "./tokenizer.ts";

/** Text columns a new index starts with. */
export const INITIAL_COLUMNS = 16;

/** Options of {@linkcode Fts5Index.open}. */
export interface Fts5Options {
  /** The database file; `:memory:` for tests that need no file. */
  readonly path: string;
  readonly schema: Schema;
}

function quote(term: string): string {
  return `"${term.replaceAll('"', '""')}"`;
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
  #stmts!: {
    ridOf: StatementSync;
    insertDoc: StatementSync;
    deleteDoc: StatementSync;
    deleteFts: StatementSync;
    deleteVals: StatementSync;
    insertVal: StatementSync;
    setMeta: StatementSync;
  };
  #insertFts!: StatementSync;

  private constructor(path: string, db: DatabaseSync) {
    this.#path = path;
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
      const index = new Fts5Index(options.path, db);
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
    db.exec(`CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS docs(rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
      CREATE TABLE IF NOT EXISTS vals(rid INTEGER NOT NULL, field TEXT NOT NULL, num REAL, str TEXT);
      CREATE INDEX IF NOT EXISTS vals_num ON vals(field, num) WHERE num IS NOT NULL;
      CREATE INDEX IF NOT EXISTS vals_str ON vals(field, str) WHERE str IS NOT NULL;
      CREATE INDEX IF NOT EXISTS vals_rid ON vals(rid);`);
    const meta = new Map(
      (db.prepare("SELECT key, value FROM meta").all() as Array<{ key: string; value: string }>)
        .map((row) => [row.key, row.value]),
    );
    const columns = meta.get("columns");
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
    if (this.updateSchema(schema) === "rebuild") this.reset(schema, 0);
    if (columns === undefined) this.#writeMeta();
  }

  #createFts(columns: number): void {
    const names = Array.from({ length: columns }, (_, i) => `c${i}`).join(", ");
    this.#db.exec(
      `CREATE VIRTUAL TABLE fts USING fts5(${names}, content='', contentless_delete=1, ` +
        `tokenize='unicode61 remove_diacritics 2')`,
    );
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
    };
    const names = Array.from({ length: this.#columnCount }, (_, i) => `c${i}`);
    this.#insertFts = db.prepare(
      `INSERT INTO fts(rowid, ${names.join(", ")}) VALUES (?, ${names.map(() => "?").join(", ")})`,
    );
  }

  #writeMeta(): void {
    this.#stmts.setMeta.run("columns", JSON.stringify(Object.fromEntries(this.#columns)));
    this.#stmts.setMeta.run("column_count", String(this.#columnCount));
    this.#stmts.setMeta.run("applied_seq", String(this.#applied));
  }

  appliedSeq(): number {
    return this.#applied;
  }

  updateSchema(schema: Schema): SchemaChange {
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
    const textFields = Object.keys(schema.fields)
      .filter((path) => scalarOf(schema.fields[path]!.type) === "text").sort();
    let columns = INITIAL_COLUMNS;
    while (columns < textFields.length) columns *= 2;
    this.#db.exec("BEGIN");
    try {
      this.#db.exec("DROP TABLE IF EXISTS fts; DELETE FROM docs; DELETE FROM vals;");
      this.#createFts(columns);
      this.#columnCount = columns;
      this.#columns = new Map(textFields.map((path, i) => [path, i]));
      this.#applied = seq;
      this.#prepare();
      this.#writeMeta();
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    this.#count = 0;
  }

  apply(ops: readonly IndexOp[], seq: number): void {
    const { ridOf, insertDoc, deleteDoc, deleteFts, deleteVals, insertVal, setMeta } = this.#stmts;
    let count = this.#count;
    this.#db.exec("BEGIN");
    try {
      for (const op of ops) {
        const existing = ridOf.get(op.id) as { rid: number } | undefined;
        if (existing !== undefined) {
          deleteFts.run(existing.rid);
          deleteVals.run(existing.rid);
          deleteDoc.run(existing.rid);
          count--;
        }
        if (op.op === "delete") continue;
        const { rid } = insertDoc.get(op.id) as { rid: number };
        count++;
        const texts: Array<string | null> = new Array(this.#columnCount).fill(null);
        for (const value of op.values) this.#stage(rid, value, texts, insertVal);
        this.#insertFts.run(rid, ...texts);
      }
      setMeta.run("applied_seq", String(seq));
      this.#db.exec("COMMIT");
    } catch (error) {
      this.#db.exec("ROLLBACK");
      throw error;
    }
    this.#count = count;
    this.#applied = seq;
  }

  #stage(
    rid: number,
    value: IndexedValue,
    texts: Array<string | null>,
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
        texts[column] = value.values.map((text) => tokenize(String(text)).join(" ")).join("\n");
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
    const params: Array<string | number> = [];
    const where = this.#compile(plan, params);
    const total = (this.#db.prepare(`SELECT count(*) AS n FROM docs d WHERE ${where}`)
      .get(...params) as { n: number }).n;
    if (options.limit <= 0 || total === 0) return { total, hits: [] };
    const match = this.#scoreExpression(plan);
    const rows = match === undefined
      ? this.#db.prepare(
        `SELECT d.id AS id, 0 AS score FROM docs d WHERE ${where} ORDER BY d.id LIMIT ? OFFSET ?`,
      ).all(...params, options.limit, options.offset)
      : this.#db.prepare(
        `SELECT d.id AS id, COALESCE(s.score, 0) AS score FROM docs d
         LEFT JOIN (SELECT rowid AS rid, -bm25(fts) AS score FROM fts WHERE fts MATCH ?) s
           ON s.rid = d.rid
         WHERE ${where} ORDER BY score DESC, d.id LIMIT ? OFFSET ?`,
      ).all(match, ...params, options.limit, options.offset);
    return {
      total,
      hits: (rows as Array<{ id: string; score: number }>).map((row) => ({
        id: row.id,
        score: row.score,
      })),
    };
  }

  /** The FTS5 expression of a text leaf, or undefined when it names no text column. */
  #matchOf(field: string | null, term: string): string | undefined {
    const quoted = tokenize(term).map(quote).join(" ");
    if (quoted === "") return undefined;
    if (field === null) return quoted;
    const column = this.#columns.get(field);
    return column === undefined ? undefined : `{c${column}} : (${quoted})`;
  }

  /** The positive text leaves ORed into one MATCH expression that ranks documents. */
  #scoreExpression(plan: Plan): string | undefined {
    const leaves: string[] = [];
    const collect = (node: Plan, negated: boolean) => {
      switch (node.kind) {
        case "term": {
          const match = negated ? undefined : this.#matchOf(node.field, node.term);
          if (match !== undefined) leaves.push(`(${match})`);
          return;
        }
        case "and":
        case "or":
          for (const child of node.children) collect(child, negated);
          return;
        case "not":
          collect(node.child, !negated);
          return;
        default:
          return;
      }
    };
    collect(plan, false);
    return leaves.length === 0 ? undefined : leaves.join(" OR ");
  }

  #compile(plan: Plan, params: Array<string | number>): string {
    switch (plan.kind) {
      case "all":
        return "1";
      case "none":
        return "0";
      case "term": {
        const match = this.#matchOf(plan.field, plan.term);
        if (match === undefined) return "0";
        params.push(match);
        return "d.rid IN (SELECT rowid FROM fts WHERE fts MATCH ?)";
      }
      case "eq": {
        const [column, value] = this.#valueColumn(plan.value);
        params.push(plan.field, value);
        return `d.rid IN (SELECT rid FROM vals WHERE field = ? AND ${column} = ?)`;
      }
      case "range": {
        const conditions: string[] = [];
        params.push(plan.field);
        let column = "num";
        for (
          const [op, bound] of [[">", plan.gt], [">=", plan.gte], ["<", plan.lt], [
            "<=",
            plan.lte,
          ]] as const
        ) {
          if (bound === undefined) continue;
          const [col, value] = this.#valueColumn(bound);
          column = col;
          conditions.push(`${col} ${op} ?`);
          params.push(value);
        }
        if (conditions.length === 0) conditions.push(`${column} IS NOT NULL`);
        return `d.rid IN (SELECT rid FROM vals WHERE field = ? AND ${conditions.join(" AND ")})`;
      }
      case "and":
        return plan.children.length === 0
          ? "1"
          : `(${plan.children.map((child) => this.#compile(child, params)).join(" AND ")})`;
      case "or":
        return plan.children.length === 0
          ? "0"
          : `(${plan.children.map((child) => this.#compile(child, params)).join(" OR ")})`;
      case "not":
        return `(NOT ${this.#compile(plan.child, params)})`;
    }
  }

  #valueColumn(value: PlanValue): ["num" | "str", string | number] {
    if (typeof value === "string") return ["str", value];
    if (typeof value === "boolean") return ["num", value ? 1 : 0];
    return ["num", value];
  }

  count(): number {
    return this.#count;
  }

  memoryBytes(): number {
    // SQLite's page cache for this connection; the index itself lives on disk.
    const row = this.#db.prepare("PRAGMA cache_size").get() as { cache_size: number };
    const pages = row.cache_size < 0 ? (-row.cache_size * 1024) / 4096 : row.cache_size;
    const pageSize = (this.#db.prepare("PRAGMA page_size").get() as { page_size: number })
      .page_size;
    return Math.round(pages * pageSize);
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
