/**
 * The one conformance suite every {@linkcode SearchIndex} engine passes, with the same
 * documents, plans and expected results for all. Each engine's test file calls
 * {@linkcode runSearchIndexConformance}.
 *
 * @module
 */

import assert from "node:assert/strict";
import { declareFields, EMPTY_SCHEMA, flatten, planSchema, type Schema } from "./schema.ts";
import type { IndexOp, Plan, SearchIndex } from "./search_index.ts";
import { SearchTimeoutError } from "./errors.ts";

/** Builds an engine for a schema; `reopen` (durable engines) opens the same files again. */
export interface EngineHarness {
  create(schema: Schema): SearchIndex;
  reopen?(schema: Schema): SearchIndex;
  cleanup(): void;
}

const BOOKS = [
  {
    id: "b1",
    doc: {
      title: "Rust Programming",
      body: "Safe systems programming with Rust",
      year: 2019,
      price: 39.5,
      status: "active",
      draft: false,
      tags: ["rust", "systems"],
      author: { name: "Klabnik" },
      published: "2019-08-12",
    },
  },
  {
    id: "b2",
    doc: {
      title: "Go in Action",
      body: "Concurrency in Go, simple and fast",
      year: 2016,
      price: 29,
      status: "active",
      draft: false,
      tags: ["go"],
      author: { name: "Kennedy" },
      published: "2015-11-01",
    },
  },
  {
    id: "b3",
    doc: {
      title: "Rustacean Handbook",
      body: "Rust rust rust: a small bike ride through ownership",
      year: 2024,
      price: 45,
      status: "draft",
      draft: true,
      tags: ["rust"],
      author: { name: "Émile Café" },
      published: "2024-02-29",
    },
  },
  {
    id: "b4",
    doc: {
      title: "Databases",
      body: "Storage engines, B-trees and LSM trees",
      year: 2021,
      price: 52.25,
      status: "pending",
      draft: false,
      tags: ["databases", "storage"],
      author: { name: "Petrov" },
      published: "2021-06-30",
    },
  },
];

function schemaFor(docs: ReadonlyArray<{ doc: Record<string, unknown> }>): Schema {
  // `status` is declared string (exact values); the rest is inferred.
  const declared = declareFields(EMPTY_SCHEMA, [{ name: "status", type: "string" }]);
  const plan = planSchema(declared, docs.map((d) => d.doc));
  assert.ok(plan.errors.every((e) => e === undefined));
  return plan.schema;
}

function puts(
  schema: Schema,
  docs: ReadonlyArray<{ id: string; doc: Record<string, unknown> }>,
): IndexOp[] {
  return docs.map(({ id, doc }) => ({ op: "put", id, values: flatten(schema, doc) }));
}

function ids(index: SearchIndex, plan: Plan): string[] {
  return index.search(plan, { limit: 100, offset: 0 }).hits.map((hit) => hit.id).sort();
}

const term = (field: string | null, t: string): Plan => ({ kind: "term", field, term: t });

/** One conformance case: what it checks, and the check. */
interface ConformanceCase {
  readonly title: string;
  /** Only for engines that keep their data across a reopen. */
  readonly durableOnly?: boolean;
  readonly run: (h: EngineHarness) => void;
}

/** An engine holding the four books, applied at sequence number 4. */

function loaded(h: EngineHarness): SearchIndex {
  const schema = schemaFor(BOOKS);
  const index = h.create(schema);
  index.apply(puts(schema, BOOKS), 4);
  return index;
}

