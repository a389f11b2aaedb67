/**
 * The ranking postings' changes not yet folded into their blocks: per term, the postings
 * appended since the last fold and the postings of older documents taken out, with what they
 * move in the term's statistics.
 *
 * Why: writing each touched term's open block at every apply made a commit of 4 corpus
 * documents write ~200 pages (815 KB) to SQLite's WAL — one page per term — and that commit
 * was a third of a small write's time (profiled: `docs/profile.md`). Instead an apply appends
 * its changes as one `post_log` row, in its own transaction, and keeps them here; once enough
 * are pending they are folded into the blocks a slice of terms at a time, and at close. This is
 * Lucene's indexing buffer with its translog, on one table: the log row commits with the apply,
 * so after a crash the tail is read back from the log, exactly as it was acknowledged.
 *
 * A term's blocks (its base) change only when the term is folded, and the read-back skips what
 * `post_folded` says is folded, so the log read against the blocks gives the same tail. A term's
 * list is its base postings less those taken out, then the appended ones (their rids are above
 * the base's: the engine's rids only grow).
 *
 * @module
 */

import type { PostingArrays, TermStat } from "./_posting_blocks.ts";
import { lowerBound } from "./_posting_lists.ts";

/** The statistics' column of a term's document frequency over every column. */
export const ANY_COLUMN = -1;

/** Adds `df` documents (one, or several summed) to a term's statistics in `col`. */
export function addTermStat(
  stats: Map<number, TermStat>,
  col: number,
  df: number,
  maxTf: number,
  minLen: number,
): void {
  const stat = stats.get(col);
  if (stat === undefined) stats.set(col, { df, maxTf, minLen });
  else {
    stat.df += df;
    if (maxTf > stat.maxTf) stat.maxTf = maxTf;
    if (minLen < stat.minLen) stat.minLen = minLen;
  }
}

/** Postings in rid order, as growable arrays, with their summed statistics. */
export interface AppendedList extends PostingArrays {
  readonly rids: number[];
  readonly cols: number[];
  readonly tfs: number[];
  readonly lens: number[];
  /** Per column, over these postings (`-1`: any column; a document counts once there). */
  readonly stats: Map<number, TermStat>;
}

/** An empty {@linkcode AppendedList}. */
function appendedList(): AppendedList {
  return { rids: [], cols: [], tfs: [], lens: [], stats: new Map() };
}

/** The base of a term as its open block tells it: statistics and the highest rid. */
export interface TermBase {
  readonly stats: ReadonlyMap<number, TermStat>;
  readonly lastRid: number;
}

/** One term's pending changes. */
export class TermDelta {
  readonly base: TermBase;
  /** Postings appended since the last fold. */
  readonly appended: AppendedList = appendedList();
  /** Base postings taken out: rid → the columns it had the term in. */
  readonly removed = new Map<number, readonly number[]>();

  constructor(base: TermBase) {
    this.base = base;
  }

  /** Rids a new posting must be above: the highest rid present. */
  lastRid(): number {
    const { rids } = this.appended;
    if (rids.length > 0) return rids[rids.length - 1]!;
    return this.removed.has(this.base.lastRid) ? 0 : this.base.lastRid;
  }

  /** Appends postings (in rid order, above {@linkcode lastRid}) and their statistics. */
  append(list: AppendedList): void {
    const to = this.appended;
    for (let i = 0; i < list.rids.length; i++) {
      to.rids.push(list.rids[i]!);
      to.cols.push(list.cols[i]!);
      to.tfs.push(list.tfs[i]!);
      to.lens.push(list.lens[i]!);
    }
    for (const [col, stat] of list.stats) {
      addTermStat(to.stats, col, stat.df, stat.maxTf, stat.minLen);
    }
  }

  /** Takes a document's postings out (appended ones here; base ones marked taken out). */
  remove(rid: number, columns: readonly number[]): void {
    const { rids, cols, tfs, lens, stats } = this.appended;
    const from = lowerBound(rids, rid);
    let to = from;
    while (to < rids.length && rids[to] === rid) to++;
    if (to > from) {
      for (const array of [rids, cols, tfs, lens]) array.splice(from, to - from);
      // Bounds (highest frequency, shortest length) stay: looser, never tighter.
      for (const col of [...columns, ANY_COLUMN]) {
        const stat = stats.get(col);
        if (stat !== undefined) stat.df--;
      }
      return;
    }
    if (!this.removed.has(rid)) this.removed.set(rid, columns);
  }

  /** Postings pending: appended and taken out. */
  size(): number {
    return this.appended.rids.length + this.removed.size;
  }

  /** The term's statistics now: the base's, plus the appended, less the taken out. */
  stats(): Map<number, TermStat> {
    const out = new Map<number, TermStat>();
    for (const [col, stat] of this.base.stats) out.set(col, { ...stat });
    for (const [col, stat] of this.appended.stats) {
      addTermStat(out, col, stat.df, stat.maxTf, stat.minLen);
    }
    for (const columns of this.removed.values()) {
      for (const col of [...columns, ANY_COLUMN]) {
        const stat = out.get(col);
        if (stat !== undefined) stat.df--;
      }
    }
    return out;
  }
}

/** One change as logged: postings appended to a term, or a document taken out of it. */
export type LoggedChange =
  | readonly ["a", string, number[], number[], number[], number[]]
  | readonly ["r", string, number, readonly number[]];

/** The statistics of `list`'s postings (as {@linkcode AppendedList.stats}). */
export function statsOf(list: PostingArrays): Map<number, TermStat> {
  const stats = new Map<number, TermStat>();
  let last = -1;
  for (let i = 0; i < list.rids.length; i++) {
    const rid = list.rids[i]!;
    addTermStat(stats, list.cols[i]!, 1, list.tfs[i]!, list.lens[i]!);
    if (rid !== last) addTermStat(stats, ANY_COLUMN, 1, 0, 0);
    last = rid;
  }
  return stats;
}

/** A term's pending appended postings, then its staged ones (both in rid order, either absent). */
export function joined(
  term: string,
  pending: AppendedList | undefined,
  staged: AppendedList | undefined,
): AppendedList | undefined {
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
