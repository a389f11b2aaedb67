/**
 * Single writes (`PUT /api/docs/document`) from concurrent clients against the real server
 * process: prints documents/s and the p50/p99/max of a write. `--wal-sync always|batch` and
 * `--window-ms N` set `storage.wal_sync` and `storage.wal_batch_window_ms`. With `--corpus`,
 * the documents are `bench:compare`'s corpus (Debian packages and GCIDE entries), after
 * `--preload` of them in bulks of 5,000; otherwise two-field documents of three words.
 *
 * ```sh
 * deno run -A bench/single_writes.ts --wal-sync batch --window-ms 2 --clients 16 --writes 2000
 * deno run -A bench/single_writes.ts --corpus --preload 20000 --clients 1 --writes 1500
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startServerProcess } from "../testing/server_process.ts";
import { percentile } from "../testing/stats.ts";
import { call } from "../testing/http.ts";
import { loadCorpus } from "./compare/corpus.ts";
import { bulkLoad } from "./compare/cameodb_system.ts";

const PRELOAD_BULK = 5_000;

const { values } = parseArgs({
  options: {
    "wal-sync": { type: "string", default: "always" },
    "window-ms": { type: "string", default: "2" },
    "clients": { type: "string", default: "16" },
    "writes": { type: "string", default: "2000" },
    "corpus": { type: "boolean", default: false },
    "preload": { type: "string", default: "0" },
  },
});
const clients = Number(values.clients);
const writes = Number(values.writes);
const preload = values.corpus ? Number(values.preload) : 0;
const corpus = values.corpus ? await loadCorpus(preload + writes) : [];
const docOf = (i: number) =>
  values.corpus ? corpus[preload + i]! : { id: `d${i}`, doc: { title: `document ${i}`, n: i } };

const dataDir = await Deno.makeTempDir();
const server = await startServerProcess({
  dataDir,
  env: {
    CAMEODB_LOG: "warn",
    CAMEODB_STORAGE_WAL_SYNC: values["wal-sync"],
    CAMEODB_STORAGE_WAL_BATCH_WINDOW_MS: values["window-ms"],
  },
});
async function put(doc: { id: string; doc: unknown }): Promise<number> {
  const started = performance.now();
  const answer = await call(server.url, "PUT", "/api/docs/document", doc);
  if (answer.status !== 200) throw new Error(`write answered ${answer.status}`);
  return performance.now() - started;
}
try {
  await bulkLoad(server.url, "docs", corpus.slice(0, preload), PRELOAD_BULK);
  if (preload === 0) await put({ id: "first", doc: { title: "creates the index" } });
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(Array.from({ length: clients }, async () => {
    while (next < writes) latencies.push(await put(docOf(next++)));
  }));
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  console.log(
    `wal_sync=${values["wal-sync"]} window=${values["window-ms"]} ms, ${clients} clients, ` +
      `${values.corpus ? `corpus documents onto ${preload}` : "small documents"}: ` +
      `${Math.round(writes / seconds)} docs/s, p50 ${percentile(latencies, 0.5).toFixed(2)} ms, ` +
      `p99 ${percentile(latencies, 0.99).toFixed(2)} ms, max ${latencies.at(-1)!.toFixed(1)} ms`,
  );
} finally {
  await server.stop();
  await Deno.remove(dataDir, { recursive: true });
}
