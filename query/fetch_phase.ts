/**
 * The fetch phase of a search over several shards of one node (Elasticsearch's
 * `query_then_fetch`): each shard answers its top `offset + limit` hits without their
 * documents (`ShardSearchResult.docsLeftOut`), the pages are merged, and only the documents
 * of the merged page are read — with four shards and a page of 10, ten documents instead of
 * forty, and none of them cloned from a worker. A document deleted between the two phases
 * leaves its hit out and the next one takes its place, as when the shard reads it itself; one
 * written again in between is answered as it is now (its score is the one it was found with).
 *
 * @module
 */

import type { ShardHit, ShardSearchResult } from "../storage/microshard.ts";
import type { StoredDocument } from "../storage/_shard_types.ts";
import { mergedPage } from "./merge.ts";
import type { CompiledSearch } from "./search.ts";

/** Reads documents by page (the shard it came from) and id; `null` for one gone meanwhile. */
export type DocumentFetch = (
  wanted: ReadonlyArray<{ readonly page: number; readonly id: string }>,
) => Promise<Array<StoredDocument | null>>;

/**
 * The pages with the documents of the merged page read where shards left them out (pages
 * that carry their documents are kept as they are).
 */
export async function fetchPageDocs(
  pages: readonly ShardSearchResult[],
  search: Pick<CompiledSearch, "offset" | "limit" | "sort">,
  fetch: DocumentFetch,
): Promise<ShardSearchResult[]> {
  const lists = pages.map((page) => [...page.hits]);
  const pageOf = new Map<ShardHit, number>();
  const missing = new Set<ShardHit>();
  lists.forEach((hits, page) => {
    for (const hit of hits) {
      pageOf.set(hit, page);
      if (pages[page]!.docsLeftOut === true) missing.add(hit);
    }
  });
  // Each round fills or drops every hit of the page still missing its document: a drop lets
  // a later hit into the page, so the rounds end once no page hit is missing (at most one
  // round per hit).
  for (;;) {
    const view = lists.map((hits) => ({ hits }));
    const wanted = [...mergedPage(view, search)].filter((hit) => missing.has(hit));
    if (wanted.length === 0) break;
    const docs = await fetch(wanted.map((hit) => ({ page: pageOf.get(hit)!, id: hit.id })));
    wanted.forEach((hit, i) => {
      const hits = lists[pageOf.get(hit)!]!;
      const at = hits.indexOf(hit);
      const stored = docs[i];
      missing.delete(hit);
      if (stored === null || stored === undefined) hits.splice(at, 1);
      else hits[at] = { ...hit, version: stored.version, doc: stored.doc };
    });
  }
  return pages.map((page, i) => {
    const { docsLeftOut: _, ...rest } = page;
    return { ...rest, hits: lists[i]! };
  });
}
