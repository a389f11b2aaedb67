/**
 * Migrating a microshard written before layout version 2 (`kv_layout.ts`): every document
 * header gets its slot and a `["slot", index, slot, id]` entry beside it, so a slot's
 * documents can be read as a range. The slot of such a document is `slotOf(id)`: the routing
 * key it was written with was never stored and cannot be recovered, so a document written
 * with a routing key lands in the slot of its id (the caller is told how many were migrated).
 *
 * The migration runs when the shard opens, before recovery reads anything, in atomic
 * operations of many documents each; the layout marker is set in the last one, so a crash
 * midway leaves the marker unset and the next open migrates the rest (a header that already
 * has its slot is left alone).
 *
 * @module
 */

import type { DocumentStore } from "./_document_store.ts";
import { type DocHeader, keys, type Mutation, SLOTS_LAYOUT_VERSION } from "./kv_layout.ts";
import { slotOf } from "./slot.ts";

/** Bytes budgeted for a header beside its inline body (as the write path does). */
const HEADER_BASE_BYTES = 64;
/** Bytes budgeted for the layout marker and a slot entry's value. */
const SMALL_VALUE_BYTES = 8;

/**
 * Brings a shard's layout to {@linkcode SLOTS_LAYOUT_VERSION}; returns how many headers it
 * changed.
 */
export async function migrateSlots(store: DocumentStore): Promise<number> {
  if (await store.layoutVersion() >= SLOTS_LAYOUT_VERSION) return 0;
  let migrated = 0;
  async function* units(): AsyncIterable<readonly Mutation[]> {
    const indexes: string[] = [];
    for await (const meta of store.indexMetas()) indexes.push(meta.name);
    for (const index of indexes) {
      for await (const { id, header } of store.documents(index)) {
        if (header.slot !== undefined) continue;
        migrated++;
        yield slotUnit(index, id, header);
      }
    }
  }
  await store.commitInBatches(units(), [{
    type: "set",
    key: keys.layout,
    value: SLOTS_LAYOUT_VERSION,
    bytes: SMALL_VALUE_BYTES,
  }]);
  return migrated;
}

function slotUnit(index: string, id: string, header: DocHeader): Mutation[] {
  const slot = slotOf(id);
  const value: DocHeader = { ...header, slot };
  return [
    {
      type: "set",
      key: keys.doc(index, id),
      value,
      bytes: HEADER_BASE_BYTES + (header.body?.length ?? 0),
    },
    { type: "set", key: keys.slot(index, slot, id), value: true, bytes: SMALL_VALUE_BYTES },
  ];
}
