/**
 * How a microshard lays out its data in Deno KV, and how writes are packed into atomic
 * operations within Deno KV's limits.
 *
 * | key | value |
 * | --- | --- |
 * | `["meta", "seq"]` | the last sequence number committed |
 * | `["meta", "pruned"]` | change-log entries up to this sequence number were pruned |
 * | `["index", name]` | {@linkcode IndexMeta}: engine, schema, dropping flag |
 * | `["meta", "layout"]` | the layout version ({@linkcode LAYOUT_VERSION}); absent before slots were stored |
 * | `["doc", index, id]` | {@linkcode DocHeader}: version, sequence number, slot, routing key, the document (inline) or a blob reference |
 * | `["slot", index, slot, id]` | `true`: the document `id` of `index` is in cluster slot `slot` (read a slot as a range) |
 * | `["tomb", index, id]` | {@linkcode Tombstone}: the document `id` of `index` was deleted by the write stamped so |
 * | `["tombslot", index, slot, id]` | `true`: a tombstone of `index` in cluster slot `slot` (streamed with the slot) |
 * | `["blob", blobId, i]` | chunk `i` of a document over {@linkcode INLINE_MAX_BYTES} |
 * | `["pending", blobId]` | a blob being written and not yet referenced (removed on recovery) |
 * | `["garbage", blobId]` | a blob no longer referenced (removed after the commit or on recovery) |
 * | `["log", seq]` | {@linkcode LogEntry}: which document changed at `seq` |
 *
 * @module
 */

import type { Bm25Params } from "./bm25.ts";
import type { Schema } from "./schema.ts";
import type { EngineName } from "./search_index.ts";

/**
 * The layout version this code writes. 2: every header carries its slot and a
 * `["slot", index, slot, id]` entry sits beside it. 3: every engine also indexes each
 * document's slot (`_slot`, what a search during a slot move filters by). A directory without
 * the marker was written before (version 1) and is migrated when it opens
 * (`_slot_migration.ts`); one below 3 has its engines rebuilt from KV (`_recovery.ts`), and the
 * marker is set to 3 only once they are.
 */
export const LAYOUT_VERSION = 3;
/** The layout version from which headers carry their slot. */
export const SLOTS_LAYOUT_VERSION = 2;

/** Largest document stored inline in its header, in bytes of UTF-8 JSON. */
export const INLINE_MAX_BYTES = 60_000;
/** Size of one blob chunk (Deno KV values are at most 64 KiB). */
export const CHUNK_BYTES = 60_000;
/** Mutations per atomic operation we allow ourselves (Deno KV: 1000). */
export const MAX_MUTATIONS_PER_ATOMIC = 900;
/** Bytes per atomic operation we allow ourselves (Deno KV: 819,200). */
export const MAX_BYTES_PER_ATOMIC = 760_000;
/** Bytes budgeted for an atomic operation itself, before its mutations. */
export const ATOMIC_BASE_BYTES = 64;

/** Whether `mutations` mutations of `bytes` bytes (base included) fit one atomic operation. */
export function fitsAtomic(mutations: number, bytes: number): boolean {
  return mutations <= MAX_MUTATIONS_PER_ATOMIC && bytes <= MAX_BYTES_PER_ATOMIC;
}

/** An index's metadata in one microshard. */
export interface IndexMeta {
  readonly name: string;
  readonly engine: EngineName;
  readonly schema: Schema;
  readonly description?: string;
  /** BM25's `k1`, `b` and field boosts, when the index sets them (`PUT _config`). */
  readonly ranking?: Bm25Params;
  /** Set while the index is being deleted; recovery finishes the deletion. */
  readonly dropping?: boolean;
}

/** A document's header: its version and where its body is. */
export interface DocHeader {
  readonly version: number;
  readonly seq: number;
  /**
   * The hybrid-logical-clock stamp of the write that made this version (`hlc.ts`): what
   * decides which of two copies of a document is newer. Absent in a header written before
   * stamps were stored (older than any stamp).
   */
  readonly stamp?: string;
  /**
   * The document's cluster slot, `slotOf(routingKey ?? id)`. Absent only in a header written
   * before layout version 2 (migration adds it, from the id).
   */
  readonly slot?: number;
  /** The routing key the document was written with, when it had one. */
  readonly routingKey?: string;
  /** UTF-8 JSON of the document, when it is small enough to be inline. */
  readonly body?: Uint8Array;
  /** The blob holding the document otherwise. */
  readonly blob?: { readonly id: string; readonly chunks: number; readonly bytes: number };
}

/**
 * What a delete leaves behind (Cassandra's tombstone): the stamp of the delete, so a copy of
 * the document older than the delete (a moving slot's snapshot item) is not applied, and
 * the version the document had. Collected after the grace period
 * (`MicroshardOptions.tombstoneGraceMs`), never while its slot is held.
 */
export interface Tombstone {
  readonly stamp: string;
  readonly version: number;
  readonly slot: number;
  readonly routingKey?: string;
  /** The local wall-clock time the tombstone was written, in ms since the epoch. */
  readonly deletedAtMs: number;
}

/** A change-log entry: the document `id` of `index` changed at this sequence number. */
export interface LogEntry {
  readonly index: string;
  readonly id: string;
}

