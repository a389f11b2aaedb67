/**
 * The MicroshardActor: one microshard behind an actor, spawned in a Web Worker so that
 * Deno KV and indexing never run on the main isolate.
 *
 * Group commit: writes (and schema changes and drops) go to one serial queue that runs off
 * the actor's loop, so reads are received while a batch runs; when a write batch starts it
 * takes every `write` queued right behind it (up to {@linkcode MAX_GROUP_COMMIT_REQUESTS}
 * requests) and runs them as one store batch — one pass of validation, as few KV atomic operations as fit, one index
 * transaction — then answers each sender with its own outcomes. Under load the batches
 * grow by themselves; alone, a write is committed at once (adaptive batching) — or, with a
 * commit window (`storage.wal_sync = "batch"`), after the window, joined by the writes that
 * arrived during it; either way a write is answered only once its commit is durable. The schemas
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

import { ShardChanges } from "./shard_changes.ts";
import { lowerThreadPriority } from "../actors/thread_priority.ts";
import type { Actor, Taken } from "../actors/types.ts";
import {
  type CarriedSchemas,
  type IndexInfo,
  Microshard,
  type MicroshardOptions,
  type RecoveryReport,
  type ShardSearchResult,
  type SlotPage,
  type SlotTombstonePage,
  type StampedRead,
  type StoredDocument,
  type WriteOutcome,
  type WriteRequest,
} from "./microshard.ts";
import type { Schema } from "./schema.ts";
import type { Bm25Params, CorpusStats } from "./bm25.ts";
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
    /** The outcomes carry each change's stamp (see `WriteOptions.withStamps`). */
    withStamps?: boolean;
  }
  | { type: "get"; index: string; id: string }
  /** A document with its stamp, or its tombstone: what replicas compare. */
  | { type: "getStamped"; index: string; id: string }
  | {
    type: "search";
    index: string;
    plan: Plan;
    limit: number;
    offset: number;
    sort?: SortSpec[];
    facets?: FacetSpec[];
    /** The index-wide statistics to score with. */
    stats?: CorpusStats;
    /** Answer only this shard's part of the statistics. */
    statsOnly?: boolean;
    /** The hits without their documents (the node reads the merged page's). */
    withoutDocs?: boolean;
    /** When the search must stop (epoch ms). */
    deadlineAtMs?: number;
    /** BM25's `k1`, `b` and field boosts to score with. */
    ranking?: Bm25Params;
  }
  | {
    type: "configure";
    index: string;
    config: {
      fields?: Array<{ name: string; type: string }>;
      engine?: string;
      description?: string;
      /** BM25's `k1`, `b` and field boosts. */
      ranking?: Bm25Params;
      /** Declared fields may change type; the engine is rebuilt from KV. */
      retype?: boolean;
    };
  }
  /** The first stored document that does not fit `schema` (before a retype). */
  | { type: "checkSchema"; index: string; schema: Schema }
  | { type: "dropIndex"; index: string }
  | { type: "indexes" }
  | { type: "stats" }
  /** A page of one slot's documents (see `Microshard.slotPage`). */
  | { type: "slotPage"; index: string; slot: number; afterId?: string; limit: number }
  /** Per slot holding documents of `index`, how many: `[slot, count]` pairs. */
  | { type: "slotCounts"; index: string }
  /** Deletes one slot's documents of `index` (see `Microshard.dropSlot`). */
  | { type: "dropSlot"; index: string; slot: number }
  /** A page of one slot's tombstones (see `Microshard.slotTombstones`). */
  | { type: "slotTombstones"; index: string; slot: number; afterId?: string; limit: number }
  /** Keeps these slots' tombstones whatever their age (see `Microshard.holdSlots`). */
  | { type: "holdSlots"; slots: number[] }
  /** Collects the tombstones past their grace (see `Microshard.collectTombstones`). */
  | { type: "collectTombstones" }
  /** The slots' tombstone horizons, then a collection if due (see `Microshard.setTombstoneHorizons`). */
  | { type: "tombstoneHorizons"; horizons: Array<[number, number]> };

/** Replies of the MicroshardActor. */
export type MicroshardReplies = {
  write: WriteOutcome[];
  get: StoredDocument | null;
  getStamped: StampedRead;
  search: ShardSearchResult;
  configure: IndexInfo;
  checkSchema: { id: string; message: string } | null;
  dropIndex: boolean;
  indexes: IndexInfo[];
  stats: {
    seq: number;
    writeBatches: number;
    recovery: RecoveryReport;
    /** Tombstones collected since the shard opened. */
    tombstonesCollected: number;
  };
  slotPage: SlotPage;
  slotCounts: Array<[number, number]>;
  dropSlot: number;
  slotTombstones: SlotTombstonePage;
  holdSlots: true;
  collectTombstones: number;
  tombstoneHorizons: number;
};

