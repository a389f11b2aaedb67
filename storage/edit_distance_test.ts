import assert from "node:assert/strict";
import { editDistance, expandFuzzy } from "./edit_distance.ts";

Deno.test("edit distance: insertions, deletions, substitutions, capped past the maximum", () => {
  assert.equal(editDistance("programming", "progamming", 2), 1);
  assert.equal(editDistance("kitten", "sitting", 3), 3);
  assert.equal(editDistance("kitten", "sitting", 2), 3);
  assert.equal(editDistance("", "ab", 2), 2);
  assert.equal(editDistance("rust", "rust", 1), 0);
});

Deno.test("edit distance: an adjacent transposition is one edit (Damerau)", () => {
  assert.equal(editDistance("appel", "apple", 1), 1);
  assert.equal(editDistance("teh", "the", 1), 1);
  assert.equal(editDistance("ab", "ba", 1), 1);
  // Not adjacent: two substitutions.
  assert.equal(editDistance("abc", "cba", 2), 2);
  // Optimal string alignment: a transposed pair is not edited again.
  assert.equal(editDistance("ca", "abc", 3), 3);
});

Deno.test("edit distance: agrees with a full dynamic program on random pairs", () => {
  let seed = 7;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const word = () =>
    Array.from({ length: Math.floor(random() * 7) }, () => "abcd"[Math.floor(random() * 4)])
      .join("");
  for (let n = 0; n < 2_000; n++) {
    const a = word();
    const b = word();
    const full = osa(a, b);
    for (const max of [0, 1, 2]) {
      assert.equal(editDistance(a, b, max), Math.min(full, max + 1), `${a} ~ ${b} (max ${max})`);
    }
  }
});

/** The reference: optimal string alignment distance, no cut-off. */
function osa(a: string, b: string): number {
  const d = Array.from(
    { length: a.length + 1 },
    (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1;
      d[i]![j] = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) {
        d[i]![j] = Math.min(d[i]![j]!, d[i - 2]![j - 2]! + 1);
      }
    }
  }
  return d[a.length]![b.length]!;
}

Deno.test("edit distance: fuzzy expansion, closest first", () => {
  assert.deepEqual(expandFuzzy("rust", 1, ["rust", "bust", "rusty", "trust", "ruby", "go"], 10), [
    "rust",
    "bust",
    "rusty",
    "trust",
  ]);
  assert.deepEqual(expandFuzzy("rust", 1, ["bust", "rust", "must"], 2), ["rust", "bust"]);
  assert.deepEqual(expandFuzzy("appel", 1, ["apple", "apply", "chapel"], 10), ["apple"]);
});
