/**
 * The ShardReaderActor: point reads (`get`) of one or more microshards, answered from KV
 * handles of its own — in the main isolate (a node's default, `storage.point_reads`) or in a
 * worker of its own — so a point read never waits behind a shard's write batch: its KV
 * commits, the synchronous FTS5 apply slices, the structured clone of a large bulk, which
 * all run in the shard's worker.
 *
 * Deno KV is SQLite in WAL mode: a second connection to a shard's `kv.sqlite` reads the
 * last committed state without taking the writer's lock, so a write acknowledged by the
 * shard is seen by the next read here (KV is the source of truth; a document's header is
 * read in one KV call and a blob is never rewritten, only removed — a read that finds its
 * blob gone meanwhile reads the header again, at most {@linkcode MAX_BLOB_GONE_RETRIES}
 * times). The reader never writes. It opens its handles only after the shards have opened
 * (recovery may rewrite KV at open; a shard worker restarted later recovers under the open
 * reader, which then reads what the recovery left).
 *
 * @example Spawn a reader for two shards in this isolate and read a document
 * ```ts ignore
 * const reader = system.spawn<ShardReaderMsg, ShardReaderReplies>(
 *   () => createActor({ dirs: ["./data/shard-0", "./data/shard-1"] }),
 *   { name: "reader-main" },
 * );
 * const doc = await reader.ask({ type: "get", shard: 1, index: "books", id: "b1" });
 * ```
 *
 * @module
 */

import type { Actor } from "../actors/types.ts";
import { BlobGoneError, DocumentStore } from "./_document_store.ts";
import { readDocument } from "./_shard_reads.ts";
import type { StoredDocument } from "./_shard_types.ts";

/** Times a read is retried when a write removed its blob meanwhile. */
export const MAX_BLOB_GONE_RETRIES = 8;

/** Arguments of a reader: the directories of the shards it reads, by position. */
export interface ShardReaderOptions {
  /** `dirs[i]` is the directory of the reader's shard number `i` (as `get.shard` names it). */
  readonly dirs: readonly string[];
}

/** Messages of the ShardReaderActor. */
export type ShardReaderMsg = {
  type: "get";
  /** Position of the shard in the reader's `dirs`. */
  shard: number;
  index: string;
  id: string;
};

/** Replies of the ShardReaderActor. */
export type ShardReaderReplies = { get: StoredDocument | null };

/** Builds the actor; the worker host calls this with the spawn's `args`. */
export function createActor(
  options: ShardReaderOptions,
): Actor<ShardReaderMsg, ShardReaderReplies> {
  let stores: DocumentStore[] = [];
  return {
    async onStart() {
      // Every handle that opened is closed when one did not (the actor is then restarted).
      const opened = await Promise.allSettled(
        options.dirs.map((dir) => DocumentStore.open(`${dir}/kv.sqlite`)),
      );
      const failed = opened.find((result) => result.status === "rejected");
      if (failed !== undefined) {
        for (const result of opened) if (result.status === "fulfilled") result.value.close();
        throw failed.reason;
      }
      stores = opened.map((result) => (result as PromiseFulfilledResult<DocumentStore>).value);
    },
    onStop() {
      for (const store of stores) store.close();
      stores = [];
    },
    receive(msg, ctx) {
      const store = stores[msg.shard];
      if (store === undefined) throw new RangeError(`this reader holds no shard ${msg.shard}`);
      // Detached: many reads wait on KV at once.
      return ctx.detach(readRetrying(store, msg.index, msg.id));
    },
  };
}

/** Reads a document, again when a write removed its blob while it was read. */
async function readRetrying(
  store: DocumentStore,
  index: string,
  id: string,
): Promise<StoredDocument | null> {
  for (let attempt = 0;; attempt++) {
    try {
      return (await readDocument({ store }, index, id)) ?? null;
    } catch (error) {
      if (!(error instanceof BlobGoneError) || attempt >= MAX_BLOB_GONE_RETRIES) throw error;
    }
  }
}
