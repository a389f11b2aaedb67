/**
 * Operations on posting lists held as parallel arrays (`PostingArrays`): blocks decoded into one
 * list, two lists merged, postings kept by rid, a binary search by rid. Pure functions, shared by
 * the `fts5` engine's postings tables (`_fts5_postings.ts`) and their pending changes
 * (`_posting_delta.ts`).
 *
 * @module
 */

import { decodeBlock, type PostingArrays, postingArrays } from "./_posting_blocks.ts";

/** `post_blocks.first_rid` of a term's open block (above every rid). */
export const OPEN_BLOCK = Number.MAX_SAFE_INTEGER;

/** A term's postings, decoded, in rid order. */
export type DecodedList = ReturnType<typeof postingArrays>;

/** A `post_blocks` row as read. */
export interface BlockRow {
  readonly first_rid: number;
  readonly last_rid: number;
  readonly n: number;
  readonly data: Uint8Array;
}

/** A term's open block row: a block row with the term's statistics' bytes. */
export interface OpenBlockRow extends BlockRow {
  readonly stats: Uint8Array;
}

/** The first index of `rids` (ascending) holding a value ≥ `rid`. */
export function lowerBound(rids: ArrayLike<number>, rid: number): number {
  let low = 0;
  let high = rids.length;
  while (low < high) {
    const mid = (low + high) >>> 1;
    if (rids[mid]! < rid) low = mid + 1;
    else high = mid;
  }
  return low;
}

/**
 * Where a block that starts at `from` and takes at most about `room` postings ends (at most
 * `to`): a document's postings (one per column) stay in one block, which may then take a few
 * more than `room` — a delete rewrites only the block its rid is in.
 */
export function blockEnd(
  rids: ArrayLike<number>,
  from: number,
  to: number,
  room: number,
): number {
  let end = Math.min(to, from + room);
  while (end < to && rids[end] === rids[end - 1]) end++;
  return end;
}

/** Blocks (in rid order) decoded into one list. The open block's rids count from 0. */
export function decodeRows(rows: readonly BlockRow[]): DecodedList {
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
export function merged(a: PostingArrays, b: PostingArrays): DecodedList {
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

/**
 * The postings of `list` whose rid `keep` accepts, in order, then every posting of `after` (whose
 * rids must be above them).
 */
export function kept(
  list: PostingArrays,
  keep: (rid: number) => boolean,
  after?: PostingArrays,
): DecodedList {
  let count = 0;
  for (let i = 0; i < list.rids.length; i++) if (keep(list.rids[i]!)) count++;
  const out = postingArrays(count + (after?.rids.length ?? 0));
  let k = 0;
  for (let i = 0; i < list.rids.length; i++) {
    if (keep(list.rids[i]!)) copyPosting(list, i, out, k++);
  }
  for (let i = 0; i < (after?.rids.length ?? 0); i++) copyPosting(after!, i, out, k++);
  return out;
}
