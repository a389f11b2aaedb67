/**
 * The `fts5` engine's postings for ranking, in the same SQLite file and the same
 * transactions as the FTS5 rows (so recovery keeps them exact): FTS5's `bm25()` can neither
 * take index-wide statistics nor stop early, so scores come from these tables instead.
 *
 * - `post_blocks(term, first_rid, last_rid, n, data, stats)` — per term, its postings
 *   (document, column, frequency, the column's length in that document) in rid order, as
 *   blocks of bytes (`_posting_blocks.ts`): closed blocks of about
 *   {@linkcode POSTINGS_PER_BLOCK}, keyed by their first rid, then one open block (keyed
 *   {@linkcode OPEN_BLOCK}, so it sorts last) that new postings are appended to. The open
 *   block also holds the term's statistics per column: document frequency, and the highest
 *   frequency and shortest length among its postings (MaxScore's bounds: after deletes they
 *   may be looser than the postings, never tighter); column `-1` counts the documents holding
 *   the term in any column. So a bulk reads and writes one row per term it touches (and a
 *   closed block per ~128 new postings), not one row per posting and per statistic;
 * - `doc_terms(rid, data)` — per document, its columns' lengths and distinct terms (JSON), so
 *   a delete finds the terms and blocks to take it out of;
 * - `field_stats(col, docs, tokens)` — per column, the documents with it and their tokens.
 *
 * The engine's rids only grow, so new postings always go at the end of a list. A fold rewrites
 * each block holding documents deleted since the last, once; closed blocks deletes leave small
 * are not merged with their neighbours.
 *
 * Small applies do not write the blocks: their changes go to `post_log(seq, data)`, one row per
 * apply, and are kept in memory (`_posting_delta.ts`). Once enough are pending
 * ({@linkcode FoldLimits}), a fold pass starts: each apply folds the next slice of the terms
 * pending at its start into their blocks, and when all are, the rows they were logged in are
 * deleted (`_posting_log.ts`). At close everything is folded and the log emptied. A read sees
 * blocks and log alike.
 *
 * Posting lists read for a search are kept decoded (typed arrays) in a bounded cache of
 * {@linkcode MAX_CACHED_POSTINGS} postings, least recently used out first. A write drops the
 * lists of every term it touches (before it changes them), so the cache never holds a list
 * SQLite no longer has.
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import { ANY_COLUMN, joined } from "./_posting_delta.ts";
import {
  emptyStaged,
  type Staged,
  stagedList,
  stageDocument,
  stagedPostings,
} from "./_posting_staging.ts";
import { PendingPostings } from "./_posting_log.ts";
import { TERM_BLOCKS_SQL, TermBlocks } from "./_posting_block_writes.ts";
import { decodeStats, type TermStat } from "./_posting_blocks.ts";
import {
  type BlockRow,
  type DecodedList,
  decodeRows,
  kept,
  lowerBound,
  OPEN_BLOCK,
} from "./_posting_lists.ts";

export { OPEN_BLOCK } from "./_posting_lists.ts";

/** Most postings kept decoded per index (20 bytes each: 40 MB at most). */
export const MAX_CACHED_POSTINGS = 2_000_000;

/** Most terms whose statistics are kept read. */
export const MAX_CACHED_TERM_STATS = 100_000;

/** Bytes a decoded posting takes (rid as f64; col, tf, len as u32). */
const BYTES_PER_CACHED_POSTING = 20;

