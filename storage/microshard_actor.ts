/**
 * The MicroshardActor: one microshard behind an actor, spawned in a Web Worker so that
 * Deno KV and indexing never run on the main isolate.
 *
 * Group commit: when a `write` arrives, the actor takes every `write` queued right behind
 * it (up to {@linkcode MAX_GROUP_COMMIT_REQUESTS} requests) and runs them as one store
 * batch — one pass of validation, as few KV atomic operations as fit, one index
 * transaction — then answers each sender with its own outcomes. Under load the batches
 * grow by themselves; alone, a write is committed at once (adaptive batching). The schemas
 * the messages carry (planned by the node) are merged: per index the highest version, which
 * holds every older one because the node serializes schema changes.
 *
 * @example Spawn a microshard in a worker
 * ```ts ignore
 * const shard = await system.spawnWorker<MicroshardMsg, MicroshardReplies>(
 *   new URL("./microshard_actor.ts", import.meta.url),
 *   { name: "shard-0", args: { dir: "./data/shard-0" } },
 * );
 * await shard.ask({ type: "write", requests: [{ op: "put", index: "books", id: "b1", doc: {} }] });
 * ```
 *
 * @module
 */

import type { Actor } from "../actors/types.ts";
import {
  type CarriedSchemas,
  type IndexInfo,
  Microshard,
  type MicroshardOptions,
  type RecoveryReport,
  type ShardSearchResult,
  type StoredDocument,
  type WriteOutcome,
  type WriteRequest,
} from "./microshard.ts";
import type { Schema } from "./schema.ts";
import type { EngineName, FacetSpec, Plan, SortSpec } from "./search_index.ts";

/** Most write requests one group commit takes. */
export const MAX_GROUP_COMMIT_REQUESTS = 5_000;
/** Most queued `write` messages one group commit takes besides the one at hand. */
export const MAX_GROUP_COMMIT_MESSAGES = 1_000;

/** Messages of the MicroshardActor. */
export type MicroshardMsg =
  | {
    type: "write";
    requests: WriteRequest[];
    /** Per index, the schema the node planned for these requests (see `WriteOptions`). */
    schemas?: Record<string, { schema: Schema; engine: EngineName }>;
  }
  | { type: "get"; index: string; id: string }
  | {
    type: "search";
    index: string;
    plan: Plan;
    limit: number;
    offset: number;
    sort?: SortSpec[];
    facets?: FacetSpec[];
  }
  | {
    type: "configure";
    index: string;
    config: {
      fields?: Array<{ name: string; type: string }>;
      engine?: string;
      description?: string;
    };
  }
  | { type: "dropIndex"; index: string }
  | { type: "indexes" }
  | { type: "stats" };

/** Replies of the MicroshardActor. */
export type MicroshardReplies = {
  write: WriteOutcome[];
  get: StoredDocument | null;
  search: ShardSearchResult;
  configure: IndexInfo;
  dropIndex: boolean;
  indexes: IndexInfo[];
  stats: { seq: number; writeBatches: number; recovery: RecoveryReport };
};

/** Builds the actor; the worker host calls this with the spawn's `args`. */
export function createActor(options: MicroshardOptions): Actor<MicroshardMsg, MicroshardReplies> {
  let shard: Microshard | undefined;
  const open = () => {
    if (shard === undefined) throw new Error("the microshard is not open");
    return shard;
  };
  return {
    async onStart() {
      shard = await Microshard.open(options);
    },
    async onStop() {
      await shard?.close();
      shard = undefined;
    },
    async receive(msg, ctx) {
      switch (msg.type) {
        case "write": {
          const followers = ctx.takeWhile(
            (next) => next.type === "write",
            MAX_GROUP_COMMIT_MESSAGES,
          );
          const messages = [msg, ...followers.map((taken) => taken.msg as WriteMsg)];
          const outcomes = await writeInGroups(
            open(),
            messages.map((message) => message.requests),
            { schemas: mergeSchemas(messages.map((message) => message.schemas)) },
          );
          followers.forEach((taken, i) => taken.reply(outcomes[i + 1]));
          return outcomes[0]!;
        }
        // Reads are detached: they run beside the write batches instead of behind them.
        case "get":
          return ctx.detach(open().get(msg.index, msg.id).then((doc) => doc ?? null));
        case "search":
          return ctx.detach(
            open().search(msg.index, msg.plan, {
              limit: msg.limit,
              offset: msg.offset,
              ...(msg.sort === undefined ? {} : { sort: msg.sort }),
              ...(msg.facets === undefined ? {} : { facets: msg.facets }),
            }),
          );
        case "configure":
          return await open().configure(msg.index, msg.config);
        case "dropIndex":
          return await open().dropIndex(msg.index);
        case "indexes":
          return open().indexes();
        case "stats": {
          const s = open();
          return { seq: s.seq, writeBatches: s.writeBatches, recovery: s.recovery };
        }
      }
    },
  };
}

type WriteMsg = Extract<MicroshardMsg, { type: "write" }>;

/** The carried schemas of several messages: per index, the one of the highest version. */
export function mergeSchemas(
  carried: ReadonlyArray<WriteMsg["schemas"]>,
): CarriedSchemas | undefined {
  let merged: Record<string, { schema: Schema; engine: EngineName }> | undefined;
  for (const schemas of carried) {
    for (const [index, entry] of Object.entries(schemas ?? {})) {
      merged ??= {};
      const known = merged[index];
      if (known === undefined || entry.schema.version > known.schema.version) {
        merged[index] = entry;
      }
    }
  }
  return merged;
}

/**
 * Runs batches of requests (one per message) as few store batches as
 * {@linkcode MAX_GROUP_COMMIT_REQUESTS} allows; outcomes per batch. Requests beyond the cap
 * go in further store batches of the same turn; one batch over the cap is written in
 * slices and answered as one.
 */
async function writeInGroups(
  shard: Microshard,
  batches: readonly WriteRequest[][],
  options: { readonly schemas: CarriedSchemas | undefined },
): Promise<WriteOutcome[][]> {
  const writeOptions = options.schemas === undefined ? {} : { schemas: options.schemas };
  const results: WriteOutcome[][] = [];
  let group: WriteRequest[][] = [];
  let size = 0;
  const flush = async () => {
    if (group.length === 0) return;
    const outcomes = await shard.write(group.flat(), writeOptions);
    let at = 0;
    for (const batch of group) {
      results.push(outcomes.slice(at, at + batch.length));
      at += batch.length;
    }
    group = [];
    size = 0;
  };
  for (const batch of batches) {
    if (size + batch.length > MAX_GROUP_COMMIT_REQUESTS) await flush();
    if (batch.length > MAX_GROUP_COMMIT_REQUESTS) {
      const outcomes: WriteOutcome[] = [];
      for (let at = 0; at < batch.length; at += MAX_GROUP_COMMIT_REQUESTS) {
        const slice = batch.slice(at, at + MAX_GROUP_COMMIT_REQUESTS);
        outcomes.push(...await shard.write(slice, writeOptions));
      }
      results.push(outcomes);
      continue;
    }
    group.push(batch);
    size += batch.length;
  }
  await flush();
  return results;
}