/**
 * Arguments of a shard worker: the microshard's options (without `faults`, which cannot
 * cross into a worker) and, for tests, a gate in shared memory that holds the worker's
 * thread at every engine apply while `applyGate[0]` is 1 — as a long synchronous FTS5
 * apply would (it sets `applyGate[1]` to 1 when it holds).
 */
export type MicroshardActorArgs = MicroshardOptions & {
  readonly applyGate?: Int32Array;
  /**
   * `storage.wal_sync = "batch"`: how long, in ms, a write batch waits before it starts, so
   * that writes arriving meanwhile share its commit (0 or absent: it starts at once, and
   * writes arriving meanwhile join the next batch).
   */
  readonly commitWindowMs?: number;
  /**
   * The niceness the worker's thread takes at start (`storage.shard_worker_niceness`): above
   * 0, the threads answering requests get a core before a shard's bulk apply does.
   */
  readonly niceness?: number;
  /**
   * The node's shared change counters and this shard's number in them: every change of the
   * shard's contents (writes, schema changes, drops, the recovery at start) is
   * counted, so the main isolate can tell whether anything changed since it last asked.
   */
  readonly changes?: { readonly buffer: SharedArrayBuffer; readonly shard: number };
};

/** Builds the actor; the worker host calls this with the spawn's `args`. */
export function createActor(args: MicroshardActorArgs): Actor<MicroshardMsg, MicroshardReplies> {
  const { applyGate, commitWindowMs, niceness, changes, ...rest } = args;
  const options: MicroshardOptions = applyGate === undefined ? rest : {
    ...rest,
    faults: { ...rest.faults, beforeIndexApply: () => holdAt(applyGate) },
  };
  let shard: Microshard | undefined;
  const open = () => {
    if (shard === undefined) throw new Error("the microshard is not open");
    return shard;
  };
  const serial = new SerialQueue(() => open(), commitWindowMs ?? 0);
  const counters = changes === undefined ? undefined : ShardChanges.of(changes.buffer);
  const changing = <T>(change: () => Promise<T>): Promise<T> =>
    counters === undefined ? change() : counters.during(changes!.shard, change);
  /** Exclusive work that changes what the shard holds (a schema change, a drop). */
  const exclusive = <T>(run: () => Promise<T>): Promise<T> => changing(() => serial.run(run));
  return {
    async onStart() {
      if (niceness !== undefined && niceness > 0) lowerThreadPriority(niceness);
      counters?.restarted(changes!.shard);
      shard = await changing(() => Microshard.open(options));
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
          serial.takeQueued = (max) => ctx.takeWhile((next) => next.type === "write", max);
          return ctx.detach(changing(() => serial.write(msg)));
        // Reads are detached: they run beside the write batches instead of behind them.
        case "get":
          return ctx.detach(open().get(msg.index, msg.id).then((doc) => doc ?? null));
        case "getStamped":
          return ctx.detach(open().getStamped(msg.index, msg.id));
        case "search":
          return ctx.detach(
            open().search(msg.index, msg.plan, {
              limit: msg.limit,
              offset: msg.offset,
              ...(msg.sort === undefined ? {} : { sort: msg.sort }),
              ...(msg.facets === undefined ? {} : { facets: msg.facets }),
              ...(msg.stats === undefined ? {} : { stats: msg.stats }),
              ...(msg.statsOnly === undefined ? {} : { statsOnly: msg.statsOnly }),
              ...(msg.withoutDocs === undefined ? {} : { withoutDocs: msg.withoutDocs }),
              ...(msg.deadlineAtMs === undefined ? {} : { deadlineAtMs: msg.deadlineAtMs }),
              ...(msg.ranking === undefined ? {} : { ranking: msg.ranking }),
            }),
          );
        case "configure":
          return ctx.detach(exclusive(() => open().configure(msg.index, msg.config)));
        case "slotPage":
          return ctx.detach(
            open().slotPage(msg.index, msg.slot, {
              limit: msg.limit,
              ...(msg.afterId === undefined ? {} : { afterId: msg.afterId }),
            }),
          );
        case "slotCounts":
          return ctx.detach(open().slotCounts(msg.index).then((counts) => [...counts]));
        case "dropSlot":
          return ctx.detach(exclusive(() => open().dropSlot(msg.index, msg.slot)));
        case "slotTombstones":
          return ctx.detach(
            open().slotTombstones(msg.index, msg.slot, {
              limit: msg.limit,
              ...(msg.afterId === undefined ? {} : { afterId: msg.afterId }),
            }),
          );
        // Which slots a search leaves out changes no statistics (they are the whole index's):
        // not counted, or every slot-table flush in a cluster would drop the kept statistics.
        case "holdSlots":
          open().holdSlots(msg.slots);
          return true;
        // Tombstones are not what searches see: not counted as changes.
        case "collectTombstones":
          return ctx.detach(serial.run(() => open().collectTombstones()));
        case "tombstoneHorizons":
          return ctx.detach(serial.run(() => open().setTombstoneHorizons(msg.horizons)));
        case "checkSchema":
          return ctx.detach(
            serial.run(() => open().checkSchema(msg.index, msg.schema)).then((m) => m ?? null),
          );
        case "dropIndex":
          return ctx.detach(exclusive(() => open().dropIndex(msg.index)));
        case "indexes":
          return open().indexes();
        case "stats": {
          const s = open();
          return {
            seq: s.seq,
            writeBatches: s.writeBatches,
            recovery: s.recovery,
            tombstonesCollected: s.tombstonesCollected,
          };
        }
      }
    },
  };
}

