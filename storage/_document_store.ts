/**
 * The KV document store of one microshard: counters, index metadata, document headers and
 * bodies, blobs, the change log — everything `kv_layout.ts` lays out, read and written
 * through one `Deno.Kv`. Every multi-key removal goes through one batched path
 * ({@linkcode DocumentStore.commitInBatches}), packed into atomic operations within the
 * budget of `kv_layout.ts`.
 *
 * @module
 */

import {
  addMutations,
  ATOMIC_BASE_BYTES,
  type DocHeader,
  fitsAtomic,
  type IndexMeta,
  keys,
  type LogEntry,
  type Mutation,
  mutationBytes,
  type Tombstone,
} from "./kv_layout.ts";
import { slotOf } from "./slot.ts";

/** Deno KV reads at most this many keys in one `getMany`. */
export const KV_MAX_KEYS_PER_READ = 10;

/** A blob vanished while being read: a write replaced its document meanwhile. */
export class BlobGoneError extends Error {
  override readonly name = "BlobGoneError";
  constructor(id: string, at: number, bytes: number) {
    super(`blob ${id} holds ${at} of ${bytes} bytes`);
  }
}

/** Options of {@linkcode DocumentStore.open}. */
export interface DocumentStoreOptions {
  /** Fault injection: after a read found a blob reference, before it reads the blob. */
  readonly beforeBlobRead?: () => Promise<void>;
}

const decoder = new TextDecoder();

/** One microshard's documents, blobs, index metadata and change log in Deno KV. */
export class DocumentStore {
  readonly #kv: Deno.Kv;
  readonly #beforeBlobRead: (() => Promise<void>) | undefined;

  private constructor(kv: Deno.Kv, options: DocumentStoreOptions) {
    this.#kv = kv;
    this.#beforeBlobRead = options.beforeBlobRead;
  }

  /** Opens (or creates) the KV file at `path`. */
  static async open(path: string, options: DocumentStoreOptions = {}): Promise<DocumentStore> {
    return new DocumentStore(await Deno.openKv(path), options);
  }

  /** Closes the KV file. */
  close(): void {
    this.#kv.close();
  }

  /** The last sequence number committed, and the change log's pruned watermark. */
  async counters(): Promise<{ seq: number; pruned: number }> {
    const [seq, pruned] = await this.#kv.getMany<[number, number]>([keys.seq, keys.pruned]);
    return { seq: seq.value ?? 0, pruned: pruned.value ?? 0 };
  }

  /** Every index's metadata, including indexes being dropped. */
  async *indexMetas(): AsyncIterable<IndexMeta> {
    for await (const entry of this.#kv.list<IndexMeta>({ prefix: keys.indexes })) {
      yield entry.value;
    }
  }

  /** One index's metadata, or `undefined`. */
  async indexMeta(index: string): Promise<IndexMeta | undefined> {
    return (await this.#kv.get<IndexMeta>(keys.index(index))).value ?? undefined;
  }

  /** Writes one index's metadata on its own. */
  async setIndexMeta(meta: IndexMeta): Promise<void> {
    await this.#kv.set(keys.index(meta.name), meta);
  }

  /** Removes one index's metadata (the last step of a drop). */
  async deleteIndexMeta(index: string): Promise<void> {
    await this.#kv.delete(keys.index(index));
  }

  /** A document's header, or `undefined`. */
  async header(index: string, id: string): Promise<DocHeader | undefined> {
    return (await this.#kv.get<DocHeader>(keys.doc(index, id))).value ?? undefined;
  }

  /** The headers of the documents among `ids` that exist. */
  async headers(index: string, ids: readonly string[]): Promise<Map<string, DocHeader>> {
    const [headers] = await this.#getMany(ids, (id) => keys.doc(index, id));
    return headers as Map<string, DocHeader>;
  }

  /**
   * A document's header and its tombstone in one snapshot read (`getMany` is one: a write
   * between two reads could show neither).
   */
  async headerAndTombstone(
    index: string,
    id: string,
  ): Promise<{ header?: DocHeader; tombstone?: Tombstone }> {
    const [header, tombstone] = await this.#kv.getMany<[DocHeader, Tombstone]>([
      keys.doc(index, id),
      keys.tomb(index, id),
    ]);
    return {
      ...(header.value === null ? {} : { header: header.value }),
      ...(tombstone.value === null ? {} : { tombstone: tombstone.value }),
    };
  }

