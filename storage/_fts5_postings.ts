/**
 * The `fts5` engine's postings for ranking, in the same SQLite file and the same
 * transactions as the FTS5 rows (so recovery keeps them exact): FTS5's `bm25()` can neither
 * take index-wide statistics nor stop early, so scores come from these tables instead.
 *
 * - `postings(term, col, rid, tf, len)` — per term and column, the documents holding it, how
 *   often, and the column's length in that document (primary key `(term, col, rid)`, so a
 *   term's list is one range and a candidate's posting one lookup);
 * - `term_stats(term, col, df, max_tf, min_len)` — per term and column its document
 *   frequency, and the highest frequency and shortest length among its postings (MaxScore's
 *   bounds: after deletes they may be looser than the postings, never tighter); `col = -1`
 *   counts the documents holding the term in any column;
 * - `field_stats(col, docs, tokens)` — per column, the documents with it and their tokens.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";

/** `term_stats.col` of a term's document frequency over every column. */
const ANY_COLUMN = -1;

/** A posting as read: document, column, frequency, the column's length there. */
export interface PostingRow {
  readonly rid: number;
  readonly col: number;
  readonly tf: number;
  readonly len: number;
}

/** The postings tables of one index database. */
export class Fts5Postings {
  #db: DatabaseSync;
  #stmts: Record<
    | "ofDoc"
    | "remove"
    | "insert"
    | "addField"
    | "addTerm"
    | "dropTerm"
    | "termStat"
    | "fields",
    StatementSync
  >;

  constructor(db: DatabaseSync) {
    this.#db = db;
    this.#stmts = {
      ofDoc: db.prepare("SELECT term, col, len FROM postings WHERE rid = ?"),
      remove: db.prepare("DELETE FROM postings WHERE rid = ?"),
      insert: db.prepare("INSERT INTO postings(term, col, rid, tf, len) VALUES (?, ?, ?, ?, ?)"),
      addField: db.prepare(
        "INSERT INTO field_stats(col, docs, tokens) VALUES (?, ?, ?) ON CONFLICT(col) DO " +
          "UPDATE SET docs = docs + excluded.docs, tokens = tokens + excluded.tokens",
      ),
      addTerm: db.prepare(
        "INSERT INTO term_stats(term, col, df, max_tf, min_len) VALUES (?, ?, 1, ?, ?) " +
          "ON CONFLICT(term, col) DO UPDATE SET df = df + 1, " +
          "max_tf = max(max_tf, excluded.max_tf), min_len = min(min_len, excluded.min_len)",
      ),
      dropTerm: db.prepare("UPDATE term_stats SET df = df - 1 WHERE term = ? AND col = ?"),
      termStat: db.prepare(
        "SELECT col, df, max_tf, min_len FROM term_stats WHERE term = ? AND df > 0",
      ),
      fields: db.prepare("SELECT col, docs, tokens FROM field_stats"),
    };
  }

  /** Empties the tables (with the index's other tables, in the caller's transaction). */
  clear(): void {
    this.#db.exec("DELETE FROM postings; DELETE FROM term_stats; DELETE FROM field_stats;");
  }

  /** Writes a document's postings: its tokens per column. */
  post(rid: number, tokensByColumn: ReadonlyMap<number, readonly string[]>): void {
    const { insert, addField, addTerm } = this.#stmts;
    const anywhere = new Set<string>();
    for (const [col, tokens] of tokensByColumn) {
      if (tokens.length === 0) continue;
      const counts = new Map<string, number>();
      for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
      for (const [term, tf] of counts) {
        insert.run(term, col, rid, tf, tokens.length);
        addTerm.run(term, col, tf, tokens.length);
        anywhere.add(term);
      }
      addField.run(col, 1, tokens.length);
    }
    for (const term of anywhere) addTerm.run(term, ANY_COLUMN, 0, 0);
  }

  /** Removes a document's postings and takes it out of the statistics. */
  unpost(rid: number): void {
    const { ofDoc, remove, addField, dropTerm } = this.#stmts;
    const rows = ofDoc.all(rid) as Array<{ term: string; col: number; len: number }>;
    const lengths = new Map<number, number>();
    const anywhere = new Set<string>();
    for (const { term, col, len } of rows) {
      dropTerm.run(term, col);
      lengths.set(col, len);
      anywhere.add(term);
    }
    for (const term of anywhere) dropTerm.run(term, ANY_COLUMN);
    for (const [col, len] of lengths) addField.run(col, -1, -len);
    remove.run(rid);
  }

  /** A term's postings in some columns (all of them, or those of the documents `among`). */
  read(term: string, columns: readonly number[], among?: readonly number[]): PostingRow[] {
    const sql = `SELECT rid, col, tf, len FROM postings WHERE term = ? AND col IN (${
      columns.map(() => "?").join(", ")
    })${among === undefined ? "" : " AND rid IN (SELECT value FROM json_each(?))"}`;
    const params: Array<string | number> = [term, ...columns];
    if (among !== undefined) params.push(JSON.stringify(among));
    return this.#db.prepare(sql).all(...params) as unknown as PostingRow[];
  }

  /** Per column of a term: documents, highest frequency, shortest length (`-1`: any column). */
  termStats(term: string): Map<number, { df: number; maxTf: number; minLen: number }> {
    const rows = this.#stmts.termStat.all(term) as Array<
      { col: number; df: number; max_tf: number; min_len: number }
    >;
    return new Map(rows.map((row) => [row.col, {
      df: row.df,
      maxTf: row.max_tf,
      minLen: row.min_len,
    }]));
  }

  /**
   * The documents holding a term in any of `columns` (every column in use: the kept count;
   * one column: its count; another set: counted from the postings).
   */
  docFreq(term: string, columns: readonly number[], allColumns: number): number {
    const stats = this.termStats(term);
    if (columns.length === 1) return stats.get(columns[0]!)?.df ?? 0;
    if (columns.length === allColumns) return stats.get(ANY_COLUMN)?.df ?? 0;
    return new Set(this.read(term, columns).map((row) => row.rid)).size;
  }

  /** Per column: documents with it and their tokens. */
  fieldStats(): Array<{ col: number; docs: number; tokens: number }> {
    return this.#stmts.fields.all() as Array<{ col: number; docs: number; tokens: number }>;
  }
}
