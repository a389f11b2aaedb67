/**
 * Times the known-item queries of one corpus against a server on a kept data directory, so
 * a change to the search path can be timed again without loading the corpus each time:
 *
 *     deno run --allow-all bench/relevance/http_probe.ts --data-dir /tmp/probe-4 --shards 4
 *       [--corpus debian] [--queries 1000] [--rounds 3] [--url http://127.0.0.1:PORT]
 *
 * The first run loads the corpus (`POST /_bulk`); later runs on the same directory only start
 * the server. Prints per round the client's p50/p99 and the answers' own `took` p50 (the
 * pipeline inside the server), so what HTTP costs shows apart. With `--url`, the queries go to
 * a server already running on that data directory (one started with `--cpu-prof`, say).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startServerProcess } from "../../testing/server_process.ts";
import { percentile } from "../../testing/stats.ts";
import { debianTask, gcideTask } from "./tasks.ts";

const BULK_DOCS = 2_000;

const { values } = parseArgs({
  args: Deno.args,
  options: {
    "data-dir": { type: "string" },
    shards: { type: "string", default: "4" },
    corpus: { type: "string", default: "debian" },
    queries: { type: "string", default: "1000" },
    rounds: { type: "string", default: "3" },
    engine: { type: "string", default: "fts5" },
    url: { type: "string" },
  },
});
const dataDir = values["data-dir"];
if (dataDir === undefined) throw new Error("--data-dir is required");
const task = values.corpus === "debian"
  ? await debianTask(Number(values.queries))
  : await gcideTask(Number(values.queries), 50_000);
const loaded = await Deno.stat(`${dataDir}/loaded`).then(() => true, () => false);
await Deno.mkdir(dataDir, { recursive: true });
const server = values.url === undefined
  ? await startServerProcess({
    dataDir,
    env: { CAMEODB_STORAGE_NUM_SHARDS_INIT: values.shards, CAMEODB_LOG: "warn" },
  })
  : { url: values.url, stop: () => Promise.resolve() };

async function post(path: string, body: unknown, method = "POST"): Promise<unknown> {
  const response = await fetch(`${server.url}${path}`, {
    method,
    headers: { "content-type": "application/json" },
    body: JSON.stringify(body),
  });
  const answer = await response.json();
  if (!response.ok) throw new Error(`${path}: ${response.status} ${JSON.stringify(answer)}`);
  return answer;
}

try {
  if (!loaded) {
    await post("/api/docs/_config", {
      engine: values.engine,
      fields: [{ name: "title", type: "text" }, { name: "text", type: "text" }],
    }, "PUT");
    for (let at = 0; at < task.docs.length; at += BULK_DOCS) {
      const batch = task.docs.slice(at, at + BULK_DOCS)
        .map((doc) => ({ id: doc.id, doc: { title: doc.title, text: doc.text } }));
      await post("/api/docs/_bulk", batch);
    }
    await Deno.writeTextFile(`${dataDir}/loaded`, "");
  }
  for (let round = 0; round < Number(values.rounds); round++) {
    const clientMs: number[] = [];
    const tookMs: number[] = [];
    for (const query of task.queries) {
      const started = performance.now();
      const answer = await post("/api/docs/search", { query: query.words.join(" "), limit: 10 });
      clientMs.push(performance.now() - started);
      tookMs.push((answer as { took_ms: number }).took_ms);
    }
    clientMs.sort((a, b) => a - b);
    tookMs.sort((a, b) => a - b);
    const ms = (sorted: number[], p: number) => percentile(sorted, p).toFixed(2);
    console.log(
      `round ${round}: client p50 ${ms(clientMs, 0.5)} p99 ${ms(clientMs, 0.99)} ms; ` +
        `took_ms p50 ${ms(tookMs, 0.5)} p99 ${ms(tookMs, 0.99)}`,
    );
  }
} finally {
  await server.stop();
}