/** When an index's pending postings changes are folded into its blocks. */
export interface FoldLimits {
  /**
   * Pending postings (appended or taken out) that start a fold pass (~1 MB of memory per index
   * at 25,000; a fold of that many at once took ~90 ms in a small write, of 100,000 ~200).
   */
  readonly atPostings: number;
  /** Logged applies that start a fold pass (bounds the log read at open). */
  readonly atApplies: number;
  /**
   * Postings staged by one apply that send it straight to the blocks (its terms with what they
   * have pending) instead of the log: `bench/profile/sql_time.ts` on corpus documents gave the
   * log +25 % at batches of 30 documents (~2,000 postings), +16 % at 60, nothing at 125 (~8,700)
   * but a slower worst write.
   */
  readonly directAtPostings: number;
  /**
   * Terms each apply folds while a fold pass is under way. 25,000 pending postings of corpus
   * documents are ~6,000–7,000 terms, and folding them all at once held one write ~90–120 ms;
   * `bench/profile/sql_time.ts --batch 4` gave a write's p99 17.8, 18.9, 26.4 and 38.4 ms with
   * slices of 250, 500, 1,000 and 2,000 terms (21.5 before passes), the same docs/s within 5 %.
   */
  readonly sliceTerms: number;
}

/** The limits an index folds by unless told otherwise. */
export const FOLD_LIMITS: FoldLimits = {
  atPostings: 25_000,
  atApplies: 2_000,
  directAtPostings: 8_000,
  sliceTerms: 500,
};

/**
 * How many times the limits that start a pass make an apply fold everything at once: the
 * passes did not keep up (this only bounds memory and the log).
 */
const FOLD_ALL_FACTOR = 4;

/** Bytes a pending posting takes in memory, about (four numbers in arrays). */
const BYTES_PER_PENDING_POSTING = 40;

/** A document's `doc_terms.data`: per column, its number, its length and its distinct terms. */
type DocTerms = Array<[number, number, ...string[]]>;

/** About the steps of one binary search in a long list, against one step of a walk. */
const SEARCH_STEPS_PER_LOOKUP = 16;

/** A posting as read: document, column, frequency, the column's length there. */
export interface PostingRow {
  readonly rid: number;
  readonly col: number;
  readonly tf: number;
  readonly len: number;
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

/** Every term's kept statistics, in (term, column) order (for checks and tests). */
export function allTermStats(
  db: DatabaseSync,
): Array<{ term: string; col: number } & TermStat> {
  const rows = db.prepare(
    `SELECT term, stats FROM post_blocks WHERE first_rid = ${OPEN_BLOCK} ORDER BY term`,
  ).all() as Array<{ term: string; stats: Uint8Array }>;
  return rows.flatMap(({ term, stats }) =>
    [...decodeStats(stats)].sort(([a], [b]) => a - b).map(([col, stat]) => ({
      term,
      col,
      ...stat,
    }))
  );
}

/** The postings tables of one index database. */
export class Fts5Postings {
  #db: DatabaseSync;
  #stmts: Record<
    | "docTerms"
    | "addDocTerms"
    | "removeDocTerms"
    | "blocks"
    | "addField"
    | "fields",
    StatementSync
  >;

  readonly #limits: FoldLimits;

