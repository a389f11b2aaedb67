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
 * The engine's rids only grow, so new postings always go at the end of a list. A delete
 * rewrites the one block of each of its terms that holds it; closed blocks a delete leaves
 * small are not merged with their neighbours.
 *
 * Small applies do not write the blocks: their changes go to `post_log(seq, data)`, one row per
 * apply, and are kept in memory (`_posting_delta.ts`) until {@linkcode FOLD_AT_POSTINGS} are
 * pending or {@linkcode FOLD_AT_APPLIES} rows are logged; then (and at close) they are folded
 * into the blocks and the log is emptied, in one transaction. A read sees blocks and log alike.
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
  addTermStat,
  ANY_COLUMN,
  type AppendedList,
  type LoggedChange,
  statsOf,
  TermDelta,
} from "./_posting_delta.ts";
import {
  BlockEncoder,
  decodeBlock,
  decodeStats,
  type PostingArrays,
  postingArrays,
  POSTINGS_PER_BLOCK,
  type TermStat,
} from "./_posting_blocks.ts";

/** Most postings kept decoded per index (20 bytes each: 40 MB at most). */
export const MAX_CACHED_POSTINGS = 2_000_000;

/** Most terms whose statistics are kept read. */
export const MAX_CACHED_TERM_STATS = 100_000;

/** Bytes a decoded posting takes (rid as f64; col, tf, len as u32). */
const BYTES_PER_CACHED_POSTING = 20;

/**
 * Pending postings (appended or taken out) that make an apply fold them into the blocks (~1 MB
 * of memory per index; a fold of this many took ~90 ms in a small write, one of 100,000 ~200).
 */
export const FOLD_AT_POSTINGS = 25_000;

/**
 * Postings staged by one apply that send it straight to the blocks (folding what is pending with
 * it) instead of the log: `bench/profile/sql_time.ts` on corpus documents gave the log +25 % at
 * batches of 30 documents (~2,000 postings), +16 % at 60, nothing at 125 (~8,700) but a slower
 * worst write.
 */
export const DIRECT_AT_POSTINGS = 8_000;

/** Logged applies that make the next apply fold them (bounds the log read at open). */
export const FOLD_AT_APPLIES = 2_000;

/** Bytes a pending posting takes in memory, about (four numbers in arrays). */
const BYTES_PER_PENDING_POSTING = 40;

/** `post_blocks.first_rid` of a term's open block (above every rid). */
export const OPEN_BLOCK = Number.MAX_SAFE_INTEGER;

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

/** A posting as read: document, column, frequency, the column's length there. */
export interface PostingRow {
  readonly rid: number;
  readonly col: number;
  readonly tf: number;
  readonly len: number;
}

/** A term's postings staged by one apply, in the order posted (rid order). */
interface StagedList {
  readonly rids: number[];
  readonly cols: number[];
  readonly tfs: number[];
  readonly lens: number[];
  /** Per column, summed over the staged documents (`-1`: any column). */
  readonly stats: Map<number, TermStat>;
  /** The last document staged (a document counts once in column `-1`). */
  lastRid: number;
}

/** What {@linkcode Fts5Postings.post} staged for the next flush. */
interface Staged {
  /** Per term, its new postings and statistics. */
  readonly postings: Map<string, StagedList>;
  /** Per column, the documents with it and their tokens. */
  readonly fields: Map<number, { docs: number; tokens: number }>;
  /** Per document, its `doc_terms` row. */
  readonly docs: Array<[number, string]>;
  /** The rids of `docs`. */
  readonly rids: Set<number>;
}

function emptyStaged(): Staged {
  return { postings: new Map(), fields: new Map(), docs: [], rids: new Set() };
}

/** A `post_blocks` row as read. */
interface BlockRow {
  readonly first_rid: number;
  readonly last_rid: number;
  readonly n: number;
  readonly data: Uint8Array;
}