/** Blocks the worker's thread while `gate[0]` is 1 (see {@linkcode MicroshardActorArgs}). */
function holdAt(gate: Int32Array): void {
  if (Atomics.load(gate, 0) !== 1) return;
  Atomics.store(gate, 1, 1);
  Atomics.notify(gate, 1);
  Atomics.wait(gate, 0, 1);
}

type WriteMsg = Extract<MicroshardMsg, { type: "write" }>;

/** One job of the shard's serial queue. */
type Job =
  | {
    readonly kind: "write";
    readonly msg: WriteMsg;
    readonly settle: PromiseWithResolvers<WriteOutcome[]>;
  }
  | {
    readonly kind: "run";
    readonly run: () => Promise<unknown>;
    readonly settle: PromiseWithResolvers<unknown>;
  };

/**
 * The shard's exclusive work in arrival order: write batches (consecutive writes coalesce
 * into one group commit, up to {@linkcode MAX_GROUP_COMMIT_MESSAGES} messages, their carried
 * schemas merged), schema changes and drops. It runs off the actor's loop, so reads are
 * received and answered while a batch runs, and drains itself while jobs wait; nothing polls.
 */
class SerialQueue {
  readonly #jobs: Job[] = [];
  readonly #shard: () => Microshard;
  readonly #commitWindowMs: number;
  #draining = false;
  /** Takes write messages still in the actor's mailbox, to join the batch that starts. */
  takeQueued: (max: number) => Array<Taken<MicroshardMsg>> = () => [];

  constructor(shard: () => Microshard, commitWindowMs: number) {
    this.#shard = shard;
    this.#commitWindowMs = commitWindowMs;
  }

  /** Queues a write message; answers its outcomes. */
  write(msg: WriteMsg): Promise<WriteOutcome[]> {
    const settle = Promise.withResolvers<WriteOutcome[]>();
    this.#jobs.push({ kind: "write", msg, settle });
    this.#drain();
    return settle.promise;
  }

  /** Queues other exclusive work (a schema change, a drop). */
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
    if (this.#commitWindowMs > 0) {
      // The commit window: writes received meanwhile queue behind the head and join it.
      await new Promise((resolve) => setTimeout(resolve, this.#commitWindowMs));
    }
    let count = 0;
    while (
      count < this.#jobs.length && count < MAX_GROUP_COMMIT_MESSAGES &&
      this.#jobs[count]!.kind === "write"
    ) count++;
    const group = this.#jobs.splice(0, count) as Array<Extract<Job, { kind: "write" }>>;
    if (this.#jobs.length === 0 && count < MAX_GROUP_COMMIT_MESSAGES) {
      // Writes still in the mailbox come after every queued job: they join this batch.
      for (const taken of this.takeQueued(MAX_GROUP_COMMIT_MESSAGES - count)) {
        const settle = Promise.withResolvers<WriteOutcome[]>();
        settle.promise.then((outcomes) => taken.reply(outcomes), (error) => taken.fail(error));
        group.push({ kind: "write", msg: taken.msg as WriteMsg, settle });
      }
    }
    try {
      const outcomes = await writeInGroups(
        this.#shard(),
        group.map((job) => job.msg.requests),
        { schemas: mergeSchemas(group.map((job) => job.msg.schemas)) },
      );
      group.forEach((job, i) =>
        job.settle.resolve(job.msg.withStamps === true ? outcomes[i]! : withoutStamps(outcomes[i]!))
      );
    } catch (error) {
      for (const job of group) job.settle.reject(error);
    }
  }
}

/** Outcomes without their stamps (for the messages that did not ask for them). */
function withoutStamps(outcomes: WriteOutcome[]): WriteOutcome[] {
  return outcomes.map((outcome) => {
    if (!outcome.ok || outcome.stamp === undefined) return outcome;
    const { stamp: _stamp, ...rest } = outcome;
    return rest;
  });
}

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
  const writeOptions = {
    withStamps: true,
    ...(options.schemas === undefined ? {} : { schemas: options.schemas }),
  };
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
