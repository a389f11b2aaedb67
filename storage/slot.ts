/**
 * The placement hash and the cluster slot of a document. FNV-1a (32-bit) over a string's
 * UTF-8 bytes places a document in its local microshard (`fnv1a(key) % shards`) and, in a
 * cluster, in its slot (`fnv1a(key) % CLUSTER_SLOTS`); both are fixed forever (invariant 7).
 *
 * It lives in `storage/` because a shard stores each document's slot with it (so a slot can
 * be read as a range and streamed) and computes it for documents written before that; the
 * node and the cluster import it from here (through `node/hash.ts`).
 *
 * @module
 */

import type { IndexedValue } from "./schema.ts";

const ENCODER = new TextEncoder();
const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** Slots of a cluster: fixed, so a document's slot never changes. */
export const CLUSTER_SLOTS = 1_024;

/**
 * FNV-1a (32-bit) of a string's UTF-8 bytes. An ASCII string is its own UTF-8, so it is hashed
 * from its char codes without encoding it (the node hashes every id of a bulk twice).
 */
export function fnv1a(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code >= 0x80) return fnv1aOfBytes(ENCODER.encode(text));
    hash = Math.imul(hash ^ code, FNV_PRIME) >>> 0;
  }
  return hash;
}

/** FNV-1a (32-bit) of bytes. */
export function fnv1aOfBytes(bytes: Uint8Array): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of bytes) hash = Math.imul(hash ^ byte, FNV_PRIME) >>> 0;
  return hash;
}

/**
 * The slot of a placement key (the document's routing key, else its id).
 *
 * @example
 * ```ts
 * import { CLUSTER_SLOTS, slotOf } from "./slot.ts";
 * const slot = slotOf("b1");
 * if (slot < 0 || slot >= CLUSTER_SLOTS) throw new Error("out of range");
 * ```
 */
export function slotOf(placementKey: string): number {
  return fnv1a(placementKey) % CLUSTER_SLOTS;
}

/** Whether `value` is a slot number (an integer in `[0, CLUSTER_SLOTS)`). */
export function isSlot(value: unknown): value is number {
  return Number.isInteger(value) && (value as number) >= 0 && (value as number) < CLUSTER_SLOTS;
}

/**
 * The internal indexed value every document carries besides its fields: its slot, as an
 * i64 under a name no field can have, so a search can leave a slot out in the engine itself
 * (`and(plan, not(or(eq _slot …)))`) — what a node does for a slot moving to or from it.
 * It is in the engines only: never in a schema, `_config` or a returned document.
 */
export const SLOT_FIELD = "_slot";

/** The {@linkcode SLOT_FIELD} value of a document in `slot`. */
export function slotValue(slot: number): IndexedValue {
  return { path: SLOT_FIELD, type: "i64", values: [slot] };
}
