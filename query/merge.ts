/**
 * Merging the pages of several microshards (or nodes) into one: each returned its top
 * `offset + limit` hits; the merge orders them by sort keys (missing values last) or by
 * score, then id, and cuts the page. Totals add up.
 *
 * @module
 */

import type { PlanValue, SortSpec } from "../storage/search_index.ts";

/** What the merge needs of a hit. */
export interface Mergeable {
  readonly id: string;
  readonly score: number;
  readonly sortValues?: ReadonlyArray<PlanValue | null>;
}

/** Orders two hits as every engine does: sort keys, then score descending, then id. */
export function compareHits(a: Mergeable, b: Mergeable, sort: readonly SortSpec[]): number {
  for (let i = 0; i < sort.length; i++) {
    const x = a.sortValues?.[i] ?? null;
    const y = b.sortValues?.[i] ?? null;
    if (x === y) continue;
    if (x === null) return 1;
    if (y === null) return -1;
    const ascending = x < y ? -1 : 1;
    return sort[i]!.order === "asc" ? ascending : -ascending;
  }
  return b.score - a.score || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}

/** Merges pages into the page `[offset, offset + limit)` of the whole. */
export function mergePages<H extends Mergeable>(
  pages: ReadonlyArray<{ readonly total: number; readonly hits: readonly H[] }>,
  options: { readonly limit: number; readonly offset: number; readonly sort: readonly SortSpec[] },
): { total: number; hits: H[] } {
  const total = pages.reduce((sum, page) => sum + page.total, 0);
  const all = pages.flatMap((page) => page.hits);
  all.sort((a, b) => compareHits(a, b, options.sort));
  return { total, hits: all.slice(options.offset, options.offset + options.limit) };
}
