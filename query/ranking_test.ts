import assert from "node:assert/strict";
import { loadDebianPackages } from "../bench/data/debian.ts";
import { Microshard } from "../storage/microshard.ts";
import type { EngineName } from "../storage/search_index.ts";
import { searchShards } from "./pipeline.ts";
import { mergedSchema, type SearchAnswer } from "./search.ts";

/** Real documents nobody here wrote: the first few hundred Debian packages. */
const DOCUMENTS = 300;
/** Queries: a package's own summary (its description's first line). */
const QUERIES = 25;
/** Scores agree up to float noise (the sums run in another order on other shards). */
const SCORE_TOLERANCE = 1e-9;

type Doc = { id: string; doc: Record<string, unknown> };

/** Opens `count` microshards for `engine`, writes `docs` over them, runs `fn`, cleans up. */
async function withShards(
  engine: EngineName,
  count: number,
  docs: readonly Doc[],
  fn: (search: (body: unknown) => Promise<SearchAnswer>) => Promise<void>,
): Promise<void> {
  const dirs: string[] = [];
  const shards: Microshard[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const dir = await Deno.makeTempDir();
      dirs.push(dir);
      shards.push(await Microshard.open({ dir, defaultEngine: engine }));
    }
    for (let i = 0; i < count; i++) {
      const mine = docs.filter((_, at) => at % count === i);
      const outcomes = await shards[i]!.write(
        mine.map((d) => ({ op: "put" as const, index: "idx", id: d.id, doc: d.doc })),
      );
      assert.ok(outcomes.every((o) => o.ok), JSON.stringify(outcomes.find((o) => !o.ok)));
    }
    // Every shard gets the whole schema, as the node's schema cache does.
    const schema = mergedSchema(shards.map((shard) => shard.indexes()[0]!.schema));
    const fields = Object.entries(schema.fields).map(([name, def]) => ({ name, type: def.type }));
    for (const shard of shards) await shard.configure("idx", { fields });
    await fn((body) => searchShards(shards, "idx", body));
  } finally {
    for (const shard of shards) await shard.close();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
}

/** The top 10 of every query, as `[id, score]`. */
async function topTens(
  engine: EngineName,
  shards: number,
  docs: readonly Doc[],
  queries: readonly string[],
): Promise<Array<Array<[string, number]>>> {
  const results: Array<Array<[string, number]>> = [];
  await withShards(engine, shards, docs, async (search) => {
    for (const query of queries) {
      const answer = await search({ query, limit: 10 });
      results.push(answer.hits.map((hit) => [hit.id, hit._score]));
    }
  });
  return results;
}

function assertSameRanking(
  a: Array<Array<[string, number]>>,
  b: Array<Array<[string, number]>>,
  queries: readonly string[],
): void {
  a.forEach((hits, q) => {
    const other = b[q]!;
    assert.deepEqual(hits.map(([id]) => id), other.map(([id]) => id), `query ${queries[q]}`);
    hits.forEach(([, score], i) => {
      const relative = Math.abs(score - other[i]![1]) / Math.max(1, Math.abs(score));
      assert.ok(relative < SCORE_TOLERANCE, `query ${queries[q]}: ${score} vs ${other[i]![1]}`);
    });
  });
}

const packages = (await loadDebianPackages()).slice(0, DOCUMENTS);
const docs: Doc[] = packages.map((p) => ({
  id: p.id,
  doc: { name: p.doc.name, description: p.doc.description, tags: p.doc.tags },
}));
const queries = packages.slice(0, QUERIES).map((p) =>
  p.doc.description.split("\n")[0]!.replace(/[^\p{L}\p{N}]+/gu, " ").trim()
).filter((query) => query !== "");

for (const engine of ["fts5", "orama"] as const) {
  Deno.test(`ranking (${engine}): one shard or four, the same top 10 and the same scores`, async () => {
    const one = await topTens(engine, 1, docs, queries);
    const four = await topTens(engine, 4, docs, queries);
    assert.ok(one.every((hits) => hits.length > 0), "every summary finds its package");
    assertSameRanking(one, four, queries);
  });

  Deno.test(`ranking (${engine}): on a tiny index the shortest title that holds the word wins`, async () => {
    const books: Doc[] = [
      { id: "a", doc: { title: "The Rust Programming Language" } },
      { id: "b", doc: { title: "Programming Rust" } },
      { id: "c", doc: { title: "Rust" } },
      { id: "d", doc: { title: "Go in Action" } },
    ];
    for (const shards of [1, 3]) {
      await withShards(engine, shards, books, async (search) => {
        const answer = await search({ query: "title:rust", limit: 10 });
        assert.deepEqual(answer.hits.map((hit) => hit.id), ["c", "b", "a"], `${shards} shards`);
        assert.ok(answer.hits[0]!._score > answer.hits[1]!._score);
        assert.ok(answer.hits[1]!._score > answer.hits[2]!._score);
      });
    }
  });
}

Deno.test("ranking: fts5 and orama give the same top 10 with the same scores", async () => {
  const fts5 = await topTens("fts5", 4, docs, queries);
  const orama = await topTens("orama", 2, docs, queries);
  assertSameRanking(fts5, orama, queries);
});
