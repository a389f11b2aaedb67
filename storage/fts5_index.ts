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
import { expandFuzzy } from "./edit_distance.ts";
import { MAX_FACET_VALUES_PER_SHARD, MAX_FUZZY_EXPANSIONS } from "./search_index.ts";
import type {
  FacetCounts,
  FacetSpec,
  IndexOp,
  Plan,
  PlanValue,
  SchemaChange,
  SearchIndex,
  SearchOptions,
  SearchResult,
} from "./search_index.ts";
import { tokenize } from "./tokenizer.ts";

/** Plan kinds answered by the FTS5 table (they drive an AND that holds them). */
const TEXT_KINDS = new Set(["term", "phrase", "prefix", "fuzzy", "ids"]);

/** Text columns a new index starts with. */
export const INITIAL_COLUMNS = 16;

/** Longest element of a text array kept whole for facets. */
export const MAX_FACET_VALUE_LENGTH = 256;

/** Scoring leaves joined for BM25; leaves past this match but do not add to the score. */
export const MAX_SCORING_LEAVES = 16;

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
  };
  #insertFts!: StatementSync;

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
    db.exec(`CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
      CREATE TABLE IF NOT EXISTS docs(rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
      CREATE TABLE IF NOT EXISTS vals(rid INTEGER NOT NULL, field TEXT NOT NULL, num REAL, str TEXT);
      CREATE INDEX IF NOT EXISTS vals_num ON vals(field, num) WHERE num IS NOT NULL;
      CREATE INDEX IF NOT EXISTS vals_str ON vals(field, str) WHERE str IS NOT NULL;
      DROP INDEX IF EXISTS vals_rid;
      CREATE INDEX IF NOT EXISTS vals_doc ON vals(rid, field, num, str);`);
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
    const cache = (db.prepare("PRAGMA cache_size").get() as { cache_size: number }).cache_size;
    const pageSize = (db.prepare("PRAGMA page_size").get() as { page_size: number }).page_size;
    // A negative cache_size is in KiB, a positive one in pages.
    this.#cacheBytes = cache < 0 ? -cache * 1024 : cache * pageSize;
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
      this.#db.exec("DROP TABLE IF EXISTS fts; DELETE FROM docs; DELETE FROM vals;");
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
      this.#rollback();
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
    const whereParams: Array<string | number> = [];
    const where = this.#compile(plan, whereParams);
    const total = (this.#db.prepare(`SELECT count(*) AS n FROM docs d WHERE ${where}`)
      .get(...whereParams) as { n: number }).n;
    if (options.limit <= 0 || total === 0) return { total, hits: [] };
    // Parameters in the order they appear in the SQL text: the BM25 CTEs, the sort keys (in
    // the SELECT list), then the WHERE clause.
    const sortParams: Array<string | number> = [];
    const joinParams: Array<string | number> = [];
    // One BM25 join per scoring leaf, weighted by its boosts.
    const leaves = this.#scoringLeaves(plan, 1).slice(0, MAX_SCORING_LEAVES);
    // Each leaf's BM25 is computed once, in a materialized CTE keyed by rowid; a plain
    // subquery in the join was re-run per document (10 s for a term in 14k of 63k documents).
    const ctes = leaves.map((leaf, i) => {
      joinParams.push(leaf.match);
      return `s${i} AS MATERIALIZED (SELECT rowid AS rid, -bm25(fts) AS s FROM fts WHERE fts MATCH ?)`;
    });
    const joins = leaves.map((_, i) => `LEFT JOIN s${i} ON s${i}.rid = d.rid`);
    const score = leaves.length === 0
      ? "0"
      : leaves.map((leaf, i) => `${leaf.weight} * COALESCE(s${i}.s, 0)`).join(" + ");
    const sortColumns: string[] = [];
    const order: string[] = [];
    (options.sort ?? []).forEach((spec, i) => {
      const type = this.#schema.fields[spec.field]?.type;
      const column = type !== undefined && scalarOf(type) === "string" ? "str" : "num";
      const aggregate = spec.order === "asc" ? "min" : "max";
      sortParams.push(spec.field);
      sortColumns.push(
        `(SELECT ${aggregate}(${column}) FROM vals v WHERE v.rid = d.rid AND v.field = ?) AS k${i}`,
      );
      order.push(`(k${i} IS NULL)`, `k${i} ${spec.order === "asc" ? "ASC" : "DESC"}`);
    });
    order.push("score DESC", "d.id");
    const sql = `${
      ctes.length === 0 ? "" : `WITH ${ctes.join(", ")} `
    }SELECT d.id AS id, ${score} AS score${sortColumns.map((c) => `, ${c}`).join("")}
      FROM docs d ${joins.join(" ")} WHERE ${where} ORDER BY ${order.join(", ")} LIMIT ? OFFSET ?`;
    const rows = this.#db.prepare(sql).all(
      ...joinParams,
      ...sortParams,
      ...whereParams,
      options.limit,
      options.offset,
    ) as Array<
      Record<string, string | number | null>
    >;
    return {
      total,
      hits: rows.map((row) => {
        const hit = { id: row.id as string, score: row.score as number };
        if (options.sort === undefined || options.sort.length === 0) return hit;
        const sortValues = options.sort.map((spec, i) => {
          const value = row[`k${i}`] ?? null;
          return this.#schema.fields[spec.field]?.type.startsWith("boolean") && value !== null
            ? value === 1
            : value;
        });
        return { ...hit, sortValues };
      }),
    };
  }

  /** The FTS5 expression of a scoring leaf, or undefined when it can match nothing. */
  #matchOf(plan: Plan): string | undefined {
    let field: string | null;
    let expression: string;
    switch (plan.kind) {
      case "term":
        field = plan.field;
        expression = quote(plan.term);
        break;
      case "phrase":
        field = plan.field;
        expression = plan.slop === 0 || plan.terms.length < 2
          ? quote(plan.terms.join(" "))
          : `NEAR(${[...new Set(plan.terms)].map(quote).join(" ")}, ${plan.slop})`;
        break;
      case "prefix":
        field = plan.field;
        expression = `${quote(plan.prefix)} *`;
        break;
      case "fuzzy": {
        field = plan.field;
        const terms = this.#expandFuzzy(plan.field, plan.term, plan.distance);
        if (terms.length === 0) return undefined;
        expression = terms.map(quote).join(" OR ");
        break;
      }
      default:
        return undefined;
    }
    if (field === null) return this.#columns.size === 0 ? undefined : `(${expression})`;
    const column = this.#columns.get(field);
    return column === undefined ? undefined : `{c${column}} : (${expression})`;
  }

  #expandFuzzy(field: string | null, term: string, distance: number): string[] {
    this.#db.exec("CREATE VIRTUAL TABLE IF NOT EXISTS vocab USING fts5vocab(fts, 'col')");
    const column = field === null ? undefined : this.#columns.get(field);
    if (field !== null && column === undefined) return [];
    const rows = this.#db.prepare(
      `SELECT DISTINCT term FROM vocab WHERE length(term) BETWEEN ? AND ?${
        column === undefined ? "" : " AND col = ?"
      }`,
    ).all(
      Math.max(1, term.length - distance - 1),
      term.length + distance + 1,
      ...(column === undefined ? [] : [`c${column}`]),
    ) as Array<{ term: string }>;
    return expandFuzzy(term, distance, rows.map((row) => row.term), MAX_FUZZY_EXPANSIONS);
  }

  /** The scoring leaves of a plan (not under a `not`), with the product of their boosts. */
  #scoringLeaves(plan: Plan, weight: number): Array<{ match: string; weight: number }> {
    switch (plan.kind) {
      case "term":
      case "phrase":
      case "prefix":
      case "fuzzy": {
        const match = this.#matchOf(plan);
        return match === undefined || weight === 0 ? [] : [{ match, weight }];
      }
      case "and":
      case "or":
        return plan.children.flatMap((child) => this.#scoringLeaves(child, weight));
      case "boost":
        return this.#scoringLeaves(plan.child, weight * plan.factor);
      case "rank":
        return [plan.match, ...plan.optional].flatMap((child) =>
          this.#scoringLeaves(child, weight)
        );
      default:
        return [];
    }
  }

  /**
   * The SQL condition of a plan over `docs d`. A value filter (`eq`, `range`) is a list of
   * matching rows (`d.rid IN (…)`) on its own, but a probe of the row at hand (`EXISTS`) when
   * `probe` is set: inside an AND that also matches text, the text match drives and each of
   * its rows is checked — materializing a wide range (most of a shard) for every query cost
   * ~80× more: 10.65 ms against 0.13 ms for a term AND a range over 25k documents
   * (`deno run -A bench/compare/range_filter_profile.ts`).
   */
  #compile(plan: Plan, params: Array<string | number>, probe = false): string {
    const rows = (condition: string) =>
      probe
        ? `EXISTS (SELECT 1 FROM vals v WHERE v.rid = d.rid AND ${condition})`
        : `d.rid IN (SELECT rid FROM vals WHERE ${condition})`;
    switch (plan.kind) {
      case "all":
        return "1";
      case "none":
        return "0";
      case "term":
      case "phrase":
      case "prefix":
      case "fuzzy": {
        const match = this.#matchOf(plan);
        if (match === undefined) return "0";
        params.push(match);
        return "d.rid IN (SELECT rowid FROM fts WHERE fts MATCH ?)";
      }
      case "ids":
        if (plan.ids.length === 0) return "0";
        params.push(...plan.ids);
        return `d.id IN (${plan.ids.map(() => "?").join(", ")})`;
      case "eq": {
        const [column, value] = this.#valueColumn(plan.value);
        params.push(plan.field, value);
        return rows(`field = ? AND ${column} = ?`);
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
        return rows(`field = ? AND ${conditions.join(" AND ")}`);
      }
      case "and": {
        if (plan.children.length === 0) return "1";
        const matchesText = plan.children.some((child) => TEXT_KINDS.has(child.kind));
        return `(${
          plan.children.map((child) => this.#compile(child, params, matchesText)).join(" AND ")
        })`;
      }
      case "or":
        return plan.children.length === 0
          ? "0"
          : `(${plan.children.map((child) => this.#compile(child, params)).join(" OR ")})`;
      case "not":
        return `(NOT ${this.#compile(plan.child, params)})`;
      case "boost":
        return this.#compile(plan.child, params, probe);
      case "rank":
        return this.#compile(plan.match, params);
    }
  }

  #valueColumn(value: PlanValue): ["num" | "str", string | number] {
    if (typeof value === "string") return ["str", value];
    if (typeof value === "boolean") return ["num", value ? 1 : 0];
    return ["num", value];
  }

  facets(plan: Plan, specs: readonly FacetSpec[]): FacetCounts[] {
    const params: Array<string | number> = [];
    const where = this.#compile(plan, params);
    const matching = `SELECT d.rid FROM docs d WHERE ${where}`;
    return specs.map((spec) => {
      if (spec.kind === "values") {
        const type = this.#schema.fields[spec.field]?.type ?? "string";
        const boolean = scalarOf(type) === "boolean";
        const column = boolean ? "num" : "str";
        const rows = this.#db.prepare(
          `SELECT ${column} AS value, count(DISTINCT rid) AS n FROM vals
           WHERE field = ? AND ${column} IS NOT NULL AND rid IN (${matching})
           GROUP BY ${column} ORDER BY n DESC, ${column} LIMIT ?`,
        ).all(spec.field, ...params, Math.min(spec.size, MAX_FACET_VALUES_PER_SHARD)) as Array<
          { value: string | number; n: number }
        >;
        return {
          kind: "values",
          buckets: rows.map((row) => ({
            value: boolean ? row.value === 1 : row.value,
            count: row.n,
          })),
        };
      }
      const buckets = spec.ranges.map((range) => {
        const conditions = ["field = ?"];
        const bounds: Array<string | number> = [spec.field];
        if (range.from !== undefined) {
          conditions.push("num >= ?");
          bounds.push(range.from);
        }
        if (range.to !== undefined) {
          conditions.push("num < ?");
          bounds.push(range.to);
        }
        const row = this.#db.prepare(
          `SELECT count(DISTINCT rid) AS n FROM vals WHERE ${
            conditions.join(" AND ")
          } AND rid IN (${matching})`,
        ).get(...bounds, ...params) as { n: number };
        return { ...range, count: row.n };
      });
      return { kind: "ranges", buckets };
    });
  }

  count(): number {
    return this.#count;
  }

  memoryBytes(): number {
    // SQLite's page-cache budget for this connection; the index itself lives on disk.
    return this.#cacheBytes;
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
