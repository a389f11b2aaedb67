/**
 * The placement hash, as the node uses it: FNV-1a (32-bit) over a string's UTF-8 bytes places
 * a document in its local microshard (`fnv1a(key) % shards`) and, in a cluster, in its slot
 * (`slotOf(key)`, `fnv1a(key) % 1024`); both are fixed forever, so neither placement ever
 * changes. Defined in `storage/slot.ts`, because a shard stores every document's slot with it.
 *
 * @module
 */

export { CLUSTER_SLOTS, fnv1a, slotOf } from "../storage/slot.ts";
