/**
 * Reading one slot's documents and tombstones of one index from this node's shards, as
 * anti-entropy compares them: `(id, stamp, deleted)` with what a stamped copy needs (version,
 * routing key, and the document itself for the ids asked for).
 *
 * @module
 */

import type { NodeOrchestrator } from "../node/orchestrator.ts";
import type { WriteCommand } from "../node/write_command.ts";
import { UNSTAMPED } from "../storage/hlc.ts";
import { IndexNotFoundError } from "../storage/errors.ts";
import type { DigestEntry } from "./slot_digest.ts";

/** Documents (or tombstones) read from a shard per page while scanning a slot. */
export const SCAN_PAGE_ENTRIES = 1_000;

/** One document or tombstone held here. */
export interface HeldEntry extends DigestEntry {
  readonly version: number;
  readonly routingKey?: string;
  /** The document, when it was asked for (see `keepDoc`). */
  readonly doc?: Record<string, unknown>;
}

/** What scanning needs of the node. */
export type SlotScanner = Pick<NodeOrchestrator, "shardCount" | "slotPage" | "slotTombstones">;

/**
 * Every document and tombstone of `slot` in `index` on this node (none when the index is not
 * here); `keep` picks the ids kept (all by default), `keepDoc` those whose document is kept.
 */
export async function readSlotEntries(
  node: SlotScanner,
  index: string,
  slot: number,
  options: {
    readonly keep?: (id: string) => boolean;
    readonly keepDoc?: (id: string) => boolean;
  } = {},
): Promise<HeldEntry[]> {
  const keep = options.keep ?? (() => true);
  const keepDoc = options.keepDoc ?? (() => false);
  const entries: HeldEntry[] = [];
  try {
    for (let shard = 0; shard < node.shardCount; shard++) {
      let after: string | undefined;
      do {
        const page = await node.slotTombstones(index, slot, pageOf(shard, after));
        for (const t of page.tombstones) {
          if (!keep(t.id)) continue;
          const placed = t.routingKey === undefined ? {} : { routingKey: t.routingKey };
          entries.push({ id: t.id, stamp: t.stamp, deleted: true, version: t.version, ...placed });
        }
        after = page.next;
      } while (after !== undefined);
      do {
        const page = await node.slotPage(index, slot, pageOf(shard, after));
        for (const d of page.documents) {
          if (!keep(d.id)) continue;
          const placed = d.routingKey === undefined ? {} : { routingKey: d.routingKey };
          const body = keepDoc(d.id) ? { doc: d.doc } : {};
          const stamp = d.stamp ?? UNSTAMPED;
          entries.push({ id: d.id, stamp, deleted: false, version: d.version, ...placed, ...body });
        }
        after = page.next;
      } while (after !== undefined);
    }
  } catch (error) {
    if (error instanceof IndexNotFoundError) return [];
    throw error;
  }
  return entries;
}

function pageOf(shard: number, after: string | undefined) {
  return { shard, limit: SCAN_PAGE_ENTRIES, ...(after === undefined ? {} : { afterId: after }) };
}

/** The stamped copy of an entry held here (a put needs its document). */
export function copyOfEntry(index: string, entry: HeldEntry): WriteCommand | undefined {
  const placed = entry.routingKey === undefined ? {} : { routingKey: entry.routingKey };
  const base = { index, id: entry.id, stamp: entry.stamp, version: entry.version, ...placed };
  if (entry.deleted) return { op: "delete", ...base };
  if (entry.doc === undefined) return undefined;
  return { op: "put", ...base, doc: entry.doc };
}
