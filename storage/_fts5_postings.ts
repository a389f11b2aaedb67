/**
 * The `fts5` engine's postings for ranking, in the same SQLite file and the same
 * transactions as the FTS5 rows (so recovery keeps them exact): FTS5's `bm25()` can neither
 * take index-wide statistics nor stop early, so scores come from these tables instead.
 *
 * - `post_blocks(term, first_rid, last_rid, n, data)` — per term, its postings (document,
 *   column, frequency, the column's length in that document) in blocks of at most
 *   {@linkcode POSTINGS_PER_BLOCK}, in rid order (`_posting_blocks.ts`); a term's list is one
 *   range of the primary key `(term, first_rid)`;
 * - `doc_terms(rid, data)` — per document, its columns' lengths and distinct terms (JSON), so
 *   a delete finds the blocks to take it out of;
 * - `term_stats(term, col, df, max_tf, min_len)` — per term and column its document
 *   frequency, and the highest frequency and shortest length among its postings (MaxScore's
 *   bounds: after deletes they may be looser than the postings, never tighter); `col = -1`
 *   counts the documents holding the term in any column;
 * - `field_stats(col, docs, tokens)` — per column, the documents with it and their tokens.
 *
 * A write appends each term's new postings to the term's last block (filling it, then new
 * blocks): the engine's rids only grow, so new postings always go at the end. A delete
 * rewrites the one block of each of its terms that holds it; blocks a delete leaves small
 * are not merged with their neighbours.
 *
 * Posting lists read for a search are kept decoded (typed arrays) in a bounded cache of
 * {@linkcode MAX_CACHED_POSTINGS} postings, least recently used out first. A write drops the
 * lists of every term it touches (before it changes them), so the cache never holds a list
 * SQLite no longer has.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import {
  decodeBlock,
  encodeBlock,
  type PostingArrays,
  postingArrays,
  POSTINGS_PER_BLOCK,
} from "./_posting_blocks.ts";

/** Most postings kept decoded per index (20 bytes each: 40 MB at most). */
export const MAX_CACHED_POSTINGS = 2_000_000;

/** Most terms whose `term_stats` rows are kept read. */
export const MAX_CACHED_TERM_STATS = 100_000;

/** Bytes a decoded posting takes (rid as f64; col, tf, len as u32). */
const BYTES_PER_CACHED_POSTING = 20;

/** A term's postings, decoded, in rid order. */
type DecodedList = ReturnType<typeof postingArrays>;

/** A document's `doc_terms.data`: per column, its number, its length and its distinct terms. */
type DocTerms = Array<[number, number, ...string[]]>;

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
  /** Per term, its new postings. */
  readonly postings: Map<string, StagedList>;
  /** Per term, per column. */
  readonly terms: Map<string, Map<number, TermStat>>;
  /** Per column, the documents with it and their tokens. */
  readonly fields: Map<number, { docs: number; tokens: number }>;
  /** Per document, its `doc_terms` row. */
  readonly docs: Array<[number, string]>;
}

