/**
 * The MicroshardActor: one microshard behind an actor, spawned in a Web Worker so that
 * Deno KV and indexing never run on the main isolate.
 *
 * Group commit: writes (and schema changes and drops) go to one serial queue, off the
 * actor's loop so that reads are received while a batch runs; when a batch starts it takes
 * every `write` queued right behind it (up to {@linkcode MAX_GROUP_COMMIT_REQUESTS}
 * requests) and runs them as one store batch — one pass of validation, as few KV atomic operations as fit, one index
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
import type { EngineName, FacetSpec, Plan, SortSpec } from "./search_index.ts";
import type { Schema } from "./schema.ts";

/** Most write requests one group commit takes. */
export const MAX_GROUP_COMMIT_REQUESTS = 5_000;

/** Messages of the MicroshardActor. */
export type MicroshardMsg =
  | {
    type: "write";
    requests: WriteRequest[];
    /** The node's schema of each index the requests write to (planned once, at the node). */
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
  const serial = new SerialQueue(() => open());
  return {
    async onStart() {
      shard = await Microshard.open(options);
    },
    async onStop() {
      await shard?.close();
      shard = undefined;
    },
    receive(msg, ctx) {
      switch (msg.type) {
        // Writes, schema changes and drops run one at a time, in arrival order, off the
        // actor's loop (so reads are received while a batch runs); queued writes coalesce.
        case "write":
          return ctx.detach(serial.write(msg.requests));
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
          return ctx.detach(serial.run(() => open().configure(msg.index, msg.config)));
        case "dropIndex":
          return ctx.detach(serial.run(() => open().dropIndex(msg.index)));
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

/** One job of the shard's serial queue. */
type Job =
  | {
    readonly kind: "write";
    readonly requests: WriteRequest[];
    readonly settle: PromiseWithResolvers<WriteOutcome[]>;
  }
  | {
    readonly kind: "run";
    readonly run: () => Promise<unknown>;
    readonly settle: PromiseWithResolvers<unknown>;
  };

/**
 * The shard's exclusive work in arrival order: write batches (consecutive writes coalesce
 * into one group commit, up to {@linkcode MAX_GROUP_WRITE_MESSAGES} messages), schema
 * changes and drops. It drains itself while jobs wait; nothing polls.
 */
class SerialQueue {
  readonly #jobs: Job[] = [];
  readonly #shard: () => Microshard;
  #draining = false;

  constructor(shard: () => Microshard) {
    this.#shard = shard;
  }

  write(requests: WriteRequest[]): Promise<WriteOutcome[]> {
    const settle = Promise.withResolvers<WriteOutcome[]>();
    this.#jobs.push({ kind: "write", requests, settle });
    this.#drain();
    return settle.promise;
  }

  run<T>(run: () => Promise<T>): Promise<T> {
    const settle = Promise.withResolvers<unknown>();
    this.#jobs.push({ kind: "run", run, settle });
    this.#drain();
    return settle.promise as Promise<T>;
  }

  async #drain(): Promise<void> {
    if (this.#draining) return;
    this.#draining = true;
    try {
      while (this.#jobs.length > 0) await this.#next();
    } finally {
      this.#draining = false;
    }
  }

  async #next(): Promise<void> {
    const head = this.#jobs[0]!;
    if (head.kind === "run") {
      this.#jobs.shift();
      await head.run().then(head.settle.resolve, head.settle.reject);
      return;
    }
    let count = 0;
    while (
      count < this.#jobs.length && count < MAX_GROUP_WRITE_MESSAGES &&
      this.#jobs[count]!.kind === "write"
    ) count++;
    const group = this.#jobs.splice(0, count) as Array<Extract<Job, { kind: "write" }>>;
    const total = group.reduce((sum, job) => sum + job.requests.length, 0);
    try {
      const outcomes = await writeInGroups(this.#shard(), group.map((job) => job.requests), total);
      group.forEach((job, i) => job.settle.resolve(outcomes[i]!));
    } catch (error) {
      for (const job of group) job.settle.reject(error);
    }
  }
}

/** Write messages one group commit takes at most. */
const MAX_GROUP_WRITE_MESSAGES = 1_000;

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
