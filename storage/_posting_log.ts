/**
 * The `fts5` engine's pending postings changes and their log: per term a {@linkcode TermDelta},
 * and `post_log(seq, data)` holding them — one row per apply, written in the apply's own
 * transaction, read back at open and after a rolled-back transaction. The folding of them into
 * the blocks is `_fts5_postings.ts`'s; this keeps what is pending exactly as the log says.
 *
 * Terms are folded a slice at a time (a fold of everything pending held one write ~100 ms), so
 * the log outlives a term's fold: a `post_folded(seq, terms)` row records that the changes of
 * those terms in rows up to `seq` are in their blocks, and the read-back skips them (one row per
 * fold, not per term: a row per term made a fold a third slower). A fold pass starts at the
 * log's last row and folds every term pending then; when it has, the rows up to that one (and the
 * records they made necessary) are deleted. Every fold of pending changes moves the log's end
 * (by the apply's own row, or else an empty one), so a handle another one folded under sees it
 * move ({@linkcode PendingPostings.checkCurrent}).
 *
 * @module
 */

import type { DatabaseSync, StatementSync } from "node:sqlite";
import {
  type AppendedList,
  type LoggedChange,
  statsOf,
  type TermBase,
  TermDelta,
} from "./_posting_delta.ts";

/** Pending changes of an index's postings, with their `post_log` rows. */
export class PendingPostings {
  #stmts: Record<
    | "log"
    | "logged"
    | "logEnd"
    | "clearLog"
    | "folded"
    | "putFolded"
    | "clearFolded"
    | "dropRows"
    | "dropFolded",
    StatementSync
  >;
  /**
   * A term's base as its open block tells it (read when a term first has changes since its last
   * fold).
   */
  #baseOf: (term: string) => TermBase;
  /** Per term, its changes not yet folded into its blocks. */
  #deltas = new Map<string, TermDelta>();
  /** Postings pending in {@linkcode #deltas}. */
  #pending = 0;
  /**
   * Rows in `post_log`, and the first and last one's `seq` (0: none; AUTOINCREMENT, never
   * reused).
   */
  #rows = 0;
  #firstSeq = 0;
  #lastSeq = 0;
  /** This apply's changes, for its `post_log` row. */
  #changes: LoggedChange[] = [];
  /** Whether the last {@linkcode writeRow} wrote a row (moving the log's end). */
  #logged = false;
  /** The fold pass under way: the log's last row at its start, and its terms left to fold. */
  #pass: { readonly end: number; readonly terms: string[]; next: number } | undefined;

