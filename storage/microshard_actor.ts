/**
 * The MicroshardActor: one microshard behind an actor, spawned in a Web Worker so that
 * Deno KV and indexing never run on the main isolate.
 *
 * Group commit: when a `write` arrives, the actor takes every `write` queued right behind
 * it (up to {@linkcode MAX_GROUP_COMMIT_REQUESTS} requests) and runs them as one store
 * batch — one pass of validation, as few KV atomic operations as fit, one index
 * transaction — then answers each sender with its own outcomes. Under load the batches
 * grow by themselves; alone, a write is committed at once (adaptive batching).
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
  type IndexInfo,
  Microshard,
  type MicroshardOptions,
  type RecoveryReport,
  type ShardSearchResult,
  type StoredDocument,
  type WriteOutcome,
  type WriteRequest,
} from "./microshard.ts";
import type { FacetSpec, Plan, SortSpec } from "./search_index.ts";

/** Most write requests one group commit takes. */
export const MAX_GROUP_COMMIT_REQUESTS = 5_000;

/** Messages of the MicroshardActor. */
export type MicroshardMsg =
  | { type: "write"; requests: WriteRequest[] }
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
          const followers = ctx.takeWhile((next) => next.type === "write", 1_000);
          const batches = [msg.requests];
          let total = msg.requests.length;
          // Requests beyond the cap go in a second store batch of the same turn.
          for (const taken of followers) {
            batches.push((taken.msg as Extract<MicroshardMsg, { type: "write" }>).requests);
            total += batches[batches.length - 1]!.length;
          }
          const outcomes = await writeInGroups(open(), batches, total);
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

/** Runs batches of requests as few store batches as the cap allows; outcomes per batch. */
async function writeInGroups(
  shard: Microshard,
  batches: WriteRequest[][],
  total: number,
): Promise<WriteOutcome[][]> {
  if (total <= MAX_GROUP_COMMIT_REQUESTS) {
    const outcomes = await shard.write(batches.flat());
    const split: WriteOutcome[][] = [];
    let at = 0;
    for (const batch of batches) {
      split.push(outcomes.slice(at, at + batch.length));
      at += batch.length;
    }
    return split;
  }
  const results: WriteOutcome[][] = [];
  let group: WriteRequest[][] = [];
  let size = 0;
  const flush = async () => {
    if (group.length === 0) return;
    results.push(...await writeInGroups(shard, group, size));
    group = [];
    size = 0;
  };
  for (const batch of batches) {
    if (size + batch.length > MAX_GROUP_COMMIT_REQUESTS) await flush();
    if (batch.length > MAX_GROUP_COMMIT_REQUESTS) {
      // One sender's batch over the cap: written in slices, answered as one.
      const outcomes: WriteOutcome[] = [];
      for (let at = 0; at < batch.length; at += MAX_GROUP_COMMIT_REQUESTS) {
        outcomes.push(...await shard.write(batch.slice(at, at + MAX_GROUP_COMMIT_REQUESTS)));
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
