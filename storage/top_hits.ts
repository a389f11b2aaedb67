/**
 * The page `[offset, offset + limit)` of scored hits in the one order of hits (sort keys,
 * score, id), without sorting every hit: a bounded heap keeps the best `offset + limit`.
 *
 * @module
 */

import { compareHits, type Orderable } from "./hit_order.ts";
import type { SortSpec } from "./search_index.ts";

/** Keeps the page `[offset, offset + limit)` of `hits` in hit order. */
export function topHits<H extends Orderable>(
  hits: readonly H[],
  page: { readonly limit: number; readonly offset: number; readonly sort?: readonly SortSpec[] },
): H[] {
  const keep = page.offset + Math.max(page.limit, 0);
  if (keep <= 0) return [];
  const sort = page.sort ?? [];
  const order = (a: H, b: H) => compareHits(a, b, sort);
  if (hits.length <= keep * 4) return [...hits].sort(order).slice(page.offset, keep);
  // A max-heap (worst hit on top) of the best `keep` hits seen.
  const heap: H[] = [];
  const worse = (i: number, j: number) => order(heap[i]!, heap[j]!) > 0;
  const swap = (i: number, j: number) => ([heap[i], heap[j]] = [heap[j]!, heap[i]!]);
  for (const hit of hits) {
    if (heap.length < keep) {
      heap.push(hit);
      for (let i = heap.length - 1; i > 0 && worse(i, (i - 1) >> 1); i = (i - 1) >> 1) {
        swap(i, (i - 1) >> 1);
      }
    } else if (order(hit, heap[0]!) < 0) {
      heap[0] = hit;
      for (let i = 0;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let top = i;
        if (left < heap.length && worse(left, top)) top = left;
        if (right < heap.length && worse(right, top)) top = right;
        if (top === i) break;
        swap(i, top);
        i = top;
      }
    }
  }
  return heap.sort(order).slice(page.offset, keep);
}
