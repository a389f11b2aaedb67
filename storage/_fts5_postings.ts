/**
 * The `fts5` engine's postings for ranking, in the same SQLite file and the same
 * transactions as the FTS5 rows (so recovery keeps them exact): FTS5's `bm25()` can neither
 * take index-wide statistics nor stop early, so scores come from these tables instead.
 *
 * - `postings(term, col, rid, tf, len)` — per term, the documents holding it (per column), how
 *   often, and the column's length in that document (primary key `(term, rid, col)`, so a
 *   term's list is one range and a candidate's posting one lookup);
 * - `term_stats(term, col, df, max_tf, min_len)` — per term and column its document
 *   frequency, and the highest frequency and shortest length among its postings (MaxScore's
 *   bounds: after deletes they may be looser than the postings, never tighter); `col = -1`
 *   counts the documents holding the term in any column;
 * - `field_stats(col, docs, tokens)` — per column, the documents with it and their tokens.
 *
 * Posting lists read for a search are kept decoded (typed arrays) in a bounded cache of
 * {@linkcode MAX_CACHED_POSTINGS} postings, least recently used out first: SQLite hands rows
 * to JavaScript at ~0.5–1 µs each, so the 26k postings of a common word cost ~15 ms a read,
 * against ~0.2 ms to walk them decoded. A write drops the lists of every term it touches
 * (before it changes them), so the cache never holds a list SQLite no longer has.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";

/** Most postings kept decoded per index (20 bytes each: 40 MB at most). */
export const MAX_CACHED_POSTINGS = 2_000_000;

/** Most terms whose `term_stats` rows are kept read. */
export const MAX_CACHED_TERM_STATS = 100_000;

/** Bytes a decoded posting takes (rid as f64; col, tf, len as u32). */
const BYTES_PER_CACHED_POSTING = 20;

/** A term's postings, decoded, in rid order. */
interface DecodedList {
  readonly rids: Float64Array;
  readonly cols: Uint32Array;
  readonly tfs: Uint32Array;
  readonly lens: Uint32Array;
}

/** About the steps of one binary search in a long list, against one step of a walk. */
const SEARCH_STEPS_PER_LOOKUP = 16;

