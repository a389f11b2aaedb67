import assert from "node:assert/strict";
import { declareFields, EMPTY_SCHEMA } from "../storage/schema.ts";
import { checkBudget, DEFAULT_QUERY_BUDGET, planCost } from "./budget.ts";
import { compileSearch } from "./search.ts";

const schema = declareFields(EMPTY_SCHEMA, [{ name: "title", type: "text" }, {
  name: "year",
  type: "i64",
}]);

Deno.test("budget: a plan's cost counts leaves, fuzzy terms and prefixes", () => {
  const { plan } = compileSearch(
    { query: "title:rust~1 OR title:go* OR (year:2020 AND -title:x)" },
    schema,
  );
  assert.deepEqual(planCost(plan), { clauses: 4, fuzzyTerms: 1, prefixTerms: 1 });
});

Deno.test("budget: a query of many fuzzy terms is refused before any shard works on it", () => {
  const fuzzy = Array.from({ length: 400 }, (_, i) => `x${i}~2`).join(" ");
  assert.throws(
    () => compileSearch({ query: fuzzy }, schema),
    (error: Error) =>
      error.name === "InvalidInputError" &&
      /400 fuzzy terms; at most 16 are allowed/.test(error.message),
  );
  const prefixes = Array.from({ length: 65 }, (_, i) => `t${i}*`).join(" ");
  assert.throws(() => compileSearch({ query: prefixes }, schema), /65 prefix terms/);
  const clauses = Array.from({ length: DEFAULT_QUERY_BUDGET.maxClauses + 1 }, (_, i) => `w${i}`)
    .join(" ");
  assert.throws(() => compileSearch({ query: clauses }, schema), /1025 clauses/);
  // At the bound: accepted.
  const sixteen = Array.from({ length: 16 }, (_, i) => `x${i}~1`).join(" ");
  assert.doesNotThrow(() => compileSearch({ query: sixteen }, schema));
  assert.doesNotThrow(() => checkBudget({ kind: "all" }));
});

Deno.test("budget: a smaller budget can be set per search", () => {
  assert.throws(
    () =>
      compileSearch({ query: "a b c" }, schema, {
        budget: { maxClauses: 2, maxFuzzyTerms: 1, maxPrefixTerms: 1 },
      }),
    /3 clauses; at most 2/,
  );
});