/** A term's open block as read (with its statistics). */
interface OpenRow extends BlockRow {
  readonly stats: Uint8Array;
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

/** Blocks (in rid order) decoded into one list. The open block's rids count from 0. */
function decodeRows(rows: readonly BlockRow[]): DecodedList {
  let count = 0;
  for (const row of rows) count += row.n;
  const list = postingArrays(count);
  let at = 0;
  for (const row of rows) {
    at = decodeBlock(row.data, row.first_rid === OPEN_BLOCK ? 0 : row.first_rid, list, at);
  }
  return list;
}

/** Copies posting `i` of `from` to index `k` of `to`. */
function copyPosting(from: PostingArrays, i: number, to: DecodedList, k: number): void {
  to.rids[k] = from.rids[i]!;
  to.cols[k] = from.cols[i]!;
  to.tfs[k] = from.tfs[i]!;
  to.lens[k] = from.lens[i]!;
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
    if (fromA) copyPosting(a, i++, out, k);
    else copyPosting(b, j++, out, k);
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
    | "open"
    | "blockOf"
    | "putBlock"
    | "removeBlock"
    | "removeBlocks"
    | "addField"
    | "fields"
    | "log"
    | "logged"
    | "logEnd"
    | "clearLog",
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
      open: db.prepare(
        "SELECT first_rid, last_rid, n, data, stats FROM post_blocks " +
          `WHERE term = ? AND first_rid = ${OPEN_BLOCK}`,
      ),
      // Closed blocks only: the open block's key is above every rid.
      blockOf: db.prepare(`${blocks} AND first_rid <= ? ORDER BY first_rid DESC LIMIT 1`),
      putBlock: db.prepare(
        "INSERT OR REPLACE INTO post_blocks(term, first_rid, last_rid, n, data, stats) " +
          "VALUES (?, ?, ?, ?, ?, ?)",
      ),
      removeBlock: db.prepare("DELETE FROM post_blocks WHERE term = ? AND first_rid = ?"),
      removeBlocks: db.prepare("DELETE FROM post_blocks WHERE term = ?"),
      addField: db.prepare(
        "INSERT INTO field_stats(col, docs, tokens) VALUES (?, ?, ?) ON CONFLICT(col) DO " +
          "UPDATE SET docs = docs + excluded.docs, tokens = tokens + excluded.tokens",
      ),
      fields: db.prepare("SELECT col, docs, tokens FROM field_stats"),
      log: db.prepare("INSERT INTO post_log(data) VALUES (?)"),
      logged: db.prepare("SELECT seq, data FROM post_log ORDER BY seq"),
      logEnd: db.prepare("SELECT count(*) AS rows, coalesce(max(seq), 0) AS last FROM post_log"),
      clearLog: db.prepare("DELETE FROM post_log"),
    };
    this.#replay();
  }

  /** Per term, its changes not yet folded into its blocks. */
  #deltas = new Map<string, TermDelta>();
  /** Postings pending in {@linkcode #deltas}. */
  #pending = 0;
  /** Rows in `post_log`, and the last one's `seq` (0: none). */
  #logRows = 0;
  #lastLogSeq = 0;
  /** This apply's changes, for its `post_log` row. */
  #changes: LoggedChange[] = [];

  /** The term's pending changes, started from its open block's statistics if none. */
  #delta(term: string): TermDelta {
    let delta = this.#deltas.get(term);
    if (delta === undefined) {
      const open = this.#stmts.open.get(term) as OpenRow | undefined;
      delta = new TermDelta({ stats: decodeStats(open?.stats), lastRid: open?.last_rid ?? 0 });
      this.#deltas.set(term, delta);
    }
    return delta;
  }

  /** Reads `post_log` back into memory (at open, and after a transaction rolled back). */
  #replay(): void {
    this.#deltas.clear();
    this.#pending = 0;
    this.#changes = [];
    const rows = this.#stmts.logged.all() as Array<{ seq: number; data: string }>;
    this.#logRows = rows.length;
    this.#lastLogSeq = rows.at(-1)?.seq ?? 0;
    for (const row of rows) {
      for (const change of JSON.parse(row.data) as LoggedChange[]) this.#redo(change);
    }
  }

  /** Applies one logged change to the pending ones. */
  #redo(change: LoggedChange): void {
    const delta = this.#delta(change[1]);
    const before = delta.size();
    if (change[0] === "a") {
      const [, , rids, cols, tfs, lens] = change;
      delta.append({ rids, cols, tfs, lens, stats: statsOf({ rids, cols, tfs, lens }) });
    } else delta.remove(change[2], change[3]);
    this.#pending += delta.size() - before;
  }

  /**
   * After a transaction rolled back: what is pending is what the log holds again, and no
   * decoded list or statistics read meanwhile is kept.
   */
  reload(): void {
    this.#staged = emptyStaged();
    this.#cache.clear();
    this.#cached = 0;
    this.#termStats.clear();
    this.#replay();
  }

  #cache = new Map<string, DecodedList>();
  #cached = 0;
  readonly #encoder = new BlockEncoder();
  #staged: Staged = emptyStaged();
  /**
   * Statistics read for searches, per term (MaxScore's bounds and the document frequencies
   * are asked for every query term: one statement each cost ~0.5 ms a query, profiled).
   * Dropped with the term's list by every write that touches the term.
   */
  #termStats = new Map<string, Map<number, TermStat>>();

  /** Bytes the decoded lists take. */
  cacheBytes(): number {
    return this.#cached * BYTES_PER_CACHED_POSTING + this.#pending * BYTES_PER_PENDING_POSTING;
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
    const delta = this.#deltas.get(term);
    const list = delta === undefined ? base : withDelta(base, delta);
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
      "DELETE FROM post_blocks; DELETE FROM doc_terms; DELETE FROM field_stats; " +
        "DELETE FROM post_log;",
    );
    this.#cache.clear();
    this.#cached = 0;
    this.discard();
    this.#termStats.clear();
    this.#deltas.clear();
    this.#pending = 0;
    this.#logRows = 0;
    this.#lastLogSeq = 0;
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
    const staged = this.#staged;
    const ofDoc: Array<Array<number | string>> = [];
    for (const col of [...tokensByColumn.keys()].sort((a, b) => a - b)) {
      const tokens = tokensByColumn.get(col)!;
      const len = tokens.length;
      if (len === 0) continue;
      const counts = new Map<string, number>();
      for (const token of tokens) counts.set(token, (counts.get(token) ?? 0) + 1);
      for (const [term, tf] of counts) {
        let list = staged.postings.get(term);
        if (list === undefined) {
          list = { rids: [], cols: [], tfs: [], lens: [], stats: new Map(), lastRid: -1 };
          staged.postings.set(term, list);
        }
        list.rids.push(rid);
        list.cols.push(col);
        list.tfs.push(tf);
        list.lens.push(len);
        addTermStat(list.stats, col, 1, tf, len);
        if (list.lastRid !== rid) addTermStat(list.stats, ANY_COLUMN, 1, 0, 0);
        list.lastRid = rid;
      }
      ofDoc.push([col, len, ...counts.keys()]);
      const field = staged.fields.get(col);
      if (field === undefined) staged.fields.set(col, { docs: 1, tokens: len });
      else (field.docs++, field.tokens += len);
    }
    if (ofDoc.length > 0) {
      staged.docs.push([rid, JSON.stringify(ofDoc)]);
      staged.rids.add(rid);
    }
  }

  /**
   * Ends an apply's postings (inside the caller's transaction): what it staged becomes
   * pending, and its changes are logged as one `post_log` row — or, once enough are pending,
   * everything pending is folded into the blocks instead.
   */
  flush(): void {
    let staged = 0;
    for (const list of this.#staged.postings.values()) staged += list.rids.length;
    // A large apply (a bulk) goes straight to the blocks with what is pending: logging it
    // would only write its postings twice.
    if (
      staged >= DIRECT_AT_POSTINGS || this.#pending + staged >= FOLD_AT_POSTINGS ||
      this.#logRows >= FOLD_AT_APPLIES
    ) {
      this.fold();
      return;
    }
    this.#stage();
    if (this.#changes.length > 0) {
      const { lastInsertRowid } = this.#stmts.log.run(JSON.stringify(this.#changes));
      this.#logRows++;
      this.#lastLogSeq = Number(lastInsertRowid);
    }
    this.#changes = [];
  }

  /**
   * Moves the staged postings to the pending ones (each term's checked first: its new rids
   * above its last) and writes the staged documents' `doc_terms` and field statistics.
   */
  #stage(): void {
    const { postings, fields, docs } = this.#staged;
    const terms = [...postings.keys()].sort();
    for (const term of terms) {
      const first = postings.get(term)!.rids[0]!;
      const last = this.#delta(term).lastRid();
      // The engine's rids only grow; a list out of rid order would be read wrong, so refuse.
      if (first <= last) {
        throw new RangeError(`postings of "${term}" for rid ${first} after rid ${last}`);
      }
    }
    this.#staged = emptyStaged();
    for (const term of terms) {
      this.#forget(term);
      const list = postings.get(term)!;
      const delta = this.#delta(term);
      delta.append(list);
      this.#pending += list.rids.length;
      this.#changes.push(["a", term, list.rids, list.cols, list.tfs, list.lens]);
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
   * transaction): per term, its taken-out postings first, then its appended ones.
   */
  fold(): void {
    // A handle whose log is not the file's (another opened the file and went on) must not
    // write its pending changes into the blocks. `seq` is AUTOINCREMENT: never reused, even
    // after a fold empties the log.
    const end = this.#stmts.logEnd.get() as { rows: number; last: number };
    if (end.rows !== this.#logRows || end.last !== this.#lastLogSeq) {
      throw new Error("the index file's postings log changed under this handle");
    }
    const { postings, fields, docs } = this.#staged;
    this.#staged = emptyStaged();
    this.#writeDocs(docs, fields);
    for (const term of [...new Set([...this.#deltas.keys(), ...postings.keys()])].sort()) {
      this.#forget(term);
      const delta = this.#deltas.get(term);
      for (const [rid, columns] of delta?.removed ?? []) this.#removeFrom(term, rid, columns);
      const appended = joined(term, delta?.appended, postings.get(term));
      if (appended !== undefined) this.#append(term, appended);
    }
    this.#stmts.clearLog.run();
    this.#deltas.clear();
    this.#pending = 0;
    this.#logRows = 0;
    this.#lastLogSeq = 0;
    this.#changes = [];
  }

  /**
   * Appends a term's new postings (above its last rid) to its open block — as bytes, the
   * block not decoded, until it fills; then its postings are closed into blocks — and adds
   * their statistics to the term's.
   */
  #append(term: string, added: PostingArrays & { stats: Map<number, TermStat> }): void {
    const open = this.#stmts.open.get(term) as OpenRow | undefined;
    const stats = decodeStats(open?.stats);
    for (const [col, stat] of added.stats) {
      addTermStat(stats, col, stat.df, stat.maxTf, stat.minLen);
    }
    const n = open?.n ?? 0;
    if (open !== undefined && added.rids[0]! <= open.last_rid) {
      // The engine's rids only grow; a list out of rid order would be read wrong, so refuse.
      throw new RangeError(
        `postings of "${term}" for rid ${added.rids[0]} after rid ${open.last_rid}`,
      );
    }
    if (n + added.rids.length < POSTINGS_PER_BLOCK) {
      const encoder = this.#encoder.reset();
      const previous = n > 0 ? open!.last_rid : 0;
      const data = encoder.block(added, 0, added.rids.length, previous, open?.data);
      const lastRid = added.rids[added.rids.length - 1]!;
      const count = n + added.rids.length;
      this.#stmts.putBlock.run(term, OPEN_BLOCK, lastRid, count, data, encoder.stats(stats));
    } else {
      const all = n > 0 ? merged(decodeRows([open!]), added) : added;
      this.#store(term, all, 0, all.rids.length, stats);
    }
  }

  /**
   * Writes postings `from` to `to` (in rid order, above the term's closed blocks) as closed
   * blocks while a full one remains, the rest as the term's open block with `stats`. An open
   * block left empty keeps the last closed rid written here as its `last_rid` (the bound
   * {@linkcode Fts5Postings.post} checks new rids against).
   */
  #store(
    term: string,
    postings: PostingArrays,
    from: number,
    to: number,
    stats: ReadonlyMap<number, TermStat>,
  ): void {
    const { rids } = postings;
    let start = from;
    while (to - start >= POSTINGS_PER_BLOCK) {
      const end = blockEnd(rids, start, to, POSTINGS_PER_BLOCK);
      const data = this.#encoder.reset().block(postings, start, end);
      this.#stmts.putBlock.run(term, rids[start]!, rids[end - 1]!, end - start, data, null);
      start = end;
    }
    const encoder = this.#encoder.reset();
    const data = encoder.block(postings, start, to, 0);
    const lastRid = to > from ? rids[to - 1]! : 0;
    this.#stmts.putBlock.run(term, OPEN_BLOCK, lastRid, to - start, data, encoder.stats(stats));
  }

  /** Drops what is staged and not yet logged (the caller's transaction failed). */
  discard(): void {
    this.#staged = emptyStaged();
    this.#changes = [];
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
      const change = ["r", term, rid, columns] as const;
      this.#redo(change);
      this.#changes.push(change);
    }
    removeDocTerms.run(rid);
  }

  /** Takes a document's postings out of a term's blocks, and out of its statistics. */
  #removeFrom(term: string, rid: number, columns: readonly number[]): void {
    this.#forget(term);
    const { open: openOf, blockOf, removeBlock, removeBlocks, putBlock } = this.#stmts;
    const open = openOf.get(term) as OpenRow | undefined;
    if (open === undefined) return;
    const stats = decodeStats(open.stats);
    for (const col of [...columns, ANY_COLUMN]) {
      const stat = stats.get(col);
      if (stat !== undefined) stat.df--;
    }
    if ((stats.get(ANY_COLUMN)?.df ?? 0) <= 0) {
      removeBlocks.run(term); // no document holds it any more
      return;
    }
    let openBlock: PostingArrays = decodeRows([open]);
    if (open.n > 0 && openBlock.rids[0]! <= rid) openBlock = without(openBlock, rid);
    else {
      const block = blockOf.get(term, rid) as BlockRow | undefined;
      if (block !== undefined && block.last_rid >= rid) {
        const kept = without(decodeRows([block]), rid);
        const count = kept.rids.length;
        if (count === 0 || kept.rids[0] !== block.first_rid) removeBlock.run(term, block.first_rid);
        if (count > 0) {
          const data = this.#encoder.reset().block(kept, 0, count);
          putBlock.run(term, kept.rids[0]!, kept.rids[count - 1]!, count, data, null);
        }
      }
    }
    this.#store(term, openBlock, 0, openBlock.rids.length, stats);
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
    const delta = this.#deltas.get(term);
    const all = delta === undefined
      ? decodeStats((this.#stmts.open.get(term) as OpenRow | undefined)?.stats)
      : delta.stats();
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

/** A term's pending appended postings, then its staged ones (both in rid order, either absent). */
function joined(
  term: string,
  pending: AppendedList | undefined,
  staged: StagedList | undefined,
): AppendedList | StagedList | undefined {
  if (pending === undefined || pending.rids.length === 0) return staged;
  if (staged === undefined) return pending;
  const last = pending.rids[pending.rids.length - 1]!;
  if (staged.rids[0]! <= last) {
    throw new RangeError(`postings of "${term}" for rid ${staged.rids[0]} after rid ${last}`);
  }
  const out: AppendedList = {
    rids: [...pending.rids, ...staged.rids],
    cols: [...pending.cols, ...staged.cols],
    tfs: [...pending.tfs, ...staged.tfs],
    lens: [...pending.lens, ...staged.lens],
    stats: new Map(),
  };
  for (const stats of [pending.stats, staged.stats]) {
    for (const [col, stat] of stats) addTermStat(out.stats, col, stat.df, stat.maxTf, stat.minLen);
  }
  return out;
}

/** A term's blocks as decoded, less its taken-out postings, then its appended ones. */
function withDelta(base: PostingArrays, delta: TermDelta): DecodedList {
  const { removed, appended } = delta;
  let kept = 0;
  for (let i = 0; i < base.rids.length; i++) if (!removed.has(base.rids[i]!)) kept++;
  const out = postingArrays(kept + appended.rids.length);
  let k = 0;
  for (let i = 0; i < base.rids.length; i++) {
    if (!removed.has(base.rids[i]!)) copyPosting(base, i, out, k++);
  }
  for (let i = 0; i < appended.rids.length; i++) copyPosting(appended, i, out, k++);
  return out;
}

/** A list without the postings of `rid`. */
function without(list: PostingArrays, rid: number): DecodedList {
  let count = 0;
  for (let i = 0; i < list.rids.length; i++) if (list.rids[i] !== rid) count++;
  const kept = postingArrays(count);
  for (let i = 0, k = 0; i < list.rids.length; i++) {
    if (list.rids[i] !== rid) copyPosting(list, i, kept, k++);
  }
  return kept;
}
