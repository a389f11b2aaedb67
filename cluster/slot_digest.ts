/**
 * The digest two replicas of a slot compare (anti-entropy, after Dynamo §4.7's Merkle trees
 * per key range and Riak's active anti-entropy): every document and tombstone of one index in
 * one slot is an entry `(id, stamp, deleted)`; the entries are bucketed by a hash of the id
 * into {@linkcode DIGEST_BUCKETS} buckets, and each bucket's digest is its entry count and a
 * SHA-256 over its entries in id order — a Merkle tree of one level, whose root is the slot.
 * Two replicas holding the same entries have the same digests; a bucket whose digests differ
 * is the only part whose `(id, stamp)` lists the two exchange ({@linkcode compareEntries}).
 *
 * SHA-256 comes from `node:crypto` (synchronous, fast, part of the runtime); the bucketing
 * and the comparison are a few lines over it, for which no library fits better.
 *
 * @example
 * ```ts
 * import { differingBuckets, slotDigest } from "./slot_digest.ts";
 * const a = slotDigest([{ id: "b1", stamp: "0192d3b4c5a6-000000-n1", deleted: false }]);
 * const b = slotDigest([]);
 * if (differingBuckets(a, b).length !== 1) throw new Error("one bucket differs");
 * ```
 *
 * @module
 */

import { createHash } from "node:crypto";
import type { Stamp } from "../storage/hlc.ts";
import { fnv1a } from "../storage/slot.ts";

/** Buckets of one slot's digest (the leaves of its one-level Merkle tree). */
export const DIGEST_BUCKETS = 64;

/** The digest of an empty bucket. */
export const EMPTY_BUCKET = "0";

/** One document or tombstone as anti-entropy compares it. */
export interface DigestEntry {
  readonly id: string;
  /** The stamp of its last write. */
  readonly stamp: Stamp;
  /** Whether it is a tombstone. */
  readonly deleted: boolean;
}

/**
 * The bucket of an id: FNV-1a mixed by MurmurHash3's finalizer. The mix matters: a slot is
 * `fnv1a(key) % 1024`, so the ids of one slot share FNV-1a's low bits, and its raw value
 * modulo 64 would put them all in one bucket.
 */
export function bucketOf(id: string): number {
  let h = fnv1a(id);
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return (h >>> 0) % DIGEST_BUCKETS;
}

/** The entries of each bucket, in id order. */
export function bucketize<T extends DigestEntry>(entries: Iterable<T>): T[][] {
  const buckets: T[][] = Array.from({ length: DIGEST_BUCKETS }, () => []);
  for (const entry of entries) buckets[bucketOf(entry.id)]!.push(entry);
  for (const bucket of buckets) bucket.sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  return buckets;
}

/** One bucket's digest: `count-sha256prefix`, or {@linkcode EMPTY_BUCKET}. */
export function bucketDigest(sorted: readonly DigestEntry[]): string {
  if (sorted.length === 0) return EMPTY_BUCKET;
  const hash = createHash("sha256");
  for (const entry of sorted) {
    hash.update(`${entry.id}\u0000${entry.stamp}\u0000${entry.deleted ? 1 : 0}\u0000`);
  }
  return `${sorted.length}-${hash.digest("hex").slice(0, 32)}`;
}

/** The digest of a slot's entries: {@linkcode DIGEST_BUCKETS} bucket digests. */
export function slotDigest(entries: Iterable<DigestEntry>): string[] {
  return bucketize(entries).map(bucketDigest);
}

/** The buckets whose digests differ. */
export function differingBuckets(
  mine: readonly string[],
  theirs: readonly string[],
): number[] {
  const differ: number[] = [];
  for (let bucket = 0; bucket < DIGEST_BUCKETS; bucket++) {
    if (mine[bucket] !== theirs[bucket]) differ.push(bucket);
  }
  return differ;
}

/** What one side holds newer than the other (or the other lacks). */
export interface EntryDiff<M extends DigestEntry, T extends DigestEntry> {
  /** Entries here that are newer than the other side's (or missing there). */
  readonly mineNewer: M[];
  /** Entries there that are newer than this side's (or missing here). */
  readonly theirsNewer: T[];
}

/**
 * Compares two sides' entries of the same buckets by stamp: the newer stamp wins (ties
 * change nothing — the two writes are the same write).
 */
export function compareEntries<M extends DigestEntry, T extends DigestEntry>(
  mine: Iterable<M>,
  theirs: Iterable<T>,
): EntryDiff<M, T> {
  const their = new Map<string, T>();
  for (const entry of theirs) their.set(entry.id, entry);
  const mineNewer: M[] = [];
  const seen = new Set<string>();
  for (const entry of mine) {
    seen.add(entry.id);
    const other = their.get(entry.id);
    if (other === undefined || other.stamp < entry.stamp) mineNewer.push(entry);
  }
  const theirsNewer: T[] = [];
  for (const [id, entry] of their) {
    if (!seen.has(id)) theirsNewer.push(entry);
  }
  for (const entry of mine) {
    const other = their.get(entry.id);
    if (other !== undefined && entry.stamp < other.stamp) theirsNewer.push(other);
  }
  return { mineNewer, theirsNewer };
}
