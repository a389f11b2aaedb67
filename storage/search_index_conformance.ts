/**
 * The one conformance suite every {@linkcode SearchIndex} engine passes, with the same
 * documents, plans and expected results for all. Each engine's test file calls
 * {@linkcode runSearchIndexConformance}.
 *
 * @module
 */

import assert from "node:assert/strict";
import { flatten, planSchema } from "./schema.ts";
import type { Plan } from "./search_index.ts";
import { SearchTimeoutError } from "./errors.ts";

import {
  BOOKS,
  type ConformanceCase,
  type EngineHarness,
  ids,
  loaded,
  puts,
  schemaFor,
  term,
} from "./_conformance_fixtures.ts";
import { RANKING_CASES } from "./_conformance_ranking.ts";

export type { EngineHarness } from "./_conformance_fixtures.ts";

/** Cases that check what matches, in what order, and what an engine keeps. */
const MATCHING_CASES: readonly ConformanceCase[] = [
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
    title:
      "an OR of thousands of eq values (a search leaving out most slots) matches, alone and negated",
    run: (h) => {
      const index = loaded(h);
      // 2,000 years, two of them held (2016 by b2, 2019 by b4 or another): one list, any depth.
      const years: Plan[] = Array.from({ length: 2_000 }, (_, k): Plan => ({
        kind: "eq",
        field: "year",
        value: 1_000 + k,
      }));
      const many: Plan = { kind: "or", children: [...years, term("title", "rust")] };
      const expected = ids(index, {
        kind: "or",
        children: [
          { kind: "range", field: "year", gte: 1_000, lt: 3_000 },
          term("title", "rust"),
        ],
      });
      assert.ok(expected.length >= 2, JSON.stringify(expected));
      assert.deepEqual(ids(index, many), expected);
      assert.deepEqual(
        ids(index, { kind: "and", children: [{ kind: "all" }, { kind: "not", child: many }] }),
        ids(index, {
          kind: "and",
          children: [{ kind: "all" }, {
            kind: "not",
            child: {
              kind: "or",
              children: [
                { kind: "range", field: "year", gte: 1_000, lt: 3_000 },
                term("title", "rust"),
              ],
            },
          }],
        }),
      );
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
  for (const { title, durableOnly, run } of [...MATCHING_CASES, ...RANKING_CASES]) {
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
