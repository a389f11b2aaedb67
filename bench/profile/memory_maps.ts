/**
 * Where the server's memory is after an ingest: `--docs` corpus documents (`bench:compare`'s)
 * into an fts5 index in bulks of `--bulk` (5,000; small bulks are logged applies), 50 rounds of
 * `bench:compare`'s queries and 3,000 point reads, then the server process's proportional
 * resident memory (`/proc/PID/smaps`) by kind of mapping — anonymous ones by size (V8 allocates its heap in pages under 1 MB; glibc's thread
 * arenas are 64 MB reservations), `[heap]`, files — and the engines' own count
 * (`memory_bytes` of `GET /_indexes`). `--v8-flags` is handed to the server
 * (`DENO_V8_FLAGS`).
 *
 * ```sh
 * deno run -A bench/profile/memory_maps.ts [--docs 100000] [--bulk 5000]
 *   [--v8-flags=--max-old-space-size=128]
 * ```
 *
 * @module
 */

import { parseArgs } from "node:util";
import { startServerProcess } from "../../testing/server_process.ts";
import { call } from "../../testing/http.ts";
import { bulkLoad, cameoQuery, configureCorpusIndex } from "../compare/cameodb_system.ts";
import { chooseQueries, loadCorpus } from "../compare/corpus.ts";

const BULK_DOCS = 5_000;
const QUERY_ROUNDS = 50;
const POINT_READS = 3_000;
const BYTES_PER_MB = 1_048_576;
/** Anonymous mappings at least this big are counted as malloc arenas' (64 MB reservations). */
const ARENA_MAPPING_MB = 60;

const { values } = parseArgs({
  options: {
    docs: { type: "string", default: "100000" },
    bulk: { type: "string", default: String(BULK_DOCS) },
    "v8-flags": { type: "string" },
  },
});
const count = Number(values.docs);
const corpus = await loadCorpus(count);
const dataDir = await Deno.makeTempDir();
const env: Record<string, string> = { CAMEODB_LOG: "warn" };
if (values["v8-flags"] !== undefined) env.DENO_V8_FLAGS = values["v8-flags"];
const server = await startServerProcess({ dataDir, env, startTimeoutMs: 600_000 });

/** PSS in MB per kind of mapping of process `pid`. */
async function pssByKind(pid: number): Promise<Map<string, number>> {
  const kinds = new Map<string, number>();
  let kind = "";
  for (const line of (await Deno.readTextFile(`/proc/${pid}/smaps`)).split("\n")) {
    const mapping = line.match(/^([0-9a-f]+)-([0-9a-f]+) \S+ \S+ \S+ \S+\s*(.*)$/);
    if (mapping !== null) {
      const [, from, to, name] = mapping as unknown as [string, string, string, string];
      const mb = (parseInt(to, 16) - parseInt(from, 16)) / BYTES_PER_MB;
      if (name.trim() === "") {
        kind = mb >= ARENA_MAPPING_MB
          ? "anonymous, arena-sized"
          : mb >= 1
          ? "anonymous, 1 MB or more"
          : "anonymous, under 1 MB (V8 pages)";
      } else kind = name.startsWith("/") ? `file ${name.split("/").pop()}` : name.trim();
      continue;
    }
    const pss = line.match(/^Pss:\s+(\d+) kB/);
    if (pss !== null) kinds.set(kind, (kinds.get(kind) ?? 0) + Number(pss[1]) / 1024);
  }
  return kinds;
}

try {
  await configureCorpusIndex(server.url, "fts5");
  await bulkLoad(server.url, "corpus", corpus, Number(values.bulk));
  const queries = chooseQueries(corpus);
  for (let round = 0; round < QUERY_ROUNDS; round++) {
    for (const query of queries) {
      await call(server.url, "POST", "/api/corpus/search", { query: cameoQuery(query), limit: 10 });
    }
  }
  for (let i = 0; i < POINT_READS; i++) {
    const id = corpus[(i * 7_919) % count]!.id;
    await call(server.url, "GET", `/api/corpus/document/${encodeURIComponent(id)}`);
  }
  const kinds = [...await pssByKind(server.child.pid)].sort((a, b) => b[1] - a[1]);
  const total = kinds.reduce((sum, [, mb]) => sum + mb, 0);
  console.log(`${count} documents, PSS ${total.toFixed(0)} MB:`);
  for (const [kind, mb] of kinds.filter(([, mb]) => mb >= 1)) {
    console.log(`  ${kind}: ${mb.toFixed(0)} MB`);
  }
  const indexes = await call(server.url, "GET", "/_indexes");
  console.log(`engines' own count: ${JSON.stringify(indexes.body)}`);
} finally {
  await server.stop();
  await Deno.remove(dataDir, { recursive: true });
}
