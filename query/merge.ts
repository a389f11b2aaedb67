/**
 * Merging the pages of several microshards (or nodes) into one: each returned its top
 * `offset + limit` hits; the merge orders them by sort keys (missing values last) or by
 * score, then id, and cuts the page. Totals add up.
 *
 * @module
 */

import { compareHits, type Orderable } from "../storage/hit_order.ts";
import type { SortSpec } from "../storage/search_index.ts";

export { compareHits };

/** What the merge needs of a hit. */
export type Mergeable = Orderable;

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
