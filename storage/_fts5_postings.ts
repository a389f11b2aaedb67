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

/** A term's statistics in one column, summed over the documents staged. */
interface TermStat {
  df: number;
  maxTf: number;
  minLen: number;
}

/** What {@linkcode Fts5Postings.post} staged for the next flush. */
interface Staged {
  readonly postings: Array<PostingRow & { readonly term: string }>;
  /** Per term, per column. */
  readonly terms: Map<string, Map<number, TermStat>>;
  /** Per column, the documents with it and their tokens. */
  readonly fields: Map<number, { docs: number; tokens: number }>;
}

function emptyStaged(): Staged {
  return { postings: [], terms: new Map(), fields: new Map() };
}

/** Adds one document's posting of `term` in `col` to the staged statistics. */
function addTermStat(
  terms: Map<string, Map<number, TermStat>>,
  term: string,
  col: number,
  tf: number,
  len: number,
): void {
  let byCol = terms.get(term);
  if (byCol === undefined) terms.set(term, byCol = new Map());
  const stat = byCol.get(col);
  if (stat === undefined) byCol.set(col, { df: 1, maxTf: tf, minLen: len });
  else {
    stat.df++;
    stat.maxTf = Math.max(stat.maxTf, tf);
    stat.minLen = Math.min(stat.minLen, len);
  }
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
      dropTerm: db.prepare("UPDATE term_stats SET df = df - 1 WHERE term = ? AND col = ?"),
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
  #staged: Staged = emptyStaged();
  /**
   * `term_stats` rows read for searches, per term (MaxScore's bounds and the document
   * frequencies are asked for every query term: one statement each cost ~0.5 ms a query,
   * profiled). Dropped with the term's list by every write that touches the term.
   */
  #termStats = new Map<string, Map<number, { df: number; maxTf: number; minLen: number }>>();

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
    this.discard();
    this.#termStats.clear();
  }

  /**
   * A document's postings: its tokens per column. They are staged, not written: the
   * caller's transaction writes every staged document at once ({@linkcode flush}), each
   * term's statistics summed over the documents (one upsert per term and column instead of
   * one per document) and the postings in term order (neighbours in the primary key).
   */
  post(rid: number, tokensByColumn: ReadonlyMap<number, readonly string[]>): void {
    const staged = this.#staged;
    const anywhere = new Set<string>();
    for (const [col, tokens] of tokensByColumn) {
      if (tokens.length === 0) continue;
      const counts = new Map<string, number>();
      for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
      for (const [term, tf] of counts) {
        this.#forget(term);
        staged.postings.push({ term, col, rid, tf, len: tokens.length });
        addTermStat(staged.terms, term, col, tf, tokens.length);
        anywhere.add(term);
      }
      const field = staged.fields.get(col);
      if (field === undefined) staged.fields.set(col, { docs: 1, tokens: tokens.length });
      else (field.docs++, field.tokens += tokens.length);
    }
    for (const term of anywhere) addTermStat(staged.terms, term, ANY_COLUMN, 0, 0);
  }

  /** Writes the staged postings and statistics (inside the caller's transaction). */
  flush(): void {
    const { postings, terms, fields } = this.#staged;
    this.discard();
    const { insert, addTerm, addField } = this.#stmts;
    postings.sort((a, b) => (a.term < b.term ? -1 : a.term > b.term ? 1 : a.rid - b.rid));
    for (const { term, col, rid, tf, len } of postings) insert.run(term, col, rid, tf, len);
    for (const [term, byCol] of [...terms].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
      // Forgotten again here, not only when staged: a search between the two (if an apply
      // ever yields) would have cached the term's list and statistics from before this write.
      this.#forget(term);
      for (const [col, stat] of byCol) addTerm.run(term, col, stat.df, stat.maxTf, stat.minLen);
    }
    for (const [col, field] of fields) addField.run(col, field.docs, field.tokens);
  }

  /** Drops what is staged (the caller's transaction failed). */
  discard(): void {
    this.#staged = emptyStaged();
  }

  /** Removes a document's postings and takes it out of the statistics. */
  unpost(rid: number): void {
    this.flush(); // a document staged in this transaction is in the tables first
    const { ofDoc, remove, addField, dropTerm } = this.#stmts;
    const rows = ofDoc.all(rid) as Array<{ term: string; col: number; len: number }>;
    const lengths = new Map<number, number>();
    const anywhere = new Set<string>();
    for (const { term, col, len } of rows) {
      this.#forget(term);
      dropTerm.run(term, col);
      lengths.set(col, len);
      anywhere.add(term);
    }
    for (const term of anywhere) dropTerm.run(term, ANY_COLUMN);
    for (const [col, len] of lengths) addField.run(col, -1, -len);
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
