import assert from "node:assert/strict";
import { expandFuzzy, levenshtein } from "./levenshtein.ts";

Deno.test("levenshtein: distances, capped past the maximum", () => {
  assert.equal(levenshtein("programming", "progamming", 2), 1);
  assert.equal(levenshtein("kitten", "sitting", 3), 3);
  assert.equal(levenshtein("kitten", "sitting", 2), 3);
  assert.equal(levenshtein("", "ab", 2), 2);
  assert.equal(levenshtein("rust", "rust", 1), 0);
});

Deno.test("levenshtein: fuzzy expansion, closest first", () => {
  assert.deepEqual(expandFuzzy("rust", 1, ["rust", "bust", "rusty", "trust", "ruby", "go"], 10), [
    "rust",
    "bust",
    "rusty",
    "trust",
  ]);
  assert.deepEqual(expandFuzzy("rust", 1, ["bust", "rust", "must"], 2), ["rust", "bust"]);
});
