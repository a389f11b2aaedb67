import assert from "node:assert/strict";
import { type Page, type PageRequest, scan } from "./final_read.ts";

/** An index in memory answering the two queries the scan sends, sorted by key. */
function index(docs: Array<{ id: string; token: string }>) {
  const requests: PageRequest[] = [];
  const search = (body: PageRequest): Promise<Page> => {
    requests.push(body);
    const from = body.query.match(/^key:\[(\S+) TO \*\]$/)?.[1];
    const matching = docs
      .filter((doc) => from === undefined || doc.id >= from)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
    return Promise.resolve({
      hits: matching.slice(0, body.limit).map((doc) => ({
        id: doc.id,
        key: doc.id,
        token: doc.token,
      })),
      total_hits: matching.length,
      failed_shards: 0,
    });
  };
  return { search, requests };
}

const NODE = { label: "n1", url: "http://unused" };

Deno.test("scan() pages every document once, by key", async () => {
  const docs = Array.from({ length: 10 }, (_, i) => ({ id: `k${i}`, token: `t${i}` }));
  const { search, requests } = index(docs);
  const result = await scan(NODE, { search, pageHits: 3 });
  assert.deepEqual(result.hits, docs.map((d) => ({ id: d.id, value: d.token })));
  assert.equal(result.totalHits, 10);
  assert.ok(requests.length >= 5, `${requests.length} requests: it paged`);
});

Deno.test("scan() sees every copy of an id twice in the index, across a page boundary too", async () => {
  // k2 twice: the copies straddle the boundary of 3-hit pages (k0 k1 k2 | k2 k3 …); k5 three times.
  const docs = [
    ...Array.from({ length: 8 }, (_, i) => ({ id: `k${i}`, token: `t${i}` })),
    { id: "k2", token: "t2-copy" },
    { id: "k5", token: "t5-copy" },
    { id: "k5", token: "t5-copy2" },
  ];
  const { search } = index(docs);
  const result = await scan(NODE, { search, pageHits: 3 });
  const counts = new Map<string, number>();
  for (const hit of result.hits) counts.set(hit.id, (counts.get(hit.id) ?? 0) + 1);
  assert.equal(counts.get("k2"), 2);
  assert.equal(counts.get("k5"), 3);
  assert.equal(result.hits.length, 11);
  assert.equal(result.totalHits, 11);
});
