import assert from "node:assert/strict";
import { MAX_CACHED_TERMS, StatsCache } from "./_stats_cache.ts";
import { type CorpusStats, termKey } from "../storage/bm25.ts";
import type { Plan } from "../storage/search_index.ts";

const term = (t: string): Plan => ({ kind: "term", field: null, term: t });
const or = (...terms: string[]): Plan => ({ kind: "or", children: terms.map(term) });
const stats = (dfs: Record<string, number>): CorpusStats => ({
  docCount: 100,
  fields: [["title", 100, 400]],
  docFreqs: Object.entries(dfs).map(([t, df]) => [termKey(null, t), df] as const),
});

Deno.test("stats cache: a plan's statistics are answered at the version they were gathered at", () => {
  const cache = new StatsCache();
  assert.equal(cache.lookup("books", or("rust", "go"), 7), undefined);
  cache.record("books", or("rust", "go"), stats({ rust: 3, go: 5 }), 7);
  assert.deepEqual(cache.lookup("books", term("go"), 7), stats({ go: 5 }));
  assert.deepEqual(cache.lookup("books", or("go", "rust"), 7), stats({ go: 5, rust: 3 }));
  assert.equal(cache.lookup("books", or("go", "zig"), 7), undefined, "zig was never gathered");
  assert.equal(cache.lookup("books", term("go"), 8), undefined, "a shard changed since");
  assert.equal(cache.lookup("films", term("go"), 7), undefined, "another index");
});

Deno.test("stats cache: a newer version replaces the old entries; fuzzy plans are not kept", () => {
  const cache = new StatsCache();
  cache.record("books", term("rust"), stats({ rust: 3 }), 1);
  cache.record("books", term("go"), stats({ go: 5 }), 2);
  assert.equal(cache.lookup("books", term("rust"), 2), undefined);
  assert.deepEqual(cache.lookup("books", term("go"), 2), stats({ go: 5 }));
  const fuzzy: Plan = { kind: "fuzzy", field: null, term: "rusty", distance: 1 };
  cache.record("books", fuzzy, stats({ rust: 3 }), 2);
  assert.equal(cache.lookup("books", fuzzy, 2), undefined);
  cache.forget("books");
  assert.equal(cache.lookup("books", term("go"), 2), undefined);
});

Deno.test("stats cache: past the bound over every index the kept terms start over", () => {
  const cache = new StatsCache();
  const half = MAX_CACHED_TERMS / 2;
  const many = (prefix: string) => Array.from({ length: half }, (_, i) => `${prefix}${i}`);
  const all = (terms: string[]) => stats(Object.fromEntries(terms.map((t) => [t, 1])));
  cache.record("books", or(...many("b")), all(many("b")), 1);
  cache.record("films", or(...many("f")), all(many("f")), 1);
  assert.equal(cache.size, MAX_CACHED_TERMS);
  assert.ok(cache.lookup("books", term("b5"), 1) !== undefined);
  cache.record("books", term("extra"), stats({ extra: 2 }), 1);
  assert.equal(cache.lookup("films", term("f5"), 1), undefined, "dropped at the bound");
  assert.deepEqual(cache.lookup("books", term("extra"), 1), stats({ extra: 2 }));
  assert.equal(cache.size, 1);
});

Deno.test("stats cache: an entry of an older version is dropped when it is looked up", () => {
  const cache = new StatsCache();
  cache.record("books", term("rust"), stats({ rust: 3 }), 1);
  assert.equal(cache.size, 1);
  assert.equal(cache.lookup("books", term("rust"), 2), undefined);
  assert.equal(cache.size, 0, "nothing of an index that changed stays kept");
});
