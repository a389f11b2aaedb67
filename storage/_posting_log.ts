/**
 * The `fts5` engine's pending postings changes and their log: per term a {@linkcode TermDelta},
 * and `post_log(seq, data)` holding them — one row per apply, written in the apply's own
 * transaction, read back at open and after a rolled-back transaction. The folding of them into
 * the blocks is `_fts5_postings.ts`'s; this keeps what is pending exactly as the log says.
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
  #stmts: Record<"log" | "logged" | "logEnd" | "clearLog", StatementSync>;
  /** A term's base as its open block tells it (read once, when a term first has changes). */
  #baseOf: (term: string) => TermBase;
  /** Per term, its changes not yet folded into its blocks. */
  #deltas = new Map<string, TermDelta>();
  /** Postings pending in {@linkcode #deltas}. */
  #pending = 0;
  /** Rows in `post_log`, and the last one's `seq` (0: none; AUTOINCREMENT, never reused). */
  #rows = 0;
  #lastSeq = 0;
  /** This apply's changes, for its `post_log` row. */
  #changes: LoggedChange[] = [];

  constructor(db: DatabaseSync, baseOf: (term: string) => TermBase) {
    this.#baseOf = baseOf;
    this.#stmts = {
      log: db.prepare("INSERT INTO post_log(data) VALUES (?)"),
      logged: db.prepare("SELECT seq, data FROM post_log ORDER BY seq"),
      logEnd: db.prepare("SELECT count(*) AS rows, coalesce(max(seq), 0) AS last FROM post_log"),
      clearLog: db.prepare("DELETE FROM post_log"),
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

  /** Reads `post_log` back into memory (at open, and after a transaction rolled back). */
  replay(): void {
    this.#reset();
    const rows = this.#stmts.logged.all() as Array<{ seq: number; data: string }>;
    this.#rows = rows.length;
    this.#lastSeq = rows.at(-1)?.seq ?? 0;
    for (const row of rows) {
      for (const change of JSON.parse(row.data) as LoggedChange[]) this.#redo(change);
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
    if (this.#changes.length > 0) {
      const { lastInsertRowid } = this.#stmts.log.run(JSON.stringify(this.#changes));
      this.#rows++;
      this.#lastSeq = Number(lastInsertRowid);
    }
    this.#changes = [];
  }

  /** Forgets this apply's changes not yet written (its transaction failed). */
  discardChanges(): void {
    this.#changes = [];
  }

  /**
   * Throws unless the file's log is the one this handle holds: a handle another one went on
   * from (it opened the file and logged or folded) must not fold its stale changes.
   */
  checkCurrent(): void {
    const end = this.#stmts.logEnd.get() as { rows: number; last: number };
    if (end.rows !== this.#rows || end.last !== this.#lastSeq) {
      throw new Error("the index file's postings log changed under this handle");
    }
  }

  /** Empties the log and what is pending (all of it folded, or the index cleared). */
  clear(): void {
    this.#stmts.clearLog.run();
    this.#reset();
  }

  #reset(): void {
    this.#deltas.clear();
    this.#pending = 0;
    this.#rows = 0;
    this.#lastSeq = 0;
    this.#changes = [];
  }
}
