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

/**
 * Yields the hits of several pages in merged order, lazily: each page is put in order
 * first (the engines already return them so; then this costs one pass), after which every
 * hit costs a look at the head of each page.
 */
export function* mergeSorted<H extends Mergeable>(
  pages: ReadonlyArray<{ readonly hits: readonly H[] }>,
  sort: readonly SortSpec[],
): Generator<H> {
  const lists = pages.map((page) => [...page.hits].sort((a, b) => compareHits(a, b, sort)));
  const heads = lists.map(() => 0);
  while (true) {
    let best = -1;
    for (let i = 0; i < lists.length; i++) {
      const hit = lists[i]![heads[i]!];
      if (hit === undefined) continue;
      if (best < 0 || compareHits(hit, lists[best]![heads[best]!]!, sort) < 0) best = i;
    }
    if (best < 0) return;
    yield lists[best]![heads[best]!++]!;
  }
}

/** Yields the hits `[offset, offset + limit)` of the merged pages, lazily. */
export function* mergedPage<H extends Mergeable>(
  pages: ReadonlyArray<{ readonly hits: readonly H[] }>,
  options: { readonly limit: number; readonly offset: number; readonly sort: readonly SortSpec[] },
): Generator<H> {
  let at = 0;
  for (const hit of mergeSorted(pages, options.sort)) {
    if (at >= options.offset + options.limit) return;
    if (at++ >= options.offset) yield hit;
  }
}

/** Merges pages into the page `[offset, offset + limit)` of the whole. */
export function mergePages<H extends Mergeable>(
  pages: ReadonlyArray<{ readonly total: number; readonly hits: readonly H[] }>,
  options: { readonly limit: number; readonly offset: number; readonly sort: readonly SortSpec[] },
): { total: number; hits: H[] } {
  const total = pages.reduce((sum, page) => sum + page.total, 0);
  return { total, hits: [...mergedPage(pages, options)] };
}