  constructor(db: DatabaseSync, limits: FoldLimits = FOLD_LIMITS) {
    this.#db = db;
    this.#limits = limits;
    this.#stmts = {
      docTerms: db.prepare("SELECT data FROM doc_terms WHERE rid = ?"),
      addDocTerms: db.prepare("INSERT OR REPLACE INTO doc_terms(rid, data) VALUES (?, ?)"),
      removeDocTerms: db.prepare("DELETE FROM doc_terms WHERE rid = ?"),
      blocks: db.prepare(`${TERM_BLOCKS_SQL} ORDER BY first_rid`),
      addField: db.prepare(
        "INSERT INTO field_stats(col, docs, tokens) VALUES (?, ?, ?) ON CONFLICT(col) DO " +
          "UPDATE SET docs = docs + excluded.docs, tokens = tokens + excluded.tokens",
      ),
      // A column whose every document was deleted keeps its row at 0: not a statistic.
      fields: db.prepare("SELECT col, docs, tokens FROM field_stats WHERE docs > 0"),
    };
    this.#blocks = new TermBlocks(db);
    this.#log = new PendingPostings(db, (term) => {
      const open = this.#blocks.open(term);
      return { stats: decodeStats(open?.stats), lastRid: open?.last_rid ?? 0 };
    });
  }

  /** The writes of a term's blocks. */
  readonly #blocks: TermBlocks;
  /** The changes of small applies, not yet folded into the blocks, and their log. */
  #log: PendingPostings;

  /**
   * After a transaction rolled back: what is pending is what the log holds again, and no
   * decoded list or statistics read meanwhile is kept.
   */
  reload(): void {
    this.#staged = emptyStaged();
    this.#cache.clear();
    this.#cached = 0;
    this.#termStats.clear();
    this.#log.replay();
  }

  #cache = new Map<string, DecodedList>();
  #cached = 0;
  #staged: Staged = emptyStaged();
  /**
   * Statistics read for searches, per term (MaxScore's bounds and the document frequencies
   * are asked for every query term: one statement each cost ~0.5 ms a query, profiled).
   * Dropped with the term's list by every write that touches the term.
   */
  #termStats = new Map<string, Map<number, TermStat>>();

  /** Bytes the decoded lists take. */
  cacheBytes(): number {
    return this.#cached * BYTES_PER_CACHED_POSTING + this.#log.pending * BYTES_PER_PENDING_POSTING;
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
    const base = decodeRows(this.#stmts.blocks.all(term) as unknown as BlockRow[]);
    const delta = this.#log.get(term);
    // Less its taken-out postings, then its appended ones (their rids are above).
    const list = delta === undefined
      ? base
      : kept(base, (rid) => !delta.removed.has(rid), delta.appended);
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
      "DELETE FROM post_blocks; DELETE FROM doc_terms; DELETE FROM field_stats;",
    );
    this.#cache.clear();
    this.#cached = 0;
    this.discard();
    this.#termStats.clear();
    this.#log.clear();
  }

  /**
   * A document's postings: its tokens per column. They are staged, not written: the
   * caller's transaction writes every staged document at once ({@linkcode flush}), each
   * term's new postings and summed statistics in one write of its open block. `rid` must be
   * above every rid already posted (the engine's rids only grow).
   */
  post(rid: number, tokensByColumn: ReadonlyMap<number, readonly string[]>): void {
    // The terms' cached lists and statistics are dropped when the staged postings are
    // written (flush, in the same synchronous apply), not here.
    stageDocument(this.#staged, rid, tokensByColumn);
  }

  /**
   * Ends an apply's postings (inside the caller's transaction): what it staged becomes
   * pending, and its changes are logged as one `post_log` row — or, for a large apply, written
   * straight to the blocks. Once enough is pending, each apply also folds the next slice of
   * terms of a fold pass into the blocks.
   */
  flush(): void {
    const staged = this.#staged;
    const limits = this.#limits;
    const log = this.#log;
    if (
      log.pending >= FOLD_ALL_FACTOR * limits.atPostings ||
      log.rows >= FOLD_ALL_FACTOR * limits.atApplies
    ) {
      this.fold(); // the passes fell behind: everything at once
      return;
    }
    // A large apply (a bulk) goes straight to the blocks, its terms with what they have
    // pending: logging it would only write its postings twice.
    const direct = stagedPostings(staged) >= limits.directAtPostings;
    if (direct) {
      this.#staged = emptyStaged();
      this.#writeDocs(staged.docs, staged.fields);
    } else this.#stage();
    log.writeRow(); // before any fold: a fold's record must cover this row's changes
    const terms = direct ? [...staged.postings.keys()] : [];
    if (log.passing || log.pending >= limits.atPostings || log.rows >= limits.atApplies) {
      terms.push(...log.nextSlice(limits.sliceTerms));
    }
    if (terms.length === 0 && !log.passing) return;
    log.checkCurrent();
    const folding = [...new Set(terms)].sort();
    for (const term of folding) this.#foldTerm(term, direct ? staged : undefined);
    log.folded(folding);
  }

  /**
   * Moves the staged postings to the pending ones (each term's checked first: its new rids
   * above its last) and writes the staged documents' `doc_terms` and field statistics.
   */
  #stage(): void {
    const staged = this.#staged;
    const { postings, fields, docs } = staged;
    const terms = [...postings.keys()].sort();
    for (const term of terms) {
      const first = postings.get(term)!.rids[0]!;
      const last = this.#log.lastRid(term);
      // The engine's rids only grow; a list out of rid order would be read wrong, so refuse.
      if (first <= last) {
        throw new RangeError(`postings of "${term}" for rid ${first} after rid ${last}`);
      }
    }
    this.#staged = emptyStaged();
    for (const term of terms) {
      this.#forget(term);
      this.#log.append(term, stagedList(staged, term)!);
    }
    this.#writeDocs(docs, fields);
  }

  /** The staged documents' `doc_terms` rows and their columns' statistics. */
  #writeDocs(docs: Staged["docs"], fields: Staged["fields"]): void {
    for (const [rid, data] of docs) this.#stmts.addDocTerms.run(rid, data);
    for (const [col, field] of fields) this.#stmts.addField.run(col, field.docs, field.tokens);
  }

  /**
   * Writes every pending change into the blocks and empties the log (inside the caller's
   * transaction).
   */
  fold(): void {
    this.#log.checkCurrent();
    const staged = this.#staged;
    this.#staged = emptyStaged();
    this.#writeDocs(staged.docs, staged.fields);
    for (const term of [...new Set([...this.#log.terms(), ...staged.postings.keys()])].sort()) {
      this.#foldTerm(term, staged);
    }
    this.#log.clear();
  }

  /** Writes a term's pending changes (and what `staged` holds of it) into its blocks. */
  #foldTerm(term: string, staged: Staged | undefined): void {
    const delta = this.#log.get(term);
    const fresh = staged === undefined ? undefined : stagedList(staged, term);
    // A term a pass hands out may have been folded since (by a bulk of its own).
    if (delta === undefined && fresh === undefined) return;
    this.#forget(term);
    // Read here, not kept from when the term's delta began: keeping every pending term's open
    // block cost ~50 MB of heap on `memory_maps.ts --bulk 50` for ~5 % fewer reads.
    let open = this.#blocks.open(term);
    // Its taken-out postings first, then its appended ones.
    if (delta !== undefined && delta.removed.size > 0) {
      open = this.#blocks.removeAll(term, delta.removed, open);
    }
    const appended = joined(term, delta?.appended, fresh);
    if (appended !== undefined) this.#blocks.append(term, appended, open);
  }

  /** Drops what is staged and not yet logged (the caller's transaction failed). */
  discard(): void {
    this.#staged = emptyStaged();
    this.#log.discardChanges();
  }

  /** Removes a document's postings and takes it out of the statistics. */
  unpost(rid: number): void {
    // A document staged in this apply is made pending first (others need not be: a removal
    // and the staged postings of other documents commute).
    if (this.#staged.rids.has(rid)) this.#stage();
    const { docTerms, removeDocTerms, addField } = this.#stmts;
    const row = docTerms.get(rid) as { data: string } | undefined;
    if (row === undefined) return; // it had no text
    const columnsOf = new Map<string, number[]>();
    for (const [col, len, ...terms] of JSON.parse(row.data) as DocTerms) {
      for (const term of terms) columnsOf.set(term, [...(columnsOf.get(term) ?? []), col]);
      addField.run(col, -1, -len);
    }
    for (const [term, columns] of columnsOf) {
      this.#forget(term);
      this.#log.remove(term, rid, columns);
    }
    removeDocTerms.run(rid);
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
    const delta = this.#log.get(term);
    const all = delta === undefined ? decodeStats(this.#blocks.open(term)?.stats) : delta.stats();
    const stats = new Map([...all].filter(([, stat]) => stat.df > 0));
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
