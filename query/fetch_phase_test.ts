import assert from "node:assert/strict";
import { fetchPageDocs } from "./fetch_phase.ts";
import type { ShardSearchResult } from "../storage/microshard.ts";

const bare = (...hits: Array<[string, number]>): ShardSearchResult => ({
  total: hits.length,
  hits: hits.map(([id, score]) => ({ id, score, version: 0, doc: {} })),
  docsLeftOut: true,
});

Deno.test("fetch phase: only the merged page's documents are read, from the page they came from", async () => {
  const pages = [bare(["a", 9], ["c", 5], ["e", 1]), bare(["b", 7], ["d", 3], ["f", 0.5])];
  const asked: Array<{ page: number; id: string }> = [];
  const filled = await fetchPageDocs(pages, { offset: 1, limit: 3, sort: [] }, (wanted) => {
    asked.push(...wanted);
    return Promise.resolve(wanted.map(({ id }) => ({ id, version: 2, doc: { title: id } })));
  });
  // Merged: a 9, b 7, c 5, d 3, e 1, f 0.5 — the page at offset 1 is b, c, d.
  assert.deepEqual(asked, [{ page: 1, id: "b" }, { page: 0, id: "c" }, { page: 1, id: "d" }]);
  const withDocs = filled.flatMap((page) => page.hits.filter((hit) => hit.version === 2));
  assert.deepEqual(withDocs.map((hit) => [hit.id, hit.doc.title]).sort(), [
    ["b", "b"],
    ["c", "c"],
    ["d", "d"],
  ]);
  assert.ok(filled.every((page) => page.docsLeftOut === undefined));
  assert.deepEqual(filled.map((page) => page.total), [3, 3]);
});

Deno.test("fetch phase: a document gone since its shard answered leaves its place to the next hit", async () => {
  const pages = [bare(["a", 9], ["c", 5]), bare(["b", 7], ["d", 3])];
  const rounds: string[][] = [];
  const filled = await fetchPageDocs(pages, { offset: 0, limit: 2, sort: [] }, (wanted) => {
    rounds.push(wanted.map(({ id }) => id));
    return Promise.resolve(
      wanted.map(({ id }) => id === "b" ? null : { id, version: 1, doc: { title: id } }),
    );
  });
  assert.deepEqual(rounds, [["a", "b"], ["c"]]);
  assert.deepEqual(filled[0]!.hits.map((hit) => hit.id), ["a", "c"]);
  assert.deepEqual(filled[1]!.hits.map((hit) => hit.id), ["d"]);
  assert.equal(filled[0]!.hits[1]!.doc.title, "c");
});

Deno.test("fetch phase: pages that carry their documents are left as they are", async () => {
  const full: ShardSearchResult = {
    total: 1,
    hits: [{ id: "x", score: 8, version: 4, doc: { title: "kept" } }],
  };
  const filled = await fetchPageDocs([full, bare(["y", 2])], { offset: 0, limit: 10, sort: [] }, (
    wanted,
  ) => Promise.resolve(wanted.map(({ id }) => ({ id, version: 1, doc: { title: "read" } }))));
  assert.deepEqual(filled[0]!.hits, full.hits);
  assert.equal(filled[1]!.hits[0]!.doc.title, "read");
});
