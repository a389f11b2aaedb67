import assert from "node:assert/strict";
import { Microshard } from "../storage/microshard.ts";
import type { EngineName } from "../storage/search_index.ts";
import { QueryError } from "./errors.ts";
import { searchShards } from "./pipeline.ts";
import { mergedSchema, type SearchAnswer } from "./search.ts";

const BOOKS: Array<{ id: string; doc: Record<string, unknown> }> = [
  {
    id: "b1",
    doc: {
      title: "Rust Programming",
      body: "Safe systems programming with a small bike of ideas",
      year: 2019,
      price: 39.5,
      status: "active",
      draft: false,
      tags: ["rust", "systems"],
      author: { name: "Steve Klabnik" },
      created: "2019-08-12",
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
      author: { name: "William Kennedy" },
      created: "2015-11-01",
    },
  },
  {
    id: "b3",
    doc: {
      title: "Rustacean Handbook",
      body: "A small red bike ride through ownership and borrowing",
      year: 2024,
      price: 45,
      status: "pending",
      draft: true,
      tags: ["rust", "draft"],
      author: { name: "Émile Café" },
      created: "2024-02-29T10:00:00Z",
    },
  },
  {
    id: "b4",
    doc: {
      title: "Database Internals",
      body: "Storage engines, B-trees and LSM trees; data structures for databases",
      year: 2021,
      price: 52.25,
      status: "archived",
      draft: false,
      tags: ["databases", "storage"],
      author: { name: "Alex Petrov" },
      created: "2021-06-30",
    },
  },
  {
    id: "b5",
    doc: {
      title: "Programming Rust",
      body: "Fast, safe systems development; the rust book for programming pros",
      year: 2021,
      price: 59.99,
      status: "active",
      draft: false,
      tags: ["rust"],
      author: { name: "Jim Blandy" },
      created: "2021-07-20",
    },
  },
];

