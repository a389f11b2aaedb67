/**
 * A microshard's reads: a document by id, a page of search hits with their documents, the
 * list of its indexes. Each calls its engine before its first `await`, so that it can run
 * beside the write queue (see `Microshard`).
 *
 * @module
 */

import type { ShardState } from "./_shard_state.ts";
import type {
  IndexInfo,
  ShardHit,
  ShardSearchResult,
  SlotDocument,
  SlotPage,
  SlotTombstone,
  SlotTombstonePage,
  StampedRead,
  StoredDocument,
} from "./_shard_types.ts";
import { IndexNotFoundError } from "./errors.ts";
import { compareHits } from "./hit_order.ts";
import { deadlineCheck } from "./search_deadline.ts";
import { validateDocId, validateIndexName } from "./names.ts";
import type { FacetSpec, Plan, SearchOptions } from "./search_index.ts";

/**
 * Options of a shard search: a page, sort keys, facets, the statistics to score with; with
 * `statsOnly`, the shard only answers its part of the statistics (a search's first phase).
 */
export type ShardSearchOptions = SearchOptions & {
  readonly facets?: readonly FacetSpec[];
  readonly statsOnly?: boolean;
  /**
   * The hits' ids, scores and sort values only: the node reads the documents of the merged
   * page (with several shards, each would read its whole `limit` of which most are cut).
   */
  readonly withoutDocs?: boolean;
};

/**
 * Reads a document by id; `undefined` when absent. It needs only the store, so a reader
 * isolate holding its own KV handle runs it too (`shard_reader_actor.ts`).
 */
export async function readDocument(
  state: Pick<ShardState, "store">,
  index: string,
  id: string,
): Promise<StoredDocument | undefined> {
  validateIndexName(index);
  validateDocId(id);
  const header = await state.store.header(index, id);
  if (header === undefined) return undefined;
  return { id, version: header.version, doc: await state.store.body(header) };
}

/**
 * Reads a document by id with its stamp, or the tombstone of its delete: what a replicated
 * read compares between replicas (the newest stamp wins, a tombstone included).
 */
export async function readStamped(
  state: Pick<ShardState, "store">,
  index: string,
  id: string,
): Promise<StampedRead> {
  validateIndexName(index);
  validateDocId(id);
  const { header, tombstone: grave } = await state.store.headerAndTombstone(index, id);
  if (header !== undefined) {
    const placed = header.routingKey === undefined ? {} : { routingKey: header.routingKey };
    const stamped = header.stamp === undefined ? {} : { stamp: header.stamp };
    const doc = await state.store.body(header);
    return { document: { id, version: header.version, doc, ...placed, ...stamped } };
  }
  if (grave === undefined) return {};
  const placed = grave.routingKey === undefined ? {} : { routingKey: grave.routingKey };
  return { tombstone: { id, version: grave.version, stamp: grave.stamp, ...placed } };
}

/** Most documents one slot page holds. */
export const MAX_SLOT_PAGE_DOCUMENTS = 1_000;

/**
 * A page of one slot's documents of `index`, in id order, after `afterId`: a range read of the
 * `["slot", index, slot]` entries, then each header and body. At most `limit` documents
 * (at most {@linkcode MAX_SLOT_PAGE_DOCUMENTS}).
 */
export async function readSlotPage(
  state: ShardState,
  index: string,
  slot: number,
  options: { readonly afterId?: string; readonly limit: number },
): Promise<SlotPage> {
  validateIndexName(index);
  const limit = Math.max(1, Math.min(options.limit, MAX_SLOT_PAGE_DOCUMENTS));
  const ids: string[] = [];
  for await (const id of state.store.slotIds(index, slot, options.afterId)) {
    ids.push(id);
    if (ids.length > limit) break;
  }
  const more = ids.length > limit;
  const pageIds = ids.slice(0, limit);
  const headers = await state.store.headers(index, pageIds);
  const documents: SlotDocument[] = [];
  for (const id of pageIds) {
    const header = headers.get(id);
    if (header === undefined) continue;
    const doc = await state.store.body(header);
    const placed = header.routingKey === undefined ? {} : { routingKey: header.routingKey };
    const stamped = header.stamp === undefined ? {} : { stamp: header.stamp };
    documents.push({ id, version: header.version, doc, ...placed, ...stamped });
  }
  return more ? { documents, next: pageIds[pageIds.length - 1]! } : { documents };
}

