/**
 * Search as a client sees it over HTTP, on a real `cameodb serve` process: Lucene's phrase
 * slop on both engines.
 */
import assert from "node:assert/strict";
import { call } from "../testing/http.ts";
import { startServerProcess } from "../testing/server_process.ts";

type Answer = { hits: Array<{ id: string; _score: number }>; total_hits: number };

const DOCS = [
  { id: "s1", doc: { body: "the bike is small" } },
  { id: "s2", doc: { body: "a small bike for the road" } },
  { id: "s3", doc: { body: "small and light, the best bike" } },
];

async function hitIds(base: string, index: string, query: string): Promise<string[]> {
  const answer = await call(base, "POST", `/api/${index}/search`, { query });
  assert.equal(answer.status, 200, JSON.stringify(answer.body));
  return (answer.body as Answer).hits.map((hit) => hit.id).sort();
}

Deno.test({
  name: "search over HTTP: phrase slop is Lucene's (order-aware) on both engines",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const server = await startServerProcess({
      dataDir,
      env: { CAMEODB_STORAGE_NUM_SHARDS_INIT: "2" },
    });
    try {
      for (const engine of ["fts5", "orama"]) {
        const index = `bikes_${engine}`;
        const configured = await call(server.url, "PUT", `/api/${index}/_config`, { engine });
        assert.equal(configured.status, 200, JSON.stringify(configured.body));
        const bulk = await call(server.url, "POST", `/api/${index}/_bulk`, DOCS);
        assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
        assert.deepEqual(await hitIds(server.url, index, `body:"small bike"`), ["s2"]);
        assert.deepEqual(
          await hitIds(server.url, index, `body:"small bike"~1`),
          ["s2"],
          `${engine}: "the bike is small" needs slop 3`,
        );
        assert.deepEqual(await hitIds(server.url, index, `body:"small bike"~2`), ["s2"]);
        assert.deepEqual(await hitIds(server.url, index, `body:"small bike"~3`), ["s1", "s2"]);
        assert.deepEqual(await hitIds(server.url, index, `"bike small"~2`), ["s1", "s2"]);
        assert.deepEqual(await hitIds(server.url, index, `"small bike"~5`), ["s1", "s2", "s3"]);
        assert.deepEqual(
          await hitIds(server.url, index, `bike -"bike small"~1`),
          ["s2", "s3"],
          `${engine}: a sloppy phrase as MUST_NOT`,
        );
      }
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
