/**
 * An apply's ranking postings before they are written: per term its new postings and summed
 * statistics, per column its documents and tokens, per document its `doc_terms` row. The
 * `fts5` engine's postings (`_fts5_postings.ts`) stage every document of an apply here, then
 * log or fold them at its end, each term once.
 *
 * @module
 */

import { type AppendedList, statsOf } from "./_posting_delta.ts";

/** A term's postings staged by one apply, in the order posted (rid order). */
interface StagedList {
  readonly rids: number[];
  readonly cols: number[];
  readonly tfs: number[];
  readonly lens: number[];
}

/** What an apply staged for its flush. */
export interface Staged {
  /** Per term, its new postings and statistics. */
  readonly postings: Map<string, StagedList>;
  /** Per column, the documents with it and their tokens. */
  readonly fields: Map<number, { docs: number; tokens: number }>;
  /** Per document, its `doc_terms` row. */
  readonly docs: Array<[number, string]>;
  /** The rids of `docs`. */
  readonly rids: Set<number>;
}

/** Nothing staged. */
export function emptyStaged(): Staged {
  return { postings: new Map(), fields: new Map(), docs: [], rids: new Set() };
}

/** Stages a document's postings: its tokens per column (`rid` above every rid staged). */
export function stageDocument(
  staged: Staged,
  rid: number,
  tokensByColumn: ReadonlyMap<number, readonly string[]>,
): void {
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
        list = { rids: [], cols: [], tfs: [], lens: [] };
        staged.postings.set(term, list);
      }
      list.rids.push(rid);
      list.cols.push(col);
      list.tfs.push(tf);
      list.lens.push(len);
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

/** A term's staged postings with their statistics (`statsOf`, as a replayed log gets them). */
export function stagedList(staged: Staged, term: string): AppendedList | undefined {
  const list = staged.postings.get(term);
  return list === undefined ? undefined : { ...list, stats: statsOf(list) };
}

/** Postings staged, over every term. */
export function stagedPostings(staged: Staged): number {
  let count = 0;
  for (const list of staged.postings.values()) count += list.rids.length;
  return count;
}
