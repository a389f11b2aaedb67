/**
 * Runs a known-item task on CameoDB as a client sees it: a real `cameodb serve` process with
 * `shards` microshards of one engine, the corpus written through `POST /api/docs/_bulk`, and
 * every query as `POST /api/docs/search` from one client, one at a time, over a kept-alive
 * loopback connection; with `warmup`, every query runs once untimed first. The time is the
 * whole request: parsing, both phases on every shard worker, the merge, the documents read
 * from KV, the JSON answer.
 *
 * @module
 */

import { startServerProcess } from "../../testing/server_process.ts";
import type { EngineName } from "../../storage/search_index.ts";
import type { CameoRun } from "./cameodb_runner.ts";
import type { Task } from "./tasks.ts";

/** Documents per `_bulk` request. */
const BULK_DOCS = 2_000;

async function post(url: string, body: unknown): Promise<unknown> {
  const response = await fetch(url, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${url}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

/** Loads the task's corpus into a server of `shards` microshards and runs its queries over HTTP. */
export async function runCameoHttp(
  task: Task,
  options: { readonly engine: EngineName; readonly shards: number; readonly warmup?: boolean },
): Promise<CameoRun> {
  const dataDir = await Deno.makeTempDir({ prefix: "cameodb-relevance-http-" });
  const server = await startServerProcess({
    dataDir,
    env: { CAMEODB_STORAGE_NUM_SHARDS_INIT: String(options.shards) },
  });
  try {
    const loadStarted = performance.now();
    const config = await fetch(`${server.url}/api/docs/_config`, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({
        engine: options.engine,
        fields: [{ name: "title", type: "text" }, { name: "text", type: "text" }],
      }),
    });
    if (!config.ok) throw new Error(`_config: ${config.status} ${await config.text()}`);
    await config.body?.cancel();
    for (let at = 0; at < task.docs.length; at += BULK_DOCS) {
      const batch = task.docs.slice(at, at + BULK_DOCS)
        .map((doc) => ({ id: doc.id, doc: { title: doc.title, text: doc.text } }));
      const answer = await post(`${server.url}/api/docs/_bulk`, batch) as { errors: unknown[] };
      if (answer.errors.length > 0) throw new Error(`a write failed: ${JSON.stringify(answer)}`);
    }
    const loadMs = performance.now() - loadStarted;
    const search = (query: Task["queries"][number]) =>
      post(`${server.url}/api/docs/search`, { query: query.words.join(" "), limit: 10 }) as Promise<
        { hits: Array<{ id: string }> }
      >;
    if (options.warmup === true) { for (const query of task.queries) await search(query); }
    const rankings: string[][] = [];
    const latenciesMs: number[] = [];
    for (const query of task.queries) {
      const started = performance.now();
      const answer = await search(query);
      latenciesMs.push(performance.now() - started);
      rankings.push(answer.hits.map((hit) => hit.id));
    }
    return { rankings, latenciesMs, loadMs };
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}