/** A page of one slot's tombstones (see `Microshard.slotTombstones`). */
export async function readSlotTombstones(
  state: ShardState,
  index: string,
  slot: number,
  options: { readonly afterId?: string; readonly limit: number },
): Promise<SlotTombstonePage> {
  validateIndexName(index);
  const limit = Math.max(1, Math.min(options.limit, MAX_SLOT_PAGE_DOCUMENTS));
  const ids: string[] = [];
  for await (const id of state.store.slotTombstoneIds(index, slot, options.afterId)) {
    ids.push(id);
    if (ids.length > limit) break;
  }
  const more = ids.length > limit;
  const pageIds = ids.slice(0, limit);
  const graves = await state.store.tombstones(index, pageIds);
  const tombstones: SlotTombstone[] = [];
  for (const id of pageIds) {
    const grave = graves.get(id);
    if (grave === undefined) continue;
    const placed = grave.routingKey === undefined ? {} : { routingKey: grave.routingKey };
    tombstones.push({ id, version: grave.version, stamp: grave.stamp, ...placed });
  }
  return more ? { tombstones, next: pageIds[pageIds.length - 1]! } : { tombstones };
}

/** Runs a plan on one index and returns a page of hits with their documents. */
export async function searchShard(
  state: ShardState,
  index: string,
  plan: Plan,
  options: ShardSearchOptions,
): Promise<ShardSearchResult> {
  const open = state.indexes.get(index);
  if (open === undefined) throw new IndexNotFoundError(index);
  // A search whose deadline passed while it waited is not started.
  deadlineCheck(options.deadlineAtMs)();
  if (options.statsOnly === true) {
    const deadline = options.deadlineAtMs === undefined
      ? {}
      : { deadlineAtMs: options.deadlineAtMs };
    return { total: 0, hits: [], stats: open.engine.stats(plan, deadline) };
  }
  const facetSpecs = options.facets ?? [];
  if (plan.kind === "ids" && (options.sort ?? []).length === 0 && facetSpecs.length === 0) {
    return await idsFromKv(state, index, plan.ids, options);
  }
  const result = open.engine.search(plan, options);
  const facets = facetSpecs.length === 0 ? undefined : open.engine.facets(plan, facetSpecs);
  if (options.withoutDocs === true) {
    const hits = result.hits.map((hit) => ({ ...hit, version: 0, doc: {} }));
    return {
      total: result.total,
      hits,
      docsLeftOut: true,
      ...(facets === undefined ? {} : { facets }),
    };
  }
  const headers = await state.store.headers(index, result.hits.map((hit) => hit.id));
  const hits: ShardHit[] = [];
  for (const hit of result.hits) {
    const header = headers.get(hit.id);
    if (header === undefined) continue;
    hits.push({ ...hit, version: header.version, doc: await state.store.body(header) });
  }
  return facets === undefined
    ? { total: result.total, hits }
    : { total: result.total, hits, facets };
}

/** `id:value` alone is answered from KV, without the search index. */
async function idsFromKv(
  state: ShardState,
  index: string,
  ids: readonly string[],
  page: SearchOptions,
): Promise<ShardSearchResult> {
  const headers = await state.store.headers(index, [...new Set(ids)]);
  const hits: ShardHit[] = [];
  for (const [id, header] of headers) {
    hits.push({ id, score: 0, version: header.version, doc: await state.store.body(header) });
  }
  hits.sort((a, b) => compareHits(a, b, [])); // all scores are 0: by id
  return {
    total: hits.length,
    hits: hits.slice(page.offset, page.offset + Math.max(page.limit, 0)),
  };
}

/** The indexes of a shard. */
export function indexInfos(state: ShardState): IndexInfo[] {
  return [...state.indexes.values()].map(({ meta, engine }) => ({
    name: meta.name,
    engine: meta.engine,
    schema: meta.schema,
    ...(meta.description === undefined ? {} : { description: meta.description }),
    ...(meta.ranking === undefined ? {} : { ranking: meta.ranking }),
    documentCount: engine.count(),
    memoryBytes: engine.memoryBytes(),
  }));
}
