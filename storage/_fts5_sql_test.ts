import assert from "node:assert/strict";
import {
  countQuery,
  createFtsSql,
  type Fts5SqlContext,
  fuzzyKey,
  fuzzyLeaves,
  insertFtsSql,
  matchExpression,
  matchingQuery,
  phraseKey,
  quote,
  rangeFacetQuery,
  unscoredPageQuery,
  valuesFacetQuery,
  vocabularyQuery,
  whereSql,
} from "./_fts5_sql.ts";
import type { Schema } from "./schema.ts";
import { MAX_FACET_VALUES_PER_SHARD, type Plan } from "./search_index.ts";

const schema: Schema = {
  version: 1,
  fields: {
    title: { type: "text" },
    body: { type: "text" },
    year: { type: "i64" },
    tag: { type: "string" },
    draft: { type: "boolean" },
  },
};
const context: Fts5SqlContext = {
  columns: new Map([["title", 0], ["body", 1]]),
  schema,
  fuzzyTerms: new Map([[fuzzyKey("title", "progamming", 1), ["programming", "programing"]]]),
  sloppyPhrases: new Map(),
};
const term = (field: string | null, t: string): Plan => ({ kind: "term", field, term: t });

/** The SQL with its whitespace collapsed, for comparing with a literal. */
function flat(sql: string): string {
  return sql.replace(/\s+/g, " ").trim();
}

Deno.test("fts5 sql: text leaves become column-scoped FTS5 expressions", () => {
  assert.equal(matchExpression(term("title", "rust"), context), `{c0} : ("rust")`);
  assert.equal(matchExpression(term(null, "rust"), context), `("rust")`);
  assert.equal(matchExpression(term("missing", "rust"), context), undefined);
  assert.equal(
    matchExpression(term(null, "rust"), { ...context, columns: new Map() }),
    undefined,
    "no text column: nothing can match",
  );
  assert.equal(
    matchExpression({ kind: "phrase", field: "body", terms: ["small", "bike"], slop: 0 }, context),
    `{c1} : ("small bike")`,
  );
  assert.equal(
    matchExpression({ kind: "phrase", field: "body", terms: ["a", "b", "a"], slop: 2 }, context),
    `{c1} : (NEAR("a" "b", 3))`,
    "a sloppy phrase's candidates: NEAR at slop + terms - 2",
  );
  assert.equal(
    matchExpression({ kind: "prefix", field: "title", prefix: "dat" }, context),
    `{c0} : ("dat" *)`,
  );
  assert.equal(quote(`say "hi"`), `"say ""hi"""`);
});

Deno.test("fts5 sql: a sloppy phrase matches the documents the engine found", () => {
  const phrase = { kind: "phrase", field: "body", terms: ["small", "bike"], slop: 1 } as const;
  const params: Array<string | number> = [];
  const where = whereSql(phrase, params, {
    ...context,
    sloppyPhrases: new Map([[phraseKey(phrase), [3, 7]]]),
  });
  assert.equal(where, "d.rid IN (SELECT value FROM json_each(?))");
  assert.deepEqual(params, ["[3,7]"]);
});

Deno.test("fts5 sql: a fuzzy leaf matches its expansions, or nothing without any", () => {
  const fuzzy: Plan = { kind: "fuzzy", field: "title", term: "progamming", distance: 1 };
  assert.equal(matchExpression(fuzzy, context), `{c0} : ("programming" OR "programing")`);
  assert.equal(matchExpression({ ...fuzzy, distance: 2 }, context), undefined);
  assert.equal(whereSql({ ...fuzzy, distance: 2 }, [], context), "0");
  const nested: Plan = {
    kind: "rank",
    match: { kind: "not", child: fuzzy },
    optional: [{ kind: "boost", child: { ...fuzzy, term: "x" }, factor: 2 }],
  };
  assert.deepEqual(fuzzyLeaves(nested).map((leaf) => leaf.term), ["progamming", "x"]);
  assert.deepEqual(vocabularyQuery("rust", 1, 0), {
    sql: "SELECT DISTINCT term FROM vocab WHERE length(term) BETWEEN ? AND ? AND col = ?",
    params: [2, 6, "c0"],
  });
  assert.deepEqual(vocabularyQuery("ab", 2).params, [1, 5]);
});

Deno.test("fts5 sql: a value filter is a row list alone and a probe beside a text match", () => {
  const range: Plan = { kind: "range", field: "year", gte: 2000, lt: 2010 };
  const alone: Array<string | number> = [];
  assert.equal(
    whereSql(range, alone, context),
    "d.rid IN (SELECT rid FROM vals WHERE field = ? AND num >= ? AND num < ?)",
  );
  assert.deepEqual(alone, ["year", 2000, 2010]);
  const params: Array<string | number> = [];
  assert.equal(
    whereSql({ kind: "and", children: [term("title", "rust"), range] }, params, context),
    "(d.rid IN (SELECT rowid FROM fts WHERE fts MATCH ?) AND " +
      "EXISTS (SELECT 1 FROM vals v WHERE v.rid = d.rid AND field = ? AND num >= ? AND num < ?))",
  );
  assert.deepEqual(params, [`{c0} : ("rust")`, "year", 2000, 2010]);
});

