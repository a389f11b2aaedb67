/**
 * CPU profiles of this server under the two loads issue 18 is about, with Deno's
 * `--cpu-prof` (one `.cpuprofile` per isolate: the main one and each shard worker):
 *
 * - `ingest`: an empty fts5 index takes `--docs` documents in bulks of `--bulk` (5,000) over
 *   HTTP;
 * - `reads-during-ingest`: an index already holding `--docs` documents (loaded by a first,
 *   unprofiled run of the server on the same data directory) answers point reads one after
 *   another while the next `--docs` documents arrive in bulks of `--bulk`.
 *
 *   deno run --allow-all bench/profile/cpu_profile.ts [--docs 40000] [--out DIR] [--loads a,b]
 *     [--bulk 5000]
 *
 * Prints each load's figures and the top self-time functions and files per isolate
 * (`summarize.ts`); the raw profiles stay in `--out` (open them in Chrome DevTools).
 *
 * @module
 */

import { parseArgs } from "node:util";
import { loadCorpus } from "../compare/corpus.ts";
import { bulkLoad, configureCorpusIndex } from "../compare/cameodb_system.ts";
import type { CorpusDoc } from "../compare/corpus.ts";
import { call } from "../../testing/http.ts";
import { withDeadline } from "../../testing/deadline.ts";
import { percentile } from "../../testing/stats.ts";
import { SERVER_V8_FLAGS } from "../../testing/server_process.ts";
import { renderSummaries, summarizeDir } from "./summarize.ts";

const MAIN = new URL("../../main.ts", import.meta.url).pathname;
const INDEX = "corpus";
/** Documents per bulk unless `--bulk` says otherwise. */
const BULK_DOCS = 5_000;
const START_TIMEOUT_MS = 600_000;

/** A server process, profiled when `profileDir` is given. */
async function startServer(dataDir: string, profileDir?: string) {
  const profiling = profileDir === undefined ? [] : ["--cpu-prof", `--cpu-prof-dir=${profileDir}`];
  const child = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      ...SERVER_V8_FLAGS,
      ...profiling,
      MAIN,
      "serve",
      "--http-port",
      "0",
      "--data-dir",
      dataDir,
    ],
    stdout: "piped",
    stderr: "inherit",
    env: { CAMEODB_LOG: "warn", CAMEODB_SEARCH_TOTAL_MEMORY_LIMIT_MB: "8192" },
  }).spawn();
  const listening = Promise.withResolvers<string>();
  const reading = (async () => {
    let output = "";
    const decoder = new TextDecoder();
    for await (const chunk of child.stdout) {
      output += decoder.decode(chunk, { stream: true });
      const match = output.match(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      if (match !== null) listening.resolve(match[1]!);
    }
    listening.reject(new Error(`the server exited before listening:\n${output}`));
  })();
  const url = await withDeadline(listening.promise, START_TIMEOUT_MS, "server start");
  return {
    url,
    /** SIGTERM: the server shuts down and each isolate writes its profile as it ends. */
    async stop() {
      child.kill("SIGTERM");
      await child.status;
      await reading;
    },
  };
}

/** What a load is given: the documents, the output directory, the documents per bulk. */
interface LoadArgs {
  readonly docs: readonly CorpusDoc[];
  readonly dir: string;
  readonly bulk: number;
}

async function ingestLoad({ docs, dir, bulk }: LoadArgs): Promise<string> {
  const server = await startServer(`${dir}/data-ingest`, `${dir}/ingest`);
  await configureCorpusIndex(server.url, "fts5");
  const started = performance.now();
  await bulkLoad(server.url, INDEX, docs, bulk);
  const seconds = (performance.now() - started) / 1000;
  await server.stop();
  return `${docs.length} documents in bulks of ${bulk}: ${
    Math.round(docs.length / seconds)
  } docs/s`;
}