async function withIndex(
  engine: EngineName,
  fn: (search: (body: unknown) => Promise<SearchAnswer>) => Promise<void>,
) {
  const dirs: string[] = [];
  const shards: Microshard[] = [];
  try {
    for (let i = 0; i < 3; i++) {
      const dir = await Deno.makeTempDir();
      dirs.push(dir);
      const shard = await Microshard.open({ dir, defaultEngine: engine });
      shards.push(shard);
      // The schema is declared on every shard (the node does this for its shards).
      await shard.configure("books", { fields: [{ name: "status", type: "string" }] });
    }
    const placed = BOOKS.map((book, i) => ({ book, shard: shards[i % 3]! }));
    for (const { book, shard } of placed) {
      const [outcome] = await shard.write([{
        op: "put",
        index: "books",
        id: book.id,
        doc: book.doc,
      }]);
      assert.ok(outcome?.ok, JSON.stringify(outcome));
    }
    // Give every shard the full schema, as the node's schema cache does.
    const schema = mergedSchema(shards.map((shard) => shard.indexes()[0]!.schema));
    const fields = Object.entries(schema.fields).map(([name, def]) => ({ name, type: def.type }));
    for (const shard of shards) await shard.configure("books", { fields });
    await fn((body) => searchShards(shards, "books", body));
  } finally {
    for (const shard of shards) await shard.close();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
}

/** [query, expected ids; in order when `ordered`] */
const CASES: Array<[string, string[], "ordered"?]> = [
  ["rust", ["b1", "b3", "b5"]],
  ["rust database", ["b1", "b3", "b4", "b5"]],
  ["*", ["b1", "b2", "b3", "b4", "b5"]],
  ["title:rust", ["b1", "b5"]],
  ["year:2021", ["b4", "b5"]],
  ["draft:false", ["b1", "b2", "b4", "b5"]],
  ["status:active", ["b1", "b2", "b5"]],
  ["author.name:klabnik", ["b1"]],
  ["author.name:emile", ["b3"]],
  ['title:"rust programming"', ["b1"]],
  ['title:"programming rust"', ["b5"]],
  ['body:"small bike"', ["b1"]],
  ['body:"small bike"~1', ["b1", "b3"]],
  ["title:data*", ["b4"]],
  ["title:progamming~1", ["b1", "b5"]],
  ["title:prgramming~2", ["b1", "b5"]],
  ["(title:rust OR title:go) AND -tags:draft", ["b1", "b2", "b5"]],
  ["+rust -draft:true", ["b1", "b5"]],
  ["rust AND NOT draft:true", ["b1", "b5"]],
  ["* -tags:rust", ["b2", "b4"]],
  ["year:[2020 TO *]", ["b3", "b4", "b5"]],
  ["year:{2019 TO 2024}", ["b4", "b5"]],
  ["year:[2019 TO 2021}", ["b1"]],
  ["price:>=45", ["b3", "b4", "b5"]],
  ["price:<30", ["b2"]],
  ["created:[2024-01-01 TO 2024-12-31]", ["b3"]],
  ["created:2021", ["b4", "b5"]],
  ["created:2021-06", ["b4"]],
  ["created:[2019 TO 2021}", ["b1"]],
  ["created:>2021-06-30", ["b3", "b5"]],
  ["status: IN [active pending]", ["b1", "b2", "b3", "b5"]],
  ["status:act*", ["b1", "b2", "b5"]],
  ["id:b2", ["b2"]],
  ["id:b2 OR id:b4", ["b2", "b4"]],
  ["rust and go", ["b1", "b2", "b3", "b4", "b5"]],
  ["* sort year:desc sort price:asc", ["b3", "b4", "b5", "b1", "b2"], "ordered"],
  ["title:rust sort year:desc", ["b5", "b1"], "ordered"],
  ["title:progamming~1 OR title:go sort year:desc", ["b5", "b1", "b2"], "ordered"],
  ['body:"small bike"~1 sort price:desc', ["b3", "b1"], "ordered"],
  ["rust sort year:asc limit 2", ["b1", "b5", "b3"], "ordered"], // the payload limit wins
  ["* sort created:asc", ["b2", "b1", "b4", "b5", "b3"], "ordered"],
  ["* sort status:asc sort year:asc", ["b2", "b1", "b5", "b4", "b3"], "ordered"],
  ["title:rust^10 OR title:go", ["b1", "b5", "b2"]],
  ["title:go^10 OR title:rust", ["b2"]],
];

for (const engine of ["fts5", "orama"] as const) {
  Deno.test(`query (${engine}): every form of the language`, async () => {
    await withIndex(engine, async (search) => {
      for (const [query, expected, ordered] of CASES) {
        const answer = await search({ query, limit: 100 });
        const ids = answer.hits.map((hit) => hit.id);
        if (ordered) assert.deepEqual(ids, expected, query);
        else if (query === "title:go^10 OR title:rust") assert.equal(ids[0], "b2", query);
        else if (query === "title:rust^10 OR title:go") assert.equal(ids.at(-1), "b2", query);
        else assert.deepEqual(ids.sort(), expected, query);
        assert.equal(answer.total_hits, answer.hits.length, `${query}: total_hits`);
      }
    });
  });

  Deno.test(`query (${engine}): modifiers, payload overrides, paging, counting`, async () => {
    await withIndex(engine, async (search) => {
      const inline = await search({ query: "* sort year:asc limit 2 offset 1 return title,year" });
      assert.deepEqual(inline.hits.map((hit) => hit.id), ["b1", "b4"]);
      assert.deepEqual(Object.keys(inline.hits[0]!).sort(), ["_score", "id", "title", "year"]);
      assert.equal(inline.total_hits, 5);
      assert.equal(inline.limit, 2);
      assert.equal(inline.offset, 1);
      const payload = await search({
        query: "* sort year:asc limit 2",
        limit: 3,
        offset: 0,
        sort: { field: "year", order: "desc" },
        fields: ["author.name"],
      });
      assert.deepEqual(payload.hits.map((hit) => hit.id), ["b3", "b4", "b5"]);
      assert.deepEqual(payload.hits[0], {
        _score: payload.hits[0]!._score,
        id: "b3",
        "author.name": "Émile Café",
      });
      const counted = await search({ query: "rust limit 0" });
      assert.deepEqual([counted.total_hits, counted.hits.length], [3, 0]);
      const defaulted = await search({ query: "*" });
      assert.equal(defaulted.limit, 10);
      assert.equal(defaulted.total_shards, 3);
      const multi = await search({
        query: "*",
        sort: [{ field: "status" }, { field: "year", order: "desc" }],
      });
      assert.deepEqual(multi.hits.map((hit) => hit.id), ["b5", "b1", "b2", "b4", "b3"]);
      // Ranking puts the better match first across shards.
      const ranked = await search({ query: "rust programming" });
      assert.ok(["b1", "b5"].includes(ranked.hits[0]!.id));
    });
  });

  Deno.test(`query (${engine}): facets are counted over the matches and summed across shards`, async () => {
    await withIndex(engine, async (search) => {
      const answer = await search({
        query: "*",
        limit: 0,
        facets: {
          status: {},
          tags: { size: 2 },
          draft: {},
          price: { ranges: [{ to: 30 }, { from: 30, to: 50 }, { from: 50 }] },
          created: { ranges: [{ to: "2020" }, { from: "2020" }] },
        },
      });
      assert.deepEqual(answer.facets, {
        status: {
          buckets: [
            { value: "active", count: 3 },
            { value: "archived", count: 1 },
            { value: "pending", count: 1 },
          ],
        },
        tags: { buckets: [{ value: "rust", count: 3 }, { value: "databases", count: 1 }] },
        draft: { buckets: [{ value: false, count: 4 }, { value: true, count: 1 }] },
        price: {
          buckets: [
            { to: 30, count: 1 },
            { from: 30, to: 50, count: 2 },
            { from: 50, count: 2 },
          ],
        },
        created: {
          buckets: [
            { to: Date.UTC(2020, 0, 1), count: 2 },
            { from: Date.UTC(2020, 0, 1), count: 3 },
          ],
        },
      });
      const rust = await search({ query: "rust", facets: { status: { size: 1 } } });
      assert.deepEqual(rust.facets, { status: { buckets: [{ value: "active", count: 2 }] } });
      const errors: Array<[unknown, RegExp]> = [
        [{ nosuch: {} }, /unknown field "nosuch"/],
        [{ title: {} }, /value counts need a string or boolean field or an array field/],
        [{ status: { ranges: [{ to: 1 }] } }, /ranges need a number or date field/],
        [{ price: { ranges: [{ to: "cheap" }] } }, /"to" must be a number/],
        [{ status: { size: 0 } }, /"size" must be an integer from 1 to 100/],
        [{ status: { top: 3 } }, /unknown option "top"/],
        [["status"], /"facets" must be an object/],
      ];
      for (const [facets, message] of errors) {
        await assert.rejects(search({ query: "*", facets }), (error: Error) => {
          assert.equal(error.name, "InvalidInputError");
          assert.match(error.message, message);
          return true;
        });
      }
    });
  });

  Deno.test(`query (${engine}): every class of error is a 400-class error naming what and where`, async () => {
    await withIndex(engine, async (search) => {
      const errors: Array<[unknown, string, RegExp]> = [
        [{ query: "title:(rust" }, "QueryError", /Expected '\)'|Expected a term/],
        [{ query: "nosuch:rust" }, "QueryError", /Unknown field "nosuch".*known fields: author/s],
        [{ query: "year:abc" }, "QueryError", /Field "year" expects i64, got "abc" at position 6/],
        [{ query: "price:cheap" }, "QueryError", /Field "price" expects f64/],
        [{ query: "draft:maybe" }, "QueryError", /expects boolean/],
        [{ query: "created:yesterday" }, "QueryError", /expects a date/],
        [{ query: "year:[2024 TO 2020]" }, "QueryError", /Malformed range for field "year"/],
        [
          { query: "title:[a TO b]" },
          "QueryError",
          /ranges and comparisons need a number, date or string/,
        ],
        [{ query: "year:20*" }, "QueryError", /a prefix needs a text or string field/],
        [{ query: "year:2020~1" }, "QueryError", /fuzzy terms need a text field/],
        [{ query: "author:klabnik" }, "QueryError", /is json: query one of its paths/],
        [{ query: "-rust" }, "QueryError", /only excluding clauses/],
        [{ query: "!!!" }, "QueryError", /no letters or digits/],
        [{ query: "* sort title:asc" }, "QueryError", /Cannot sort by "title" \(text\)/],
        [{ query: "* sort nosuch:asc" }, "QueryError", /Cannot sort by unknown field "nosuch"/],
        [{ query: "* return nosuch" }, "QueryError", /Cannot return unknown field "nosuch"/],
        [{ query: "*", limit: -1 }, "InvalidInputError", /"limit" must be a non-negative integer/],
        [{ query: "*", limit: 10_001 }, "InvalidInputError", /"limit" must be at most 10000/],
        [
          { query: "*", limit: "ten" },
          "InvalidInputError",
          /"limit" must be a non-negative integer/,
        ],
        [{ query: "*", offset: 9_999, limit: 2 }, "InvalidInputError", /offset \+ limit/],
        [{ query: "*", sort: "year" }, "InvalidInputError", /"sort" takes/],
        [{ query: 5 }, "InvalidInputError", /"query" must be a string/],
        [{ querry: "*" }, "InvalidInputError", /Unknown search parameter "querry"/],
        [[], "InvalidInputError", /JSON object/],
      ];
      for (const [body, name, message] of errors) {
        await assert.rejects(search(body), (error: Error) => {
          assert.equal(error.name, name, `${JSON.stringify(body)}: ${error.message}`);
          assert.match(error.message, message, JSON.stringify(body));
          if (error instanceof QueryError) assert.match(error.message, /\^$/);
          return true;
        });
      }
    });
  });
}