Deno.test("fts5 sql: eq, ids, not, empty groups and open ranges", () => {
  const params: Array<string | number> = [];
  assert.equal(
    whereSql({ kind: "eq", field: "draft", value: true }, params, context),
    "d.rid IN (SELECT rid FROM vals WHERE field = ? AND num = ?)",
  );
  assert.equal(
    whereSql({ kind: "eq", field: "tag", value: "db" }, params, context),
    "d.rid IN (SELECT rid FROM vals WHERE field = ? AND str = ?)",
  );
  assert.deepEqual(params, ["draft", 1, "tag", "db"]);
  const ids: Array<string | number> = [];
  assert.equal(whereSql({ kind: "ids", ids: ["a", "b"] }, ids, context), "d.id IN (?, ?)");
  assert.deepEqual(ids, ["a", "b"]);
  assert.equal(whereSql({ kind: "ids", ids: [] }, [], context), "0");
  assert.equal(whereSql({ kind: "and", children: [] }, [], context), "1");
  assert.equal(whereSql({ kind: "or", children: [] }, [], context), "0");
  assert.equal(whereSql({ kind: "not", child: { kind: "all" } }, [], context), "(NOT 1)");
  assert.equal(
    whereSql({ kind: "range", field: "tag" }, [], context),
    "d.rid IN (SELECT rid FROM vals WHERE field = ? AND num IS NOT NULL)",
  );
});

Deno.test("fts5 sql: a scored search lists the matching rows with their sort keys", () => {
  const plan: Plan = { kind: "boost", child: term("title", "rust"), factor: 2 };
  const query = matchingQuery(plan, {
    limit: 10,
    offset: 5,
    sort: [{ field: "year", order: "desc" }],
  }, context);
  assert.equal(
    flat(query.sql),
    "SELECT d.rid AS rid, d.id AS id, " +
      "(SELECT max(num) FROM vals v WHERE v.rid = d.rid AND v.field = ?) AS k0 " +
      "FROM docs d WHERE d.rid IN (SELECT rowid FROM fts WHERE fts MATCH ?)",
  );
  assert.deepEqual(query.params, ["year", `{c0} : ("rust")`]);
  assert.equal(
    flat(unscoredPageQuery({ kind: "all" }, { limit: 1, offset: 0 }, context).sql),
    "SELECT d.id AS id, 0 AS score FROM docs d WHERE 1 ORDER BY d.id LIMIT ? OFFSET ?",
  );
  assert.deepEqual(countQuery(term("title", "rust"), context), {
    sql:
      "SELECT count(*) AS n FROM docs d WHERE d.rid IN (SELECT rowid FROM fts WHERE fts MATCH ?)",
    params: [`{c0} : ("rust")`],
  });
});

Deno.test("fts5 sql: facets count values or ranges over the matching documents", () => {
  const values = valuesFacetQuery(
    term("title", "rust"),
    { kind: "values", field: "draft", size: 1_000_000 },
    context,
  );
  assert.equal(
    flat(values.sql),
    "SELECT num AS value, count(DISTINCT rid) AS n FROM vals WHERE field = ? AND num IS NOT NULL " +
      "AND rid IN (SELECT d.rid FROM docs d WHERE d.rid IN (SELECT rowid FROM fts WHERE fts MATCH ?)) " +
      "GROUP BY num ORDER BY n DESC, num LIMIT ?",
  );
  assert.deepEqual(values.params, ["draft", `{c0} : ("rust")`, MAX_FACET_VALUES_PER_SHARD]);
  const range = rangeFacetQuery({ kind: "all" }, "year", { from: 2000 }, context);
  assert.equal(
    flat(range.sql),
    "SELECT count(DISTINCT rid) AS n FROM vals WHERE field = ? AND num >= ? " +
      "AND rid IN (SELECT d.rid FROM docs d WHERE 1)",
  );
  assert.deepEqual(range.params, ["year", 2000]);
});

Deno.test("fts5 sql: the FTS5 table has generic columns and a matching insert", () => {
  assert.equal(
    createFtsSql(2),
    "CREATE VIRTUAL TABLE fts USING fts5(c0, c1, content='', contentless_delete=1, " +
      "tokenize='unicode61 remove_diacritics 2')",
  );
  assert.equal(insertFtsSql(2), "INSERT INTO fts(rowid, c0, c1) VALUES (?, ?, ?)");
});