  constructor(db: DatabaseSync, baseOf: (term: string) => TermBase) {
    this.#baseOf = baseOf;
    this.#stmts = {
      log: db.prepare("INSERT INTO post_log(data) VALUES (?)"),
      logged: db.prepare("SELECT seq, data FROM post_log ORDER BY seq"),
      // Two look-ups at the ends of the key, not a count: the rows are every seq between them.
      logEnd: db.prepare(
        "SELECT coalesce(min(seq), 0) AS first, coalesce(max(seq), 0) AS last FROM post_log",
      ),
      clearLog: db.prepare("DELETE FROM post_log"),
      folded: db.prepare("SELECT seq, terms FROM post_folded ORDER BY seq"),
      putFolded: db.prepare("INSERT INTO post_folded(seq, terms) VALUES (?, ?)"),
      clearFolded: db.prepare("DELETE FROM post_folded"),
      dropRows: db.prepare("DELETE FROM post_log WHERE seq <= ?"),
      dropFolded: db.prepare("DELETE FROM post_folded WHERE seq <= ?"),
    };
    this.replay();
  }

  /** Postings pending (appended or taken out). */
  get pending(): number {
    return this.#pending;
  }

  /** Rows in the log. */
  get rows(): number {
    return this.#rows;
  }

  /** A term's pending changes, if it has any. */
  get(term: string): TermDelta | undefined {
    return this.#deltas.get(term);
  }

  /** The terms with pending changes. */
  terms(): IterableIterator<string> {
    return this.#deltas.keys();
  }

  /** Rids a term's new postings must be above. */
  lastRid(term: string): number {
    return this.#delta(term).lastRid();
  }

  #delta(term: string): TermDelta {
    let delta = this.#deltas.get(term);
    if (delta === undefined) this.#deltas.set(term, delta = new TermDelta(this.#baseOf(term)));
    return delta;
  }

  /**
   * Reads `post_log` back into memory (at open, and after a transaction rolled back), less each
   * term's changes already folded into its blocks.
   */
  replay(): void {
    this.#reset();
    // Per term, the last row its folds cover (records in seq order: the last one wins).
    const folded = new Map<string, number>();
    for (
      const { seq, terms } of this.#stmts.folded.all() as Array<{ seq: number; terms: string }>
    ) {
      for (const term of JSON.parse(terms) as string[]) folded.set(term, seq);
    }
    const rows = this.#stmts.logged.all() as Array<{ seq: number; data: string }>;
    this.#rows = rows.length;
    this.#firstSeq = rows[0]?.seq ?? 0;
    this.#lastSeq = rows.at(-1)?.seq ?? 0;
    for (const row of rows) {
      for (const change of JSON.parse(row.data) as LoggedChange[]) {
        if (row.seq > (folded.get(change[1]) ?? 0)) this.#redo(change);
      }
    }
  }

  #redo(change: LoggedChange): void {
    const delta = this.#delta(change[1]);
    const before = delta.size();
    if (change[0] === "a") {
      const [, , rids, cols, tfs, lens] = change;
      delta.append({ rids, cols, tfs, lens, stats: statsOf({ rids, cols, tfs, lens }) });
    } else delta.remove(change[2], change[3]);
    this.#pending += delta.size() - before;
  }

  /** Appends a term's postings (above {@linkcode lastRid}), for this apply's row. */
  append(term: string, list: AppendedList): void {
    this.#delta(term).append(list);
    this.#pending += list.rids.length;
    this.#changes.push(["a", term, list.rids, list.cols, list.tfs, list.lens]);
  }

  /** Takes a document's postings out of a term, for this apply's row. */
  remove(term: string, rid: number, columns: readonly number[]): void {
    const change = ["r", term, rid, columns] as const;
    this.#redo(change);
    this.#changes.push(change);
  }

  /** Writes this apply's changes as one `post_log` row (inside the apply's transaction). */
  writeRow(): void {
    this.#logged = this.#changes.length > 0;
    if (this.#logged) this.#insertRow(JSON.stringify(this.#changes));
    this.#changes = [];
  }

  #insertRow(data: string): void {
    const { lastInsertRowid } = this.#stmts.log.run(data);
    this.#rows++;
    this.#lastSeq = Number(lastInsertRowid);
    if (this.#rows === 1) this.#firstSeq = this.#lastSeq;
  }

  /** Whether a fold pass is under way. */
  get passing(): boolean {
    return this.#pass !== undefined;
  }

  /**
   * The next `count` terms of the fold pass, starting one (every term pending now) if none is
   * under way; none once it has handed out all its terms.
   */
  nextSlice(count: number): string[] {
    this.#pass ??= { end: this.#lastSeq, terms: [...this.#deltas.keys()].sort(), next: 0 };
    const pass = this.#pass;
    const slice = pass.terms.slice(pass.next, pass.next + count);
    pass.next += slice.length;
    return slice;
  }

  /**
   * Marks terms folded into their blocks (inside the fold's transaction, after their blocks
   * were written): their changes are no longer pending, and while the log holds rows the
   * read-back is told to skip them. Ends the pass once it has handed out all its terms.
   */
  folded(terms: Iterable<string>): void {
    const had = [...terms].filter((term) => this.#deltas.has(term));
    if (had.length > 0 && this.#rows > 0) {
      // The log's end moves with every fold of pending changes (see checkCurrent): by the
      // apply's own row, or else by an empty one.
      if (!this.#logged) this.#insertRow("[]");
      this.#stmts.putFolded.run(this.#lastSeq, JSON.stringify(had));
    }
    this.#logged = false;
    for (const term of had) {
      this.#pending -= this.#deltas.get(term)!.size();
      this.#deltas.delete(term);
    }
    const pass = this.#pass;
    if (pass !== undefined && pass.next >= pass.terms.length) this.#endPass(pass.end);
  }

  /** Every term pending at the pass's start is folded: its rows hold nothing to read back. */
  #endPass(end: number): void {
    this.#pass = undefined;
    this.#stmts.dropRows.run(end);
    this.#stmts.dropFolded.run(end);
    const left = this.#logEnd();
    [this.#rows, this.#firstSeq] = [left.rows, left.first];
    if (this.#rows === 0) this.clear();
  }

  /** Forgets this apply's changes not yet written (its transaction failed). */
  discardChanges(): void {
    this.#changes = [];
  }

  /**
   * Throws unless the file's log is the one this handle holds: a handle another one went on
   * from (it opened the file and logged or folded) must not fold its stale changes. Rows are
   * only appended (AUTOINCREMENT: each above every seq ever used) and deleted from the front
   * (a pass's rows, or all), and an insert rolled back takes its seq back with it, so the file's
   * rows are every seq from its first to its last: the same count, first and last mean the same
   * rows (a row is never changed). Count and last alone were not enough: a handle holding rows
   * {2, 5} passed against the file's {4, 5}.
   */
  checkCurrent(): void {
    const end = this.#logEnd();
    if (end.rows !== this.#rows || end.first !== this.#firstSeq || end.last !== this.#lastSeq) {
      throw new Error("the index file's postings log changed under this handle");
    }
  }

  /** The file's log: its first and last seq, and its rows (every seq between: see above). */
  #logEnd(): { rows: number; first: number; last: number } {
    const { first, last } = this.#stmts.logEnd.get() as { first: number; last: number };
    return { rows: first === 0 ? 0 : last - first + 1, first, last };
  }

  /** Empties the log and what is pending (all of it folded, or the index cleared). */
  clear(): void {
    this.#stmts.clearLog.run();
    this.#stmts.clearFolded.run();
    this.#reset();
  }

  #reset(): void {
    this.#deltas.clear();
    this.#pending = 0;
    this.#rows = 0;
    this.#firstSeq = 0;
    this.#lastSeq = 0;
    this.#changes = [];
    this.#logged = false;
    this.#pass = undefined;
  }
}