async function readsDuringIngestLoad({ docs, dir, bulk }: LoadArgs): Promise<string> {
  const half = docs.length / 2;
  const [stored, next] = [docs.slice(0, half), docs.slice(half)];
  const dataDir = `${dir}/data-reads`;
  const loader = await startServer(dataDir);
  await configureCorpusIndex(loader.url, "fts5");
  await bulkLoad(loader.url, INDEX, stored, BULK_DOCS);
  await loader.stop();
  const server = await startServer(dataDir, `${dir}/reads-during-ingest`);
  let ingesting = true;
  const ingestion = bulkLoad(server.url, INDEX, next, bulk).finally(() => (ingesting = false));
  const times: number[] = [];
  for (let k = 0; ingesting; k++) {
    const id = stored[(k * 104729) % stored.length]!.id;
    const t0 = performance.now();
    const answer = await call(
      server.url,
      "GET",
      `/api/${INDEX}/document/${encodeURIComponent(id)}`,
    );
    times.push(performance.now() - t0);
    if (answer.status !== 200) throw new Error(`read ${id}: ${answer.status}`);
  }
  await ingestion;
  await server.stop();
  times.sort((a, b) => a - b);
  return `${times.length} point reads during an ingest of ${next.length} documents in bulks of ${bulk} ` +
    `onto ${stored.length}: p50 ${percentile(times, 0.5).toFixed(2)} ms, p99 ${
      percentile(times, 0.99).toFixed(2)
    } ms, max ${times.at(-1)!.toFixed(2)} ms`;
}

const SINGLE_WRITERS = 16;
const MAX_SINGLE_WRITES = 4_000;

async function singleWritesLoad({ docs, dir }: LoadArgs): Promise<string> {
  const half = docs.length / 2;
  const [stored, next] = [docs.slice(0, half), docs.slice(half, half + MAX_SINGLE_WRITES)];
  const dataDir = `${dir}/data-single`;
  const loader = await startServer(dataDir);
  await configureCorpusIndex(loader.url, "fts5");
  await bulkLoad(loader.url, INDEX, stored, BULK_DOCS);
  await loader.stop();
  const server = await startServer(dataDir, `${dir}/single-writes`);
  let at = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: SINGLE_WRITERS }, async () => {
    for (let doc = next[at++]; doc !== undefined; doc = next[at++]) {
      const answer = await call(server.url, "PUT", `/api/${INDEX}/document`, doc);
      if (answer.status !== 200) throw new Error(`put ${doc.id}: ${answer.status}`);
    }
  }));
  const seconds = (performance.now() - started) / 1000;
  await server.stop();
  return `${next.length} single writes from ${SINGLE_WRITERS} clients onto ${stored.length}: ${
    Math.round(next.length / seconds)
  } docs/s`;
}

const LOADS = {
  "ingest": ingestLoad,
  "reads-during-ingest": readsDuringIngestLoad,
  "single-writes": singleWritesLoad,
} as const;

async function main() {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      docs: { type: "string" },
      out: { type: "string" },
      loads: { type: "string" },
      bulk: { type: "string" },
    },
  });
  const names = (values.loads ?? Object.keys(LOADS).join(",")).split(",");
  const unknown = names.filter((name) => !(name in LOADS));
  if (unknown.length > 0) throw new Error(`unknown loads: ${unknown.join(", ")}`);
  const count = Number(values.docs ?? 40_000);
  const dir = values.out ?? await Deno.makeTempDir({ prefix: "cameodb-profile-" });
  const docs = await loadCorpus(count);
  for (const name of names) {
    const bulk = Number(values.bulk ?? BULK_DOCS);
    const figure = await LOADS[name as keyof typeof LOADS]({ docs, dir, bulk });
    console.log(`### ${name}\n\n${figure}\n`);
    console.log(renderSummaries(await summarizeDir(`${dir}/${name}`)));
  }
  console.error(`profiles in ${dir}`);
}

if (import.meta.main) await main();