  /** The tombstones of the documents among `ids` that were deleted (and not written since). */
  async tombstones(index: string, ids: readonly string[]): Promise<Map<string, Tombstone>> {
    const [tombstones] = await this.#getMany(ids, (id) => keys.tomb(index, id));
    return tombstones as Map<string, Tombstone>;
  }

  /**
   * The headers and tombstones of `ids`, by id: both keys of an id in the same read (a
   * single write costs one KV read instead of two).
   */
  async headersAndTombstones(
    index: string,
    ids: readonly string[],
  ): Promise<{ headers: Map<string, DocHeader>; tombstones: Map<string, Tombstone> }> {
    const [headers, tombstones] = await this.#getMany(
      ids,
      (id) => keys.doc(index, id),
      (id) => keys.tomb(index, id),
    );
    return {
      headers: headers as Map<string, DocHeader>,
      tombstones: tombstones as Map<string, Tombstone>,
    };
  }

  /**
   * Per key function, the values under its key of the ids that have one, by id; every key of
   * an id is read in the same `getMany` (at most {@linkcode KV_MAX_KEYS_PER_READ} keys each).
   */
  async #getMany(
    ids: readonly string[],
    ...keyOfs: Array<(id: string) => Deno.KvKey>
  ): Promise<Array<Map<string, unknown>>> {
    const found = keyOfs.map(() => new Map<string, unknown>());
    const perRead = Math.floor(KV_MAX_KEYS_PER_READ / keyOfs.length);
    const groups: string[][] = [];
    for (let at = 0; at < ids.length; at += perRead) groups.push(ids.slice(at, at + perRead));
    await Promise.all(groups.map(async (group) => {
      const entries = await this.#kv.getMany<unknown[]>(
        group.flatMap((id) => keyOfs.map((keyOf) => keyOf(id))),
      );
      group.forEach((id, i) => {
        keyOfs.forEach((_, k) => {
          const value = entries[i * keyOfs.length + k]!.value;
          if (value !== null) found[k]!.set(id, value);
        });
      });
    }));
    return found;
  }

  /** The ids of an index's tombstones in one slot, in id order, after `afterId`. */
  async *slotTombstoneIds(index: string, slot: number, afterId?: string): AsyncIterable<string> {
    const prefix = keys.tombSlotDocs(index, slot);
    const selector = afterId === undefined
      ? { prefix }
      : { prefix, start: keys.tombSlot(index, slot, afterId) };
    for await (const entry of this.#kv.list(selector)) {
      const id = entry.key[3] as string;
      if (id !== afterId) yield id;
    }
  }

  /**
   * Deletes the tombstones written before `beforeMs` that `keep` (asked with each one's slot
   * and local write time) does not keep; returns how many.
   */
  async collectTombstones(
    options: {
      readonly beforeMs: number;
      readonly keep?: (slot: number, deletedAtMs: number) => boolean;
    },
  ): Promise<number> {
    let collected = 0;
    const kv = this.#kv;
    async function* units(): AsyncIterable<readonly Mutation[]> {
      for await (const entry of kv.list<Tombstone>({ prefix: ["tomb"] })) {
        const tombstone = entry.value;
        if (tombstone.deletedAtMs >= options.beforeMs) continue;
        if (options.keep?.(tombstone.slot, tombstone.deletedAtMs) === true) continue;
        const [, index, id] = entry.key as [string, string, string];
        collected++;
        yield tombstoneRemoval(index, id, tombstone.slot);
      }
    }
    await this.commitInBatches(units());
    return collected;
  }

  /** Deletes one slot's tombstones of an index (a dropped slot's). */
  async deleteSlotTombstones(index: string, slot: number): Promise<void> {
    const ids = this.slotTombstoneIds(index, slot);
    async function* units(): AsyncIterable<readonly Mutation[]> {
      for await (const id of ids) yield tombstoneRemoval(index, id, slot);
    }
    await this.commitInBatches(units());
  }

  /** Every document of an index with its header, in id order. */
  async *documents(index: string): AsyncIterable<{ id: string; header: DocHeader }> {
    for await (const entry of this.#kv.list<DocHeader>({ prefix: keys.docs(index) })) {
      yield { id: entry.key[2] as string, header: entry.value };
    }
  }

  /** The ids of an index's documents in one slot, in id order, after `afterId` (a range read). */
  async *slotIds(index: string, slot: number, afterId?: string): AsyncIterable<string> {
    const prefix = keys.slotDocs(index, slot);
    const selector = afterId === undefined
      ? { prefix }
      : { prefix, start: keys.slot(index, slot, afterId) };
    for await (const entry of this.#kv.list(selector)) {
      const id = entry.key[3] as string;
      if (id !== afterId) yield id;
    }
  }

  /** How many documents of an index each slot holds (only slots holding some). */
  async slotCounts(index: string): Promise<Map<number, number>> {
    const counts = new Map<number, number>();
    for await (const entry of this.#kv.list({ prefix: keys.slots(index) })) {
      const slot = entry.key[2] as number;
      counts.set(slot, (counts.get(slot) ?? 0) + 1);
    }
    return counts;
  }

  /** The layout version of the directory; 1 when it has no marker (written before slots). */
  async layoutVersion(): Promise<number> {
    return (await this.#kv.get<number>(keys.layout)).value ?? 1;
  }

  /**
   * A document's body. Throws {@linkcode BlobGoneError} when its blob is removed while being
   * read (the document was replaced meanwhile; a blob is never rewritten).
   */
  async body(header: DocHeader): Promise<Record<string, unknown>> {
    if (header.body !== undefined) return JSON.parse(decoder.decode(header.body));
    const blob = header.blob!;
    await this.#beforeBlobRead?.();
    const bytes = new Uint8Array(blob.bytes);
    let at = 0;
    for await (const entry of this.#kv.list<Uint8Array>({ prefix: keys.blob(blob.id) })) {
      bytes.set(entry.value, at);
      at += entry.value.length;
    }
    if (at !== blob.bytes) throw new BlobGoneError(blob.id, at, blob.bytes);
    return JSON.parse(decoder.decode(bytes));
  }

  /** The change-log entries after sequence number `after`, in order. */
  async *logAfter(after: number): AsyncIterable<{ seq: number; entry: LogEntry }> {
    const range = { start: keys.log(after + 1), end: keys.log(Number.MAX_SAFE_INTEGER) };
    for await (const entry of this.#kv.list<LogEntry>(range)) {
      yield { seq: entry.key[1] as number, entry: entry.value };
    }
  }

  /** Commits mutations as one atomic operation; throws when it was not applied. */
  async commit(mutations: readonly Mutation[]): Promise<void> {
    const atomic = this.#kv.atomic();
    addMutations(atomic, mutations);
    const result = await atomic.commit();
    if (!result.ok) throw new Error("the atomic operation was not applied");
  }

  /**
   * Commits units of mutations, in order, packed into as few atomic operations as the
   * budget allows; a unit is never split. `last` goes into the last operation (after every
   * unit), so a watermark it sets moves only once everything before it is committed.
   */
  async commitInBatches(
    units: AsyncIterable<readonly Mutation[]> | Iterable<readonly Mutation[]>,
    last: readonly Mutation[] = [],
  ): Promise<void> {
    let batch: Mutation[] = [];
    let bytes = ATOMIC_BASE_BYTES;
    const add = async (unit: readonly Mutation[]) => {
      const unitBytes = unit.reduce((sum, mutation) => sum + mutationBytes(mutation), 0);
      if (batch.length > 0 && !fitsAtomic(batch.length + unit.length, bytes + unitBytes)) {
        await this.commit(batch);
        batch = [];
        bytes = ATOMIC_BASE_BYTES;
      }
      batch.push(...unit);
      bytes += unitBytes;
    };
    for await (const unit of units) await add(unit);
    await add(last);
    if (batch.length > 0) await this.commit(batch);
  }

  /** Deletes blobs: each one's chunks, then its `pending` and `garbage` markers. */
  async deleteBlobs(blobIds: readonly string[]): Promise<void> {
    const kv = this.#kv;
    async function* units(): AsyncIterable<readonly Mutation[]> {
      for (const blobId of blobIds) {
        for await (const entry of kv.list({ prefix: keys.blob(blobId) })) {
          yield [{ type: "delete", key: entry.key }];
        }
        // The markers go last: a crash meanwhile leaves them, and the next open retries.
        yield [
          { type: "delete", key: keys.pending(blobId) },
          { type: "delete", key: keys.garbage(blobId) },
        ];
      }
    }
    await this.commitInBatches(units());
  }

  /** Deletes every blob marked `pending` (half-written) or `garbage`; returns how many. */
  async collectBlobs(): Promise<number> {
    const blobIds: string[] = [];
    for (const prefix of [keys.pendings, keys.garbages]) {
      for await (const entry of this.#kv.list({ prefix })) blobIds.push(entry.key[1] as string);
    }
    await this.deleteBlobs(blobIds);
    return blobIds.length;
  }

  /**
   * Deletes every document of an index. A document's blob is marked `garbage` in the same
   * atomic operation that deletes its header, then every garbage blob is collected.
   */
  async deleteDocuments(index: string): Promise<void> {
    const documents = this.documents(index);
    async function* units(): AsyncIterable<readonly Mutation[]> {
      for await (const { id, header } of documents) {
        const unit: Mutation[] = [
          { type: "delete", key: keys.doc(index, id) },
          { type: "delete", key: keys.slot(index, header.slot ?? slotOf(id), id) },
        ];
        if (header.blob !== undefined) unit.push(garbageMark(header.blob));
        yield unit;
      }
    }
    await this.commitInBatches(units());
    await this.collectBlobs();
    const kv = this.#kv;
    async function* tombstones(): AsyncIterable<readonly Mutation[]> {
      for (const prefix of [keys.tombs(index), keys.tombSlots(index)]) {
        for await (const entry of kv.list({ prefix })) yield [{ type: "delete", key: entry.key }];
      }
    }
    await this.commitInBatches(tombstones());
  }

  /** Deletes the change-log entries up to `through`, then moves the pruned watermark. */
  async pruneLog(pruned: number, through: number): Promise<void> {
    const kv = this.#kv;
    async function* units(): AsyncIterable<readonly Mutation[]> {
      const range = { start: keys.log(pruned + 1), end: keys.log(through + 1) };
      for await (const entry of kv.list(range)) yield [{ type: "delete", key: entry.key }];
    }
    // The watermark moves only after the entries are gone.
    await this.commitInBatches(units(), [{
      type: "set",
      key: keys.pruned,
      value: through,
      bytes: NUMBER_VALUE_BYTES,
    }]);
  }
}

/** The mutations that remove one tombstone and its slot entry. */
export function tombstoneRemoval(index: string, id: string, slot: number): Mutation[] {
  return [
    { type: "delete", key: keys.tomb(index, id) },
    { type: "delete", key: keys.tombSlot(index, slot, id) },
  ];
}

/** The budgeted size of a number value, in bytes. */
export const NUMBER_VALUE_BYTES = 8;

/** The mutation that marks a blob as no longer referenced. */
export function garbageMark(blob: { readonly id: string; readonly chunks: number }): Mutation {
  return { type: "set", key: keys.garbage(blob.id), value: blob.chunks, bytes: NUMBER_VALUE_BYTES };
}