/** The first index of `rids` (ascending) holding a value ≥ `rid`. */
export function lowerBound(rids: Float64Array, rid: number): number {
  let low = 0;
  let high = rids.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (rids[mid]! < rid) low = mid + 1;
    else high = mid;
  }
  return low;
}

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
    | "termStat"
    | "fields"
    | "list",
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
        "INSERT INTO term_stats(term, col, df, max_tf, min_len) VALUES (?, ?, ?, ?, ?) " +
          "ON CONFLICT(term, col) DO UPDATE SET df = df + excluded.df, " +
          "max_tf = max(max_tf, excluded.max_tf), min_len = min(min_len, excluded.min_len)",
      ),
      termStat: db.prepare(
        "SELECT col, df, max_tf, min_len FROM term_stats WHERE term = ? AND df > 0",
      ),
      fields: db.prepare("SELECT col, docs, tokens FROM field_stats"),
      // In key order: by rid, a document's columns together.
      list: db.prepare("SELECT rid, col, tf, len FROM postings WHERE term = ? ORDER BY rid, col"),
    };
  }

  #cache = new Map<string, DecodedList>();
  #cached = 0;
  /**
   * `term_stats` rows read for searches, per term (MaxScore's bounds and the document
   * frequencies are asked for every query term: one statement each cost ~0.5 ms a query,
   * profiled). Dropped with the term's list by every write that touches the term.
   */
  #termStats = new Map<string, Map<number, { df: number; maxTf: number; minLen: number }>>();
  /**
   * The statistics' changes of the batch being applied, written once per term and column by
   * {@linkcode flush} (one upsert per document and term cost ingest ~2.3× its speed without
   * postings; a common term of a batch of 1,000 documents is now one upsert, not 1,000).
   */
  #pendingTerms = new Map<string, Map<number, { df: number; maxTf: number; minLen: number }>>();
  #pendingFields = new Map<number, { docs: number; tokens: number }>();

  #pendTerm(term: string, col: number, df: number, maxTf: number, minLen: number): void {
    let byColumn = this.#pendingTerms.get(term);
    if (byColumn === undefined) this.#pendingTerms.set(term, byColumn = new Map());
    const pending = byColumn.get(col);
    if (pending === undefined) byColumn.set(col, { df, maxTf, minLen });
    else {
      pending.df += df;
      pending.maxTf = Math.max(pending.maxTf, maxTf);
      pending.minLen = Math.min(pending.minLen, minLen);
    }
  }

  #pendField(col: number, docs: number, tokens: number): void {
    const pending = this.#pendingFields.get(col);
    if (pending === undefined) this.#pendingFields.set(col, { docs, tokens });
    else {
      pending.docs += docs;
      pending.tokens += tokens;
    }
  }

  /**
   * Writes the statistics' changes of what was posted and unposted since the last flush (in
   * the caller's transaction, before it commits).
   */
  flush(): void {
    const { addTerm, addField } = this.#stmts;
    for (const [term, byColumn] of this.#pendingTerms) {
      for (const [col, { df, maxTf, minLen }] of byColumn) {
        // A removal alone leaves the bounds as they are (they may be looser, never tighter).
        addTerm.run(term, col, df, maxTf, minLen);
      }
    }
    for (const [col, { docs, tokens }] of this.#pendingFields) addField.run(col, docs, tokens);
    this.#pendingTerms.clear();
    this.#pendingFields.clear();
  }

  /** Forgets the changes not flushed (their transaction was rolled back). */
  discard(): void {
    for (const term of this.#pendingTerms.keys()) this.#forget(term);
    this.#pendingTerms.clear();
    this.#pendingFields.clear();
  }

  /** Bytes the decoded lists take. */
  cacheBytes(): number {
    return this.#cached * BYTES_PER_CACHED_POSTING;
  }

  #forget(term: string): void {
    this.#termStats.delete(term);
    const list = this.#cache.get(term);
    if (list === undefined) return;
    this.#cache.delete(term);
    this.#cached -= list.rids.length;
  }

  /** A term's decoded list, from the cache or SQLite (then kept, the oldest dropped). */
  #list(term: string): DecodedList {
    const hit = this.#cache.get(term);
    if (hit !== undefined) {
      this.#cache.delete(term);
      this.#cache.set(term, hit);
      return hit;
    }
    const rows = this.#stmts.list.all(term) as unknown as PostingRow[];
    const list: DecodedList = {
      rids: new Float64Array(rows.length),
      cols: new Uint32Array(rows.length),
      tfs: new Uint32Array(rows.length),
      lens: new Uint32Array(rows.length),
    };
    rows.forEach((row, i) => {
      list.rids[i] = row.rid;
      list.cols[i] = row.col;
      list.tfs[i] = row.tf;
      list.lens[i] = row.len;
    });
    if (rows.length > MAX_CACHED_POSTINGS) return list;
    for (const [old] of this.#cache) {
      if (this.#cached + rows.length <= MAX_CACHED_POSTINGS) break;
      this.#forget(old);
    }
    this.#cache.set(term, list);
    this.#cached += rows.length;
    return list;
  }

  /** Empties the tables (with the index's other tables, in the caller's transaction). */
  clear(): void {
    this.#db.exec("DELETE FROM postings; DELETE FROM term_stats; DELETE FROM field_stats;");
    this.#cache.clear();
    this.#cached = 0;
    this.#termStats.clear();
    this.#pendingTerms.clear();
    this.#pendingFields.clear();
  }

  /** Writes a document's postings: its tokens per column (the statistics at the next flush). */
  post(rid: number, tokensByColumn: ReadonlyMap<number, readonly string[]>): void {
    const { insert } = this.#stmts;
    const anywhere = new Set<string>();
    for (const [col, tokens] of tokensByColumn) {
      if (tokens.length === 0) continue;
      const counts = new Map<string, number>();
      for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
      for (const [term, tf] of counts) {
        this.#forget(term);
        insert.run(term, col, rid, tf, tokens.length);
        this.#pendTerm(term, col, 1, tf, tokens.length);
        anywhere.add(term);
      }
      this.#pendField(col, 1, tokens.length);
    }
    for (const term of anywhere) this.#pendTerm(term, ANY_COLUMN, 1, 0, 0);
  }

  /**
   * Removes a document's postings and takes it out of the statistics (at the next flush;
   * its own postings are gone at once).
   */
  unpost(rid: number): void {
    const { ofDoc, remove } = this.#stmts;
    const rows = ofDoc.all(rid) as Array<{ term: string; col: number; len: number }>;
    const lengths = new Map<number, number>();
    const anywhere = new Set<string>();
    for (const { term, col, len } of rows) {
      this.#forget(term);
      this.#pendTerm(term, col, -1, 0, Number.MAX_SAFE_INTEGER);
      lengths.set(col, len);
      anywhere.add(term);
    }
    for (const term of anywhere) this.#pendTerm(term, ANY_COLUMN, -1, 0, Number.MAX_SAFE_INTEGER);
    for (const [col, len] of lengths) this.#pendField(col, -1, -len);
    remove.run(rid);
  }

  /**
   * Visits a term's postings in some columns (all of them, or those of the documents
   * `among`), in rid order. Few candidates against a long list are found by binary search
   * (the list is in rid order) rather than by walking the list.
   */
  read(
    term: string,
    columns: readonly number[],
    visit: (rid: number, col: number, tf: number, len: number) => void,
    among?: readonly number[],
  ): void {
    const list = this.#list(term);
    // A lookup by column number (no object or Set per posting: this runs for every posting).
    const wanted = new Uint8Array(Math.max(0, ...columns) + 1);
    for (const column of columns) wanted[column] = 1;
    const { rids, cols, tfs, lens } = list;
    const at = (i: number) => {
      const col = cols[i]!;
      if (wanted[col] === 1) visit(rids[i]!, col, tfs[i]!, lens[i]!);
    };
    if (among === undefined) {
      for (let i = 0; i < rids.length; i++) at(i);
      return;
    }
    if (among.length * SEARCH_STEPS_PER_LOOKUP < rids.length) {
      for (const rid of [...among].sort((a, b) => a - b)) {
        for (let i = lowerBound(rids, rid); i < rids.length && rids[i] === rid; i++) at(i);
      }
      return;
    }
    const only = new Set(among);
    for (let i = 0; i < rids.length; i++) if (only.has(rids[i]!)) at(i);
  }

  /**
   * The documents holding any of the terms (each in its columns), without scoring: one
   * pass over each decoded list, marking rids in a bitmap.
   */
  countAny(terms: ReadonlyArray<{ term: string; columns: readonly number[] }>): number {
    const lists = terms.map(({ term, columns }) => ({ list: this.#list(term), columns }));
    // Each list is in rid order: its last rid is its highest.
    let maxRid = 0;
    for (const { list } of lists) maxRid = Math.max(maxRid, list.rids[list.rids.length - 1] ?? 0);
    const seen = new Uint8Array(maxRid + 1);
    let count = 0;
    for (const { list, columns } of lists) {
      const wanted = new Uint8Array(Math.max(0, ...columns) + 1);
      for (const column of columns) wanted[column] = 1;
      const { rids, cols } = list;
      for (let i = 0; i < rids.length; i++) {
        const rid = rids[i]!;
        if (seen[rid] === 1 || wanted[cols[i]!] !== 1) continue;
        seen[rid] = 1;
        count++;
      }
    }
    return count;
  }

  /** Per column of a term: documents, highest frequency, shortest length (`-1`: any column). */
  termStats(term: string): Map<number, { df: number; maxTf: number; minLen: number }> {
    const cached = this.#termStats.get(term);
    if (cached !== undefined) return cached;
    const rows = this.#stmts.termStat.all(term) as Array<
      { col: number; df: number; max_tf: number; min_len: number }
    >;
    const stats = new Map(rows.map((row) => [row.col, {
      df: row.df,
      maxTf: row.max_tf,
      minLen: row.min_len,
    }]));
    if (this.#termStats.size >= MAX_CACHED_TERM_STATS) {
      // The oldest entry out (a Map iterates in insertion order).
      this.#termStats.delete(this.#termStats.keys().next().value!);
    }
    this.#termStats.set(term, stats);
    return stats;
  }

  /**
   * The documents holding a term in any of `columns` (every column in use: the kept count;
   * one column: its count; another set: counted from the postings).
   */
  docFreq(term: string, columns: readonly number[], allColumns: number): number {
    const stats = this.termStats(term);
    if (columns.length === 1) return stats.get(columns[0]!)?.df ?? 0;
    if (columns.length === allColumns) return stats.get(ANY_COLUMN)?.df ?? 0;
    const docs = new Set<number>();
    this.read(term, columns, (rid) => docs.add(rid));
    return docs.size;
  }

  /** Per column: documents with it and their tokens. */
  fieldStats(): Array<{ col: number; docs: number; tokens: number }> {
    return this.#stmts.fields.all() as Array<{ col: number; docs: number; tokens: number }>;
  }
}
