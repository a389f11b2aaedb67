/**
 * The NodeOrchestrator's workers: the shard workers (one MicroshardActor per microshard,
 * their count fixed in `shards.json` when the node first starts) and the reader workers that
 * answer point reads from KV handles of their own (reader `r` holds shards `r`, `r + n`, …).
 *
 * @module
 */

import type { ActorSystem } from "../actors/system.ts";
import type { ActorRef, Supervision } from "../actors/types.ts";
import type {
  MicroshardActorArgs,
  MicroshardMsg,
  MicroshardReplies,
} from "../storage/microshard_actor.ts";
import { ShardChanges } from "../storage/shard_changes.ts";
import {
  createActor as createReader,
  type ShardReaderMsg,
  type ShardReaderReplies,
} from "../storage/shard_reader_actor.ts";
import {
  DEFAULT_POINT_READS,
  DEFAULT_READER_WORKERS,
  DEFAULT_SHARD_NICENESS,
  type OrchestratorOptions,
} from "./_orchestrator_options.ts";

const SHARD_MODULE = new URL("../storage/microshard_actor.ts", import.meta.url);
const READER_MODULE = new URL("../storage/shard_reader_actor.ts", import.meta.url);
/** Messages a reader worker's mailbox holds. */
const READER_MAILBOX_CAPACITY = 4_096;
/** Messages a shard worker's mailbox holds. */
const SHARD_MAILBOX_CAPACITY = 4_096;
/** A worker that fails is restarted, at most 5 times a minute. */
const WORKER_SUPERVISION: Partial<Supervision> = {
  policy: "permanent",
  restartLimit: { count: 5, withinMs: 60_000 },
};

/** A shard worker. */
export type ShardRef = ActorRef<MicroshardMsg, MicroshardReplies>;
/** A reader worker. */
export type ReaderRef = ActorRef<ShardReaderMsg, ShardReaderReplies>;

/**
 * Spawns the shard workers (supervised by `system`), as many as `shards.json` says, with
 * the change counters they share with this isolate.
 */
export async function spawnShards(
  system: ActorSystem,
  options: OrchestratorOptions,
): Promise<{ shards: ShardRef[]; changes: ShardChanges }> {
  await Deno.mkdir(`${options.dataDir}/shards`, { recursive: true });
  const count = await shardCountOf(options.dataDir, options.numShards);
  const changes = ShardChanges.create(count);
  const shards = await Promise.all(Array.from(
    { length: count },
    (_, i) =>
      system.spawnWorker<MicroshardMsg, MicroshardReplies>(SHARD_MODULE, {
        name: `shard-${i}`,
        args: shardArgs(options, i, changes),
        mailboxCapacity: SHARD_MAILBOX_CAPACITY,
        supervision: WORKER_SUPERVISION,
      }),
  ));
  return { shards, changes };
}

/** What shard worker `i` is started with. */
function shardArgs(
  options: OrchestratorOptions,
  i: number,
  changes: ShardChanges,
): MicroshardActorArgs {
  return {
    dir: shardDir(options.dataDir, i),
    changes: { buffer: changes.buffer, shard: i },
    ...(options.memoryLimitBytes === undefined
      ? {}
      : { memoryLimitBytes: options.memoryLimitBytes }),
    ...(options.maxDocumentBytes === undefined
      ? {}
      : { maxDocumentBytes: options.maxDocumentBytes }),
    niceness: options.shardNiceness ?? DEFAULT_SHARD_NICENESS,
    ...(options.commitWindowMs === undefined ? {} : { commitWindowMs: options.commitWindowMs }),
    ...(options.shardApplyGate === undefined ? {} : { applyGate: options.shardApplyGate }),
    ...(options.stampTag === undefined ? {} : { stampTag: options.stampTag }),
    ...(options.tombstoneGraceMs === undefined
      ? {}
      : { tombstoneGraceMs: options.tombstoneGraceMs }),
    ...(options.tombstoneCollectIntervalMs === undefined
      ? {}
      : { tombstoneCollectIntervalMs: options.tombstoneCollectIntervalMs }),
    ...(options.tombstonesAwaitReplicas === true ? { tombstonesAwaitReplicas: true } : {}),
  };
}

/**
 * Spawns the point readers: with `pointReads: "main"`, one reader in this isolate over every
 * shard; with `"workers"`, reader workers — reader `r` holds shards `r`, `r + n`, `r + 2n`, …;
 * with `"shards"`, none (the shard workers answer).
 */
export function spawnReaders(
  system: ActorSystem,
  options: OrchestratorOptions & { readonly shardCount: number },
): Promise<ReaderRef[]> {
  const shardCount = options.shardCount;
  const where = options.pointReads ?? DEFAULT_POINT_READS;
  if (where === "shards") return Promise.resolve([]);
  if (where === "main") {
    const dirs = Array.from({ length: shardCount }, (_, i) => shardDir(options.dataDir, i));
    const reader = system.spawn<ShardReaderMsg, ShardReaderReplies>(
      () => createReader({ dirs }),
      {
        name: "reader-main",
        mailboxCapacity: READER_MAILBOX_CAPACITY,
        supervision: WORKER_SUPERVISION,
      },
    );
    return Promise.resolve([reader]);
  }
  const count = Math.min(shardCount, options.readerWorkers ?? DEFAULT_READER_WORKERS);
  return Promise.all(Array.from({ length: count }, (_, r) => {
    const dirs: string[] = [];
    for (let i = r; i < shardCount; i += count) dirs.push(shardDir(options.dataDir, i));
    return system.spawnWorker<ShardReaderMsg, ShardReaderReplies>(READER_MODULE, {
      name: `reader-${r}`,
      args: { dirs },
      mailboxCapacity: READER_MAILBOX_CAPACITY,
      supervision: WORKER_SUPERVISION,
    });
  }));
}

/** The directory of shard `i`. */
function shardDir(dataDir: string, i: number): string {
  return `${dataDir}/shards/shard-${String(i).padStart(3, "0")}`;
}

/** The shard count kept in `shards.json`, written with `requested` on a new node. */
async function shardCountOf(dataDir: string, requested: number): Promise<number> {
  const layoutPath = `${dataDir}/shards.json`;
  try {
    return JSON.parse(await Deno.readTextFile(layoutPath)).num_shards;
  } catch (error) {
    if (!(error instanceof Deno.errors.NotFound)) throw error;
    await Deno.writeTextFile(`${layoutPath}.tmp`, JSON.stringify({ num_shards: requested }));
    await Deno.rename(`${layoutPath}.tmp`, layoutPath);
    return requested;
  }
}
