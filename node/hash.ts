/**
 * The placement hash: FNV-1a (32-bit) over a string's UTF-8 bytes. It places a document in
 * its local microshard (`fnv1a(key) % shards`) and, in a cluster, in its slot
 * (`fnv1a(key) % 1024`); both are fixed forever, so neither placement ever changes.
 *
 * @module
 */

const ENCODER = new TextEncoder();
const FNV_OFFSET_BASIS = 0x811c9dc5;
const FNV_PRIME = 0x01000193;

/** FNV-1a (32-bit) of a string's UTF-8 bytes. */
export function fnv1a(text: string): number {
  let hash = FNV_OFFSET_BASIS;
  for (const byte of ENCODER.encode(text)) {
    hash = Math.imul(hash ^ byte, FNV_PRIME) >>> 0;
  }
  return hash;
}
