/**
 * The one order of hits, shared by the engines and the merge of shard pages: sort keys
 * (missing values last), then score descending, then id.
 *
 * @module
 */

import type { PlanValue, SortSpec } from "./search_index.ts";

/** What ordering needs of a hit. */
export interface Orderable {
  readonly id: string;
  readonly score: number;
  readonly sortValues?: ReadonlyArray<PlanValue | null>;
}

/** Orders two hits: sort keys, then score descending, then id. */
export function compareHits(a: Orderable, b: Orderable, sort: readonly SortSpec[]): number {
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