const CASES: readonly ConformanceCase[] = [
  {
    title: "terms match whole words in one field or in every text field",
    run: (h) => {
      const index = loaded(h);
      assert.deepEqual(ids(index, term("title", "rust")), ["b1"]);
      assert.deepEqual(ids(index, term(null, "rust")), ["b1", "b3"]);
      assert.deepEqual(ids(index, term("tags", "storage")), ["b4"]);
      assert.deepEqual(ids(index, term("author.name", "emile")), ["b3"]);
      assert.deepEqual(ids(index, term("title", "rus")), [], "a prefix is not a term");
      assert.deepEqual(ids(index, term("nosuchfield", "rust")), []);
      index.close();
    },
  },
  {
    title: "ranking puts the document with more occurrences first",
    run: (h) => {
      const docs = [
        { id: "once", doc: { body: "rust alpha beta gamma delta" } },
        { id: "thrice", doc: { body: "rust rust rust gamma delta" } },
        { id: "none", doc: { body: "alpha beta gamma delta epsilon" } },
      ];
      const schema = schemaFor(docs);
      const index = h.create(schema);
      index.apply(puts(schema, docs), 3);
      const { hits } = index.search(term("body", "rust"), { limit: 10, offset: 0 });
      assert.deepEqual(hits.map((hit) => hit.id), ["thrice", "once"]);
      assert.ok(hits[0]!.score > hits[1]!.score && hits[1]!.score > 0);
      index.close();
    },
  },
  {
    title: "every engine gives the same BM25 score (Lucene's idf, k1 = 1.2, b = 0.75)",
    run: (h) => {
      const docs = [
        { id: "a", doc: { title: "The Rust Programming Language" } },
        { id: "b", doc: { title: "Programming Rust" } },
        { id: "c", doc: { title: "Rust" } },
      ];
      const schema = schemaFor(docs);
      const index = h.create(schema);
      index.apply(puts(schema, docs), 3);
      const { hits } = index.search(term("title", "rust"), { limit: 10, offset: 0 });
      // The shortest title first; the scores worked out by hand: idf = ln(1 + 0.5 / 3.5),
      // average length 7 / 3, tf~ = 1 / (0.25 + 0.75 · len / avg), score = idf · 2.2 tf~ / (tf~ + 1.2).
      assert.deepEqual(hits.map((hit) => hit.id), ["c", "b", "a"]);
      const idf = Math.log(1 + 0.5 / 3.5);
      const expected = [1, 2, 4].map((len) => {
        const tf = 1 / (0.25 + 0.75 * len / (7 / 3));
        return idf * 2.2 * tf / (tf + 1.2);
      });
      hits.forEach((hit, i) => assert.ok(Math.abs(hit.score - expected[i]!) < 1e-12));
      index.close();
    },
  },
  {
    title: "the index's ranking settings: k1, b and field boosts change the scores as BM25F says",
    run: (h) => {
      const docs = [
        { id: "a", doc: { title: "The Rust Programming Language", body: "a book" } },
        { id: "b", doc: { title: "Programming Rust", body: "another book" } },
        { id: "c", doc: { title: "Rust", body: "rust again" } },
      ];
      const schema = schemaFor(docs);
      const index = h.create(schema);
      index.apply(puts(schema, docs), 3);
      const page = { limit: 10, offset: 0 };
      const idf = Math.log(1 + 0.5 / 3.5);
      // Both paths: a disjunction of terms (MaxScore) and a plan scored leaf by leaf.
      for (
        const plan of [term("title", "rust"), { kind: "and", children: [term("title", "rust")] }]
      ) {
        const ranking = { k1: 2, b: 0.5 };
        const { hits } = index.search(plan as Plan, { ...page, ranking });
        const expected = [1, 2, 4].map((len) => {
          const tf = 1 / (0.5 + 0.5 * len / (7 / 3));
          return idf * 3 * tf / (tf + 2);
        });
        assert.deepEqual(hits.map((hit) => hit.id), ["c", "b", "a"]);
        hits.forEach((hit, i) => assert.ok(Math.abs(hit.score - expected[i]!) < 1e-12));
        // b = 0: lengths do not count, every score is the same (then by id).
        const flat = index.search(plan as Plan, { ...page, ranking: { k1: 1.2, b: 0 } }).hits;
        assert.deepEqual(flat.map((hit) => hit.id), ["a", "b", "c"]);
        assert.ok(flat.every((hit) => Math.abs(hit.score - flat[0]!.score) < 1e-12));
      }
      // A bare word over both fields: "c" holds rust in both; a body boost lifts a body match.
      const both = term(null, "rust");
      const plain = index.search(both, page).hits;
      const boosted = index.search(both, {
        ...page,
        ranking: { k1: 1.2, b: 0.75, boosts: [["body", 5]] },
      }).hits;
      assert.equal(plain[0]!.id, "c");
      assert.ok(boosted[0]!.score > plain[0]!.score, "the boosted field adds more");
      const titleOnly = index.search(both, {
        ...page,
        ranking: { k1: 1.2, b: 0.75, boosts: [["title", 0.001]] },
      }).hits;
      assert.deepEqual(titleOnly.map((hit) => hit.id), ["c", "b", "a"]);
      assert.ok(titleOnly[1]!.score < 0.01, "a title match barely counts at boost 0.001");
      index.close();
    },
  },
  {
    title: "a bare word is one BM25F score over every text field, from outside statistics too",
    run: (h) => {
      const index = loaded(h);
      const plan = term(null, "rust");
      const local = index.search(plan, { limit: 10, offset: 0 });
      // The same statistics handed in give the same scores; other statistics, others.
      const same = index.search(plan, { limit: 10, offset: 0, stats: index.stats(plan) });
      assert.deepEqual(same.hits, local.hits);
      const stats = index.stats(plan);
      const bigger = { ...stats, docCount: stats.docCount * 10 };
      const other = index.search(plan, { limit: 10, offset: 0, stats: bigger });
      assert.deepEqual(other.hits.map((hit) => hit.id), local.hits.map((hit) => hit.id));
      assert.ok(other.hits[0]!.score > local.hits[0]!.score);
      // b3 holds "rust" three times in its body; b1 in its title and once in its body.
      assert.deepEqual(local.hits.map((hit) => hit.id).sort(), ["b1", "b3"]);
    },
  },
  {
    title: "a word matches exactly: a prefix of a longer word neither matches nor scores",
    run: (h) => {
      const docs = [
        { id: "format", doc: { body: "format formatting formats" } },
        { id: "for", doc: { body: "made for you" } },
      ];
      const schema = schemaFor(docs);
      const index = h.create(schema);
      index.apply(puts(schema, docs), 2);
      const result = index.search(
        { kind: "or", children: [term(null, "for"), term(null, "you")] },
        { limit: 10, offset: 0 },
      );
      assert.deepEqual(result.hits.map((hit) => hit.id), ["for"]);
      assert.equal(result.total, 1);
      index.close();
    },
  },
  {
    title: "every positive term of a long disjunction scores, and the total stays exact",
    run: (h) => {
      const words = Array.from({ length: 24 }, (_, i) => `w${i}`);
      const docs = words.map((word, i) => ({ id: `d${i}`, doc: { body: `${word} filler` } }));
      const schema = schemaFor(docs);
      const index = h.create(schema);
      index.apply(puts(schema, docs), docs.length);
      // The 24th term scores like the first (there is no cap on scoring leaves).
      const plan: Plan = {
        kind: "or",
        children: words.map((word, i) =>
          i === 23 ? { kind: "boost", child: term(null, word), factor: 2 } : term(null, word)
        ),
      };
      const result = index.search(plan, { limit: 3, offset: 0 });
      assert.equal(result.total, 24);
      assert.equal(result.hits[0]!.id, "d23");
      assert.ok(result.hits[0]!.score > result.hits[1]!.score);
      index.close();
    },
  },
  {
    title: "eq and range filter numbers, dates, booleans and strings",
    run: (h) => {
      const index = loaded(h);
      assert.deepEqual(ids(index, { kind: "eq", field: "year", value: 2016 }), ["b2"]);
      assert.deepEqual(ids(index, { kind: "eq", field: "draft", value: true }), ["b3"]);
      assert.deepEqual(ids(index, { kind: "eq", field: "status", value: "active" }), ["b1", "b2"]);
      assert.deepEqual(ids(index, { kind: "range", field: "year", gte: 2019, lt: 2024 }), [
        "b1",
        "b4",
      ]);
      assert.deepEqual(ids(index, { kind: "range", field: "price", gt: 45 }), ["b4"]);
      assert.deepEqual(
        ids(index, { kind: "range", field: "published", gte: Date.UTC(2020, 0, 1) }),
        ["b3", "b4"],
      );
      index.close();
    },
  },
  {
    title: "boolean structure: and, or, not, all, none",
    run: (h) => {
      const index = loaded(h);
      const rust = term(null, "rust");
      assert.deepEqual(ids(index, { kind: "all" }), ["b1", "b2", "b3", "b4"]);
      assert.deepEqual(ids(index, { kind: "none" }), []);
      assert.deepEqual(
        ids(index, { kind: "and", children: [rust, { kind: "eq", field: "draft", value: false }] }),
        ["b1"],
      );
      assert.deepEqual(
        ids(index, { kind: "or", children: [term("title", "go"), term("title", "databases")] }),
        [
          "b2",
          "b4",
        ],
      );
      assert.deepEqual(
        ids(index, { kind: "and", children: [{ kind: "all" }, { kind: "not", child: rust }] }),
        [
          "b2",
          "b4",
        ],
      );
      assert.deepEqual(ids(index, { kind: "and", children: [term(null, "safe"), rust] }), ["b1"]);
      index.close();
    },
  },
  {
    title: "total is exact and pages come in score order",
    run: (h) => {
      const index = loaded(h);
      const all = index.search({ kind: "all" }, { limit: 2, offset: 0 });
      assert.equal(all.total, 4);
      assert.equal(all.hits.length, 2);
      const next = index.search({ kind: "all" }, { limit: 2, offset: 2 });
      assert.deepEqual([...all.hits, ...next.hits].map((hit) => hit.id), ["b1", "b2", "b3", "b4"]);
      const counted = index.search(term(null, "rust"), { limit: 0, offset: 0 });
      assert.deepEqual(counted, { total: 2, hits: [] });
      index.close();
    },
  },
  {
    title: "updates replace a document and deletes remove it",
    run: (h) => {
      const index = loaded(h);
      const schema = schemaFor(BOOKS);
      index.apply([
        { op: "put", id: "b1", values: flatten(schema, { title: "Go Programming", year: 2020 }) },
        { op: "delete", id: "b2" },
        { op: "delete", id: "never-existed" },
      ], 7);
      assert.equal(index.appliedSeq(), 7);
      assert.equal(index.count(), 3);
      assert.deepEqual(ids(index, term("title", "rust")), []);
      assert.deepEqual(ids(index, term("title", "go")), ["b1"]);
      assert.deepEqual(ids(index, { kind: "eq", field: "year", value: 2019 }), []);
      assert.deepEqual(ids(index, { kind: "eq", field: "year", value: 2020 }), ["b1"]);
      // The same id twice in one batch: the last one wins.
      index.apply([
        { op: "put", id: "x", values: flatten(schema, { title: "first" }) },
        { op: "put", id: "x", values: flatten(schema, { title: "second" }) },
      ], 8);
      assert.deepEqual(ids(index, term("title", "first")), []);
      assert.deepEqual(ids(index, term("title", "second")), ["x"]);
      index.close();
    },
  },
  {
    title: "new text fields are searchable at once, past the initial columns too",
    run: (h) => {
      const index = loaded(h);
      let schema = schemaFor(BOOKS);
      const wide = Object.fromEntries(
        Array.from({ length: 40 }, (_, i) => [`extra${i}`, `word${i} shared`]),
      );
      schema = planSchema(schema, [wide]).schema;
      if (index.updateSchema(schema) === "rebuild") {
        index.reset(schema, index.appliedSeq());
        index.apply(puts(schema, BOOKS), index.appliedSeq());
      }
      index.apply([{ op: "put", id: "w", values: flatten(schema, wide) }], 9);
      assert.deepEqual(ids(index, term("extra39", "word39")), ["w"]);
      assert.deepEqual(ids(index, term(null, "shared")), ["w"]);
      assert.deepEqual(ids(index, term("title", "rust")), ["b1"], "old documents still found");
      index.close();
    },
  },
  {
    title: "phrases: exact, and with slop as Lucene (order-aware)",
    run: (h) => {
      const index = loaded(h);
      const phrase = (field: string | null, terms: string[], slop = 0): Plan => ({
        kind: "phrase",
        field,
        terms,
        slop,
      });
      assert.deepEqual(ids(index, phrase("title", ["rust", "programming"])), ["b1"]);
      assert.deepEqual(
        ids(index, phrase("title", ["programming", "rust"])),
        [],
        "order matters at slop 0",
      );
      assert.deepEqual(ids(index, phrase("body", ["small", "ride"])), []);
      assert.deepEqual(ids(index, phrase("body", ["small", "ride"], 1)), ["b3"]);
      // Lucene's slop: the moves that bring the terms into the phrase's order.
      assert.deepEqual(ids(index, phrase("body", ["ride", "small"], 1)), [], "order counts");
      assert.deepEqual(ids(index, phrase("body", ["ride", "small"], 2)), []);
      assert.deepEqual(ids(index, phrase("body", ["ride", "small"], 3)), ["b3"]);
      assert.deepEqual(ids(index, phrase("body", ["bike", "small"], 1)), [], "a swap costs 2");
      assert.deepEqual(ids(index, phrase("body", ["bike", "small"], 2)), ["b3"]);
      assert.deepEqual(ids(index, phrase("body", ["rust", "rust", "rust", "rust"], 9)), []);
      assert.deepEqual(ids(index, phrase("body", ["rust", "a", "rust"], 1)), []);
      assert.deepEqual(ids(index, phrase("body", ["rust", "a", "rust"], 2)), ["b3"]);
      assert.deepEqual(ids(index, phrase("title", ["rust", "programming"], 1)), ["b1"]);
      assert.deepEqual(
        ids(index, { kind: "not", child: phrase("body", ["bike", "small"], 1) }),
        ids(index, { kind: "all" }),
        "a sloppy phrase under a not",
      );
      assert.deepEqual(ids(index, phrase("body", ["rust", "ownership"], 4)), []);
      assert.deepEqual(ids(index, phrase("body", ["rust", "ownership"], 5)), ["b3"]);
      assert.deepEqual(ids(index, phrase(null, ["go", "simple"], 1)), ["b2"]);
      index.close();
    },
  },
  {
    title: "prefix and fuzzy terms expand to whole terms",
    run: (h) => {
      const index = loaded(h);
      assert.deepEqual(ids(index, { kind: "prefix", field: "title", prefix: "rust" }), [
        "b1",
        "b3",
      ]);
      assert.deepEqual(ids(index, { kind: "prefix", field: null, prefix: "data" }), ["b4"]);
      assert.deepEqual(ids(index, { kind: "prefix", field: "title", prefix: "zzz" }), []);
      assert.deepEqual(
        ids(index, { kind: "fuzzy", field: "title", term: "progamming", distance: 1 }),
        ["b1"],
      );
      assert.deepEqual(
        ids(index, { kind: "fuzzy", field: "title", term: "progaming", distance: 1 }),
        [],
      );
      assert.deepEqual(
        ids(index, { kind: "fuzzy", field: "title", term: "progaming", distance: 2 }),
        ["b1"],
      );
      assert.deepEqual(
        ids(index, { kind: "fuzzy", field: null, term: "konkurrency", distance: 2 }),
        [
          "b2",
        ],
      );
      index.close();
    },
  },
  {
    title: "a search or its statistics past the deadline stop with SearchTimeoutError",
    run: (h) => {
      const index = loaded(h);
      const past = { deadlineAtMs: Date.now() - 1 };
      const plans: Plan[] = [
        { kind: "term", field: null, term: "rust" },
        { kind: "phrase", field: "body", terms: ["small", "ride"], slop: 1 },
        { kind: "and", children: [{ kind: "fuzzy", field: null, term: "rusd", distance: 1 }] },
      ];
      for (const plan of plans) {
        assert.throws(
          () => index.search(plan, { limit: 10, offset: 0, ...past }),
          SearchTimeoutError,
        );
        assert.throws(() => index.stats(plan, past), SearchTimeoutError);
        const later = { limit: 10, offset: 0, deadlineAtMs: Date.now() + 60_000 };
        assert.ok(index.search(plan, later).total > 0, "a later deadline does not stop it");
      }
      index.close();
    },
  },
  {
    title: "ids, boosts and optional clauses",
    run: (h) => {
      const index = loaded(h);
      assert.deepEqual(ids(index, { kind: "ids", ids: ["b2", "b4", "nope"] }), ["b2", "b4"]);
      const order = (plan: Plan) =>
        index.search(plan, { limit: 10, offset: 0 }).hits.map((hit) => hit.id);
      const goOrRust: Plan = { kind: "or", children: [term("title", "go"), term("title", "rust")] };
      const boosted: Plan = {
        kind: "or",
        children: [
          { kind: "boost", child: term("title", "go"), factor: 50 },
          term("title", "rust"),
        ],
      };
      assert.deepEqual(new Set(order(goOrRust)), new Set(["b1", "b2"]));
      assert.equal(order(boosted)[0], "b2", "a boost lifts its clause");
      const reverse: Plan = {
        kind: "or",
        children: [term("title", "go"), {
          kind: "boost",
          child: term("title", "rust"),
          factor: 50,
        }],
      };
      assert.equal(order(reverse)[0], "b1");
      // rank: only `match` decides; optional clauses add to the score.
      const rank: Plan = {
        kind: "rank",
        match: term(null, "rust"),
        optional: [term("title", "handbook")],
      };
      assert.deepEqual(order(rank), ["b3", "b1"]);
      assert.deepEqual(
        ids(index, { kind: "rank", match: term(null, "go"), optional: [term(null, "rust")] }),
        ["b2"],
      );
      index.close();
    },
  },
  {
    title: "sort by numbers, dates and strings, both orders, missing values last",
    run: (h) => {
      const index = loaded(h);
      const sorted = (field: string, order: "asc" | "desc") =>
        index.search({ kind: "all" }, { limit: 10, offset: 0, sort: [{ field, order }] }).hits;
      assert.deepEqual(sorted("year", "asc").map((hit) => hit.id), ["b2", "b1", "b4", "b3"]);
      assert.deepEqual(sorted("year", "desc").map((hit) => hit.id), ["b3", "b4", "b1", "b2"]);
      assert.deepEqual(sorted("year", "desc")[0]?.sortValues, [2024]);
      assert.deepEqual(sorted("published", "asc").map((hit) => hit.id), ["b2", "b1", "b4", "b3"]);
      assert.deepEqual(sorted("price", "desc").map((hit) => hit.id), ["b4", "b3", "b1", "b2"]);
      const schema = schemaFor(BOOKS);
      index.apply([{ op: "put", id: "b5", values: flatten(schema, { title: "No year" }) }], 5);
      assert.equal(sorted("year", "asc").at(-1)?.id, "b5");
      assert.equal(sorted("year", "desc").at(-1)?.id, "b5");
      assert.deepEqual(sorted("year", "asc").at(-1)?.sortValues, [null]);
      const paged = index.search({ kind: "all" }, {
        limit: 2,
        offset: 1,
        sort: [{ field: "year", order: "asc" }],
      });
      assert.deepEqual(paged.hits.map((hit) => hit.id), ["b1", "b4"]);
      index.close();
    },
  },
  {
    title: "facets: value counts and range buckets over the matching documents",
    run: (h) => {
      const index = loaded(h);
      const [status, tags, draft, years] = index.facets({ kind: "all" }, [
        { field: "status", kind: "values", size: 10 },
        { field: "tags", kind: "values", size: 2 },
        { field: "draft", kind: "values", size: 10 },
        {
          field: "year",
          kind: "ranges",
          ranges: [{ to: 2018 }, { from: 2018, to: 2022 }, { from: 2022 }],
        },
      ]);
      assert.deepEqual(status, {
        kind: "values",
        buckets: [{ value: "active", count: 2 }, { value: "draft", count: 1 }, {
          value: "pending",
          count: 1,
        }],
      });
      assert.deepEqual(tags, {
        kind: "values",
        buckets: [{ value: "rust", count: 2 }, { value: "databases", count: 1 }],
      });
      assert.deepEqual(draft, {
        kind: "values",
        buckets: [{ value: false, count: 3 }, { value: true, count: 1 }],
      });
      assert.deepEqual(years, {
        kind: "ranges",
        buckets: [{ to: 2018, count: 1 }, { from: 2018, to: 2022, count: 2 }, {
          from: 2022,
          count: 1,
        }],
      });
      const [rustTags] = index.facets(term(null, "rust"), [{
        field: "tags",
        kind: "values",
        size: 10,
      }]);
      assert.deepEqual(rustTags, {
        kind: "values",
        buckets: [{ value: "rust", count: 2 }, { value: "systems", count: 1 }],
      });
      index.close();
    },
  },
  {
    title: "reset empties the index and records the sequence number",
    run: (h) => {
      const index = loaded(h);
      index.reset(schemaFor(BOOKS), 42);
      assert.equal(index.count(), 0);
      assert.equal(index.appliedSeq(), 42);
      assert.deepEqual(ids(index, { kind: "all" }), []);
      index.close();
    },
  },
  {
    title: "a durable engine keeps documents and appliedSeq across a reopen",
    durableOnly: true,
    run: (h) => {
      if (h.reopen === undefined) throw new Error("a durable engine's harness needs reopen()");
      const index = loaded(h);
      index.close();
      const again = h.reopen(schemaFor(BOOKS));
      assert.equal(again.appliedSeq(), 4);
      assert.equal(again.count(), 4);
      assert.deepEqual(ids(again, term(null, "rust")), ["b1", "b3"]);
      again.close();
    },
  },
];

/** Registers the conformance tests for one engine. */
export function runSearchIndexConformance(
  name: string,
  harness: () => EngineHarness,
  options: { durable: boolean },
): void {
  for (const { title, durableOnly, run } of CASES) {
    if (durableOnly === true && !options.durable) continue;
    Deno.test(`${name} engine: ${title}`, () => {
      const h = harness();
      try {
        run(h);
      } finally {
        h.cleanup();
      }
    });
  }
}