/** Keys of the layout. */
export const keys = {
  seq: ["meta", "seq"] as const,
  pruned: ["meta", "pruned"] as const,
  layout: ["meta", "layout"] as const,
  index: (name: string): Deno.KvKey => ["index", name],
  indexes: ["index"] as const,
  doc: (index: string, id: string): Deno.KvKey => ["doc", index, id],
  docs: (index: string): Deno.KvKey => ["doc", index],
  slot: (index: string, slot: number, id: string): Deno.KvKey => ["slot", index, slot, id],
  slotDocs: (index: string, slot: number): Deno.KvKey => ["slot", index, slot],
  slots: (index: string): Deno.KvKey => ["slot", index],
  tomb: (index: string, id: string): Deno.KvKey => ["tomb", index, id],
  tombs: (index: string): Deno.KvKey => ["tomb", index],
  tombSlot: (index: string, slot: number, id: string): Deno.KvKey => ["tombslot", index, slot, id],
  tombSlotDocs: (index: string, slot: number): Deno.KvKey => ["tombslot", index, slot],
  tombSlots: (index: string): Deno.KvKey => ["tombslot", index],
  blobChunk: (blobId: string, i: number): Deno.KvKey => ["blob", blobId, i],
  blob: (blobId: string): Deno.KvKey => ["blob", blobId],
  pending: (blobId: string): Deno.KvKey => ["pending", blobId],
  pendings: ["pending"] as const,
  garbage: (blobId: string): Deno.KvKey => ["garbage", blobId],
  garbages: ["garbage"] as const,
  log: (seq: number): Deno.KvKey => ["log", seq],
  logs: ["log"] as const,
};

/** Bytes budgeted for a key itself, before its parts. */
const KEY_BASE_BYTES = 4;
/** Most bytes a UTF-16 code unit takes in UTF-8. */
const MAX_UTF8_BYTES_PER_UNIT = 3;
/** Bytes budgeted for a string part's framing. */
const STRING_PART_BYTES = 2;
/** Bytes budgeted for a number part. */
const NUMBER_PART_BYTES = 10;

/** Approximate bytes a key takes in a mutation. */
export function keyBytes(key: Deno.KvKey): number {
  let bytes = KEY_BASE_BYTES;
  for (const part of key) {
    bytes += typeof part === "string"
      ? part.length * MAX_UTF8_BYTES_PER_UNIT + STRING_PART_BYTES
      : NUMBER_PART_BYTES;
  }
  return bytes;
}

/** Splits UTF-8 bytes into chunks of {@linkcode CHUNK_BYTES}. */
export function chunk(bytes: Uint8Array): Uint8Array[] {
  const chunks: Uint8Array[] = [];
  for (let at = 0; at < bytes.length; at += CHUNK_BYTES) {
    chunks.push(bytes.subarray(at, Math.min(at + CHUNK_BYTES, bytes.length)));
  }
  return chunks;
}

/** One mutation of an atomic operation. */
export type Mutation =
  | {
    readonly type: "set";
    readonly key: Deno.KvKey;
    readonly value: unknown;
    readonly bytes: number;
  }
  | { readonly type: "delete"; readonly key: Deno.KvKey };

/** Mutation size as counted against the per-operation byte budget. */
export function mutationBytes(mutation: Mutation): number {
  return keyBytes(mutation.key) + (mutation.type === "set" ? mutation.bytes : 0);
}

/**
 * Packs units (groups of mutations that must commit together) into atomic operations
 * within {@linkcode MAX_MUTATIONS_PER_ATOMIC} and {@linkcode MAX_BYTES_PER_ATOMIC}, in
 * order, reserving `reserve` mutations per operation for the caller's own additions.
 * A unit larger than one operation is refused (the caller splits such documents first).
 */
export function pack<U extends { readonly mutations: readonly Mutation[] }>(
  units: readonly U[],
  reserve = 1,
): U[][] {
  const operations: U[][] = [];
  let current: U[] = [];
  let count = reserve;
  let bytes = ATOMIC_BASE_BYTES;
  for (const unit of units) {
    const unitCount = unit.mutations.length;
    const unitBytes = unit.mutations.reduce((sum, m) => sum + mutationBytes(m), 0);
    if (!fitsAtomic(unitCount + reserve, unitBytes + ATOMIC_BASE_BYTES)) {
      throw new RangeError(
        `a unit of ${unitCount} mutations and ${unitBytes} bytes fits no atomic operation`,
      );
    }
    if (!fitsAtomic(count + unitCount, bytes + unitBytes)) {
      operations.push(current);
      current = [];
      count = reserve;
      bytes = ATOMIC_BASE_BYTES;
    }
    current.push(unit);
    count += unitCount;
    bytes += unitBytes;
  }
  if (current.length > 0) operations.push(current);
  return operations;
}

/** Applies mutations to an atomic operation. */
export function addMutations(atomic: Deno.AtomicOperation, mutations: readonly Mutation[]): void {
  for (const mutation of mutations) {
    if (mutation.type === "set") atomic.set(mutation.key, mutation.value);
    else atomic.delete(mutation.key);
  }
}
