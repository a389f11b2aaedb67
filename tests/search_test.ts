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

/** One-letter words (a query holds at most 10,000 characters). */
const WORDS = "abcdefghijklmnopqrst".split("");

/** A random text of `length` words out of the first `vocabulary` of `WORDS` (seeded). */
function randomTexts(count: number, length: number, vocabulary: number): string[] {
  let seed = 5;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  return Array.from(
    { length: count },
    () => Array.from({ length }, () => WORDS[Math.floor(random() * vocabulary)]).join(" "),
  );
}

Deno.test({
  name: "search over HTTP: a shard stops working on a search once its deadline has passed",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const env = { CAMEODB_STORAGE_NUM_SHARDS_INIT: "1" };
    // Loaded under the default request timeout (a bulk on a busy machine may take over 1 s),
    // searched after a restart with a 1 s one.
    let server = await startServerProcess({ dataDir, env });
    try {
      const texts = randomTexts(3_000, 30, 20);
      for (let i = 0; i < texts.length; i += 500) {
        const batch = texts.slice(i, i + 500).map((body, k) => ({
          id: `d${i + k}`,
          doc: { body },
        }));
        const bulk = await call(server.url, "POST", "/api/slow/_bulk", batch);
        assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
      }
      await server.stop();
      server = await startServerProcess({
        dataDir,
        env: { ...env, CAMEODB_NETWORK_HTTP_REQUEST_TIMEOUT_SECS: "1" },
      });
      // 1,000 sloppy phrases of common words: each checks the positions of most documents
      // (~10 ms each, seconds in all), well inside the clause budget.
      const phrases: string[] = [];
      for (let slop = 1; phrases.length < 1_000; slop++) {
        for (let a = 0; a < 20; a++) {
          for (let b = 0; b < 20; b++) {
            if (a !== b) phrases.push(`"${WORDS[a]} ${WORDS[b]}"~${slop}`);
          }
        }
      }
      const slow = await call(server.url, "POST", "/api/slow/search", {
        query: phrases.slice(0, 1_000).join(" "),
      });
      assert.equal(slow.status, 408, JSON.stringify(slow.body).slice(0, 300));
      // The shard is free again soon after the deadline: the next search is answered at
      // once, not after the rest of the slow one.
      const answered = performance.now();
      const quick = await call(server.url, "POST", "/api/slow/search", { query: "b" });
      const waitedMs = performance.now() - answered;
      assert.equal(quick.status, 200, JSON.stringify(quick.body));
      assert.equal((quick.body as Answer).total_hits > 0, true);
      // The slow search alone takes seconds more (~10 ms a phrase); the bound leaves room
      // for a busy machine.
      assert.ok(waitedMs < 4_000, `the next search waited ${Math.round(waitedMs)} ms`);
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});

Deno.test({
  name:
    "search over HTTP: per-index k1, b and field boosts in _config, checked, shown, used by both engines, kept over a restart",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const env = { CAMEODB_STORAGE_NUM_SHARDS_INIT: "2" };
    let server = await startServerProcess({ dataDir, env });
    const docs = [
      { id: "t", doc: { title: "rust", body: "a book about a language", year: 2020 } },
      { id: "b", doc: { title: "a book", body: "rust and more rust in the body", year: 2021 } },
    ];
    const order = async (index: string) => {
      const answer = await call(server.url, "POST", `/api/${index}/search`, { query: "rust" });
      assert.equal(answer.status, 200, JSON.stringify(answer.body));
      return (answer.body as Answer).hits.map((hit) => hit.id);
    };
    const rankingOf = async (index: string) =>
      ((await call(server.url, "GET", `/api/${index}/_config`)).body as { ranking: unknown })
        .ranking;
    try {
      for (const engine of ["fts5", "orama"]) {
        const index = `ranked_${engine}`;
        const put = await call(server.url, "PUT", `/api/${index}/_config`, {
          engine,
          fields: [{ name: "title", type: "text" }, { name: "body", type: "text" }],
          ranking: { boosts: { title: 20 } },
        });
        assert.equal(put.status, 200, JSON.stringify(put.body));
        assert.deepEqual(await rankingOf(index), { k1: 1.2, b: 0.75, boosts: { title: 20 } });
        assert.equal((await call(server.url, "POST", `/api/${index}/_bulk`, docs)).status, 200);
        assert.deepEqual(await order(index), ["t", "b"], `${engine}: the title boost counts`);
        const body = { ranking: { k1: 0.5, b: 0.3, boosts: { body: 20 } } };
        assert.equal((await call(server.url, "PUT", `/api/${index}/_config`, body)).status, 200);
        assert.deepEqual(await order(index), ["b", "t"], `${engine}: the body boost counts`);
        for (
          const [ranking, message] of [
            [{ k1: -1 }, /"k1" must be from 0 to 10/],
            [{ b: 2 }, /"b" must be from 0 to 1/],
            [{ boosts: { nope: 2 } }, /"nope" does not exist/],
            [{ boosts: { year: 2 } }, /only text fields/],
            [{ boosts: { body: -3 } }, /from 0 to 1000/],
            ["fast", /not an object/],
          ] as const
        ) {
          const refused = await call(server.url, "PUT", `/api/${index}/_config`, { ranking });
          assert.equal(refused.status, 400, JSON.stringify(refused.body));
          assert.match((refused.body as { details: string }).details, message);
        }
        assert.deepEqual(await rankingOf(index), { k1: 0.5, b: 0.3, boosts: { body: 20 } });
      }
      await server.stop();
      server = await startServerProcess({ dataDir, env });
      for (const engine of ["fts5", "orama"]) {
        const index = `ranked_${engine}`;
        assert.deepEqual(await rankingOf(index), { k1: 0.5, b: 0.3, boosts: { body: 20 } });
        assert.deepEqual(await order(index), ["b", "t"], `${engine}: after a restart`);
      }
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
