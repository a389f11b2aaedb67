/**
 * Runs a known-item task on CameoDB in process: `shards` microshards (real Deno KV and
 * engine files in a temporary directory) of one engine, documents placed as the node places
 * them (`fnv1a(id) % shards`), every query through the search pipeline (`searchShards`:
 * the statistics phase, every shard's page, the merge, documents from KV); with `warmup`,
 * every query runs once untimed first.
 *
 * @module
 */

import { fnv1a } from "../../node/hash.ts";
import { searchShards } from "../../query/pipeline.ts";
import { mergedSchema } from "../../query/search.ts";
import { Microshard } from "../../storage/microshard.ts";
import type { EngineName } from "../../storage/search_index.ts";
import type { RunResult } from "./metrics.ts";
import type { Task } from "./tasks.ts";

/** Documents per write batch. */
const WRITE_BATCH_DOCS = 2_000;

/** What a CameoDB run adds to the figures: the time to load the corpus. */
export interface CameoRun extends RunResult {
  readonly loadMs: number;
}

/** Loads the task's corpus into `shards` microshards of `engine` and runs its queries. */
export async function runCameo(
  task: Task,
  options: { readonly engine: EngineName; readonly shards: number; readonly warmup?: boolean },
): Promise<CameoRun> {
  const root = await Deno.makeTempDir({ prefix: "cameodb-relevance-" });
  const shards: Microshard[] = [];
  try {
    const loadStarted = performance.now();
    for (let i = 0; i < options.shards; i++) {
      shards.push(await Microshard.open({ dir: `${root}/${i}`, defaultEngine: options.engine }));
    }
    await load(task, shards);
    const loadMs = performance.now() - loadStarted;
    const rankings: string[][] = [];
    const latenciesMs: number[] = [];
    if (options.warmup === true) {
      for (const query of task.queries) {
        await searchShards(shards, "docs", { query: query.words.join(" "), limit: 10 });
      }
    }
    for (const query of task.queries) {
      const started = performance.now();
      const answer = await searchShards(shards, "docs", {
        query: query.words.join(" "),
        limit: 10,
      });
      latenciesMs.push(performance.now() - started);
      rankings.push(answer.hits.map((hit) => hit.id));
    }
    return { rankings, latenciesMs, loadMs };
  } finally {
    for (const shard of shards) await shard.close();
    await Deno.remove(root, { recursive: true });
  }
}

/** Writes the corpus, each document to its shard, and gives every shard the whole schema. */
async function load(task: Task, shards: readonly Microshard[]): Promise<void> {
  const fields = [{ name: "title", type: "text" }, { name: "text", type: "text" }];
  for (const shard of shards) await shard.configure("docs", { fields });
  const groups = shards.map(() => [] as Task["docs"][number][]);
  for (const doc of task.docs) groups[fnv1a(doc.id) % shards.length]!.push(doc);
  await Promise.all(shards.map(async (shard, i) => {
    const group = groups[i]!;
    for (let at = 0; at < group.length; at += WRITE_BATCH_DOCS) {
      const outcomes = await shard.write(
        group.slice(at, at + WRITE_BATCH_DOCS).map((doc) => ({
          op: "put" as const,
          index: "docs",
          id: doc.id,
          doc: { title: doc.title, text: doc.text },
        })),
      );
      const failed = outcomes.find((outcome) => !outcome.ok);
      if (failed !== undefined) throw new Error(`a write failed: ${JSON.stringify(failed)}`);
    }
  }));
  const schema = mergedSchema(shards.map((shard) => shard.indexes()[0]!.schema));
  const all = Object.entries(schema.fields).map(([name, def]) => ({ name, type: def.type }));
  for (const shard of shards) await shard.configure("docs", { fields: all });
}