function emptyStaged(): Staged {
  return { postings: new Map(), terms: new Map(), fields: new Map(), docs: [] };
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

/**
 * Where a block that starts at `from` and takes at most about `room` postings ends (at most
 * `to`): a document's postings (one per column) stay in one block, which may then take a few
 * more than `room` — a delete rewrites only the block its rid is in.
 */
function blockEnd(
  rids: Float64Array | number[],
  from: number,
  to: number,
  room: number,
): number {
  let end = Math.min(to, from + room);
  while (end < to && rids[end] === rids[end - 1]) end++;
  return end;
}

/** Blocks (in rid order) decoded into one list. */
function decodeRows(rows: readonly BlockRow[]): DecodedList {
  let count = 0;
  for (const row of rows) count += row.n;
  const list = postingArrays(count);
  let at = 0;
  for (const row of rows) at = decodeBlock(row.data, row.first_rid, list, at);
  return list;
}

/** Two lists in (rid, column) order merged into one. */
function merged(a: PostingArrays, b: PostingArrays): DecodedList {
  const out = postingArrays(a.rids.length + b.rids.length);
  let i = 0;
  let j = 0;
  for (let k = 0; k < out.rids.length; k++) {
    const fromA = j >= b.rids.length ||
      (i < a.rids.length &&
        (a.rids[i]! < b.rids[j]! || (a.rids[i] === b.rids[j] && a.cols[i]! <= b.cols[j]!)));
    const [from, at] = fromA ? [a, i++] : [b, j++];
    out.rids[k] = from.rids[at]!;
    out.cols[k] = from.cols[at]!;
    out.tfs[k] = from.tfs[at]!;
    out.lens[k] = from.lens[at]!;
  }
  return out;
}

/** Every posting of an index database, in (term, rid, column) order (for checks and tests). */
export function allPostings(db: DatabaseSync): Array<PostingRow & { readonly term: string }> {
  const rows = db.prepare(
    "SELECT term, first_rid, last_rid, n, data FROM post_blocks ORDER BY term, first_rid",
  ).all() as unknown as Array<BlockRow & { term: string }>;
  return rows.flatMap((row) => {
    const list = decodeRows([row]);
    return Array.from(list.rids, (rid, i) => ({
      term: row.term,
      rid,
      col: list.cols[i]!,
      tf: list.tfs[i]!,
      len: list.lens[i]!,
    }));
  });
}

/** A term's postings staged by one apply, in the order posted (rid order). */
interface StagedList {
  readonly rids: number[];
  readonly cols: number[];
  readonly tfs: number[];
  readonly lens: number[];
}

/** A `post_blocks` row as read. */
interface BlockRow {
  readonly first_rid: number;
  readonly last_rid: number;
  readonly n: number;
  readonly data: Uint8Array;
}

/** The postings tables of one index database. */
export class Fts5Postings {
  #db: DatabaseSync;
  #stmts: Record<
    | "docTerms"
    | "addDocTerms"
    | "removeDocTerms"
    | "blocks"
    | "tail"
    | "blockOf"
    | "putBlock"
    | "removeBlock"
    | "removeBlocks"
    | "addField"
    | "addTerm"
    | "dropTerm"
    | "termStat"
    | "fields",
    StatementSync
  >;

  constructor(db: DatabaseSync) {
    this.#db = db;
    const blocks = "SELECT first_rid, last_rid, n, data FROM post_blocks WHERE term = ?";
    this.#stmts = {
      docTerms: db.prepare("SELECT data FROM doc_terms WHERE rid = ?"),
      addDocTerms: db.prepare("INSERT OR REPLACE INTO doc_terms(rid, data) VALUES (?, ?)"),
      removeDocTerms: db.prepare("DELETE FROM doc_terms WHERE rid = ?"),
      blocks: db.prepare(`${blocks} ORDER BY first_rid`),
      tail: db.prepare(`${blocks} ORDER BY first_rid DESC LIMIT 1`),
      blockOf: db.prepare(`${blocks} AND first_rid <= ? ORDER BY first_rid DESC LIMIT 1`),
      putBlock: db.prepare(
        "INSERT OR REPLACE INTO post_blocks(term, first_rid, last_rid, n, data) " +
          "VALUES (?, ?, ?, ?, ?)",
      ),
      removeBlock: db.prepare("DELETE FROM post_blocks WHERE term = ? AND first_rid = ?"),
      removeBlocks: db.prepare("DELETE FROM post_blocks WHERE term = ?"),
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
    const list = decodeRows(this.#stmts.blocks.all(term) as unknown as BlockRow[]);
    const length = list.rids.length;
    if (length > MAX_CACHED_POSTINGS) return list;
    for (const [old] of this.#cache) {
      if (this.#cached + length <= MAX_CACHED_POSTINGS) break;
      this.#forget(old);
    }
    this.#cache.set(term, list);
    this.#cached += length;
    return list;
  }

  /** Empties the tables (with the index's other tables, in the caller's transaction). */
  clear(): void {
    this.#db.exec(
      "DELETE FROM post_blocks; DELETE FROM doc_terms; DELETE FROM term_stats; " +
        "DELETE FROM field_stats;",
    );
    this.#cache.clear();
    this.#cached = 0;
    this.discard();
    this.#termStats.clear();
  }

  /**
   * A document's postings: its tokens per column. They are staged, not written: the
   * caller's transaction writes every staged document at once ({@linkcode flush}), each
   * term's new postings appended to its last block and its statistics summed over the
   * documents (one upsert per term and column instead of one per document). `rid` must be
   * above every rid already posted (the engine's rids only grow).
   */
  post(rid: number, tokensByColumn: ReadonlyMap<number, readonly string[]>): void {
    const staged = this.#staged;
    const anywhere = new Set<string>();
    const ofDoc: Array<Array<number | string>> = [];
    for (const col of [...tokensByColumn.keys()].sort((a, b) => a - b)) {
      const tokens = tokensByColumn.get(col)!;
      if (tokens.length === 0) continue;
      const counts = new Map<string, number>();
      for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
      for (const [term, tf] of counts) {
        this.#forget(term);
        let list = staged.postings.get(term);
        if (list === undefined) {
          staged.postings.set(term, list = { rids: [], cols: [], tfs: [], lens: [] });
        }
        list.rids.push(rid);
        list.cols.push(col);
        list.tfs.push(tf);
        list.lens.push(tokens.length);
        addTermStat(staged.terms, term, col, tf, tokens.length);
        anywhere.add(term);
      }
      ofDoc.push([col, tokens.length, ...counts.keys()]);
      const field = staged.fields.get(col);
      if (field === undefined) staged.fields.set(col, { docs: 1, tokens: tokens.length });
      else (field.docs++, field.tokens += tokens.length);
    }
    for (const term of anywhere) addTermStat(staged.terms, term, ANY_COLUMN, 0, 0);
    if (ofDoc.length > 0) staged.docs.push([rid, JSON.stringify(ofDoc)]);
  }

  /** Writes the staged postings and statistics (inside the caller's transaction). */
  flush(): void {
    const { postings, terms, fields, docs } = this.#staged;
    this.discard();
    const { addTerm, addField, addDocTerms } = this.#stmts;
    for (const term of [...postings.keys()].sort()) {
      // Forgotten again here, not only when staged: a search between the two (if an apply
      // ever yields) would have cached the term's list and statistics from before this write.
      this.#forget(term);
      this.#append(term, postings.get(term)!);
      for (const [col, stat] of terms.get(term)!) {
        addTerm.run(term, col, stat.df, stat.maxTf, stat.minLen);
      }
    }
    for (const [rid, data] of docs) addDocTerms.run(rid, data);
    for (const [col, field] of fields) addField.run(col, field.docs, field.tokens);
  }

  /**
   * Appends a term's new postings (above its last rid) to its last block, as bytes (the block
   * is not decoded), then to new blocks.
   */
  #append(term: string, added: StagedList): void {
    const tail = this.#stmts.tail.get(term) as BlockRow | undefined;
    const count = added.rids.length;
    if (tail !== undefined && added.rids[0]! <= tail.last_rid) {
      // Not above the last rid: never with the engine's growing rids, kept correct anyway.
      const all = merged(decodeRows(this.#stmts.blocks.all(term) as unknown as BlockRow[]), added);
      this.#stmts.removeBlocks.run(term);
      this.#writeBlocks(term, all, 0, all.rids.length);
      return;
    }
    let from = 0;
    if (tail !== undefined && tail.n < POSTINGS_PER_BLOCK) {
      from = blockEnd(added.rids, 0, count, POSTINGS_PER_BLOCK - tail.n);
      const bytes = encodeBlock(added, 0, from, tail.last_rid);
      const data = new Uint8Array(tail.data.length + bytes.length);
      data.set(tail.data);
      data.set(bytes, tail.data.length);
      const lastRid = added.rids[from - 1]!;
      this.#stmts.putBlock.run(term, tail.first_rid, lastRid, tail.n + from, data);
    }
    this.#writeBlocks(term, added, from, count);
  }

  /** Writes postings `from` to `to` (in rid order) as full blocks, the last one partly full. */
  #writeBlocks(term: string, postings: PostingArrays, from: number, to: number): void {
    for (let start = from, end = from; start < to; start = end) {
      end = blockEnd(postings.rids, start, to, POSTINGS_PER_BLOCK);
      this.#stmts.putBlock.run(
        term,
        postings.rids[start]!,
        postings.rids[end - 1]!,
        end - start,
        encodeBlock(postings, start, end),
      );
    }
  }

  /** Drops what is staged (the caller's transaction failed). */
  discard(): void {
    this.#staged = emptyStaged();
  }

  /** Removes a document's postings and takes it out of the statistics. */
  unpost(rid: number): void {
    this.flush(); // a document staged in this transaction is in the tables first
    const { docTerms, removeDocTerms, addField, dropTerm } = this.#stmts;
    const row = docTerms.get(rid) as { data: string } | undefined;
    if (row === undefined) return; // it had no text
    const anywhere = new Set<string>();
    for (const [col, len, ...terms] of JSON.parse(row.data) as DocTerms) {
      for (const term of terms) {
        this.#forget(term);
        dropTerm.run(term, col);
        anywhere.add(term);
      }
      addField.run(col, -1, -len);
    }
    for (const term of anywhere) {
      dropTerm.run(term, ANY_COLUMN);
      this.#removeFrom(term, rid);
    }
    removeDocTerms.run(rid);
  }

  /** Takes a document's postings out of the block of `term` that holds them. */
  #removeFrom(term: string, rid: number): void {
    const { blockOf, removeBlock } = this.#stmts;
    const block = blockOf.get(term, rid) as BlockRow | undefined;
    if (block === undefined || block.last_rid < rid) return;
    const all = decodeRows([block]);
    const kept = postingArrays(all.rids.length);
    let count = 0;
    for (let i = 0; i < all.rids.length; i++) {
      if (all.rids[i] === rid) continue;
      kept.rids[count] = all.rids[i]!;
      kept.cols[count] = all.cols[i]!;
      kept.tfs[count] = all.tfs[i]!;
      kept.lens[count] = all.lens[i]!;
      count++;
    }
    if (count === 0 || kept.rids[0] !== block.first_rid) removeBlock.run(term, block.first_rid);
    if (count > 0) this.#writeBlocks(term, kept, 0, count);
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
