import assert from "node:assert/strict";
import { nearDistanceFor, phraseInTokens } from "./phrase_slop.ts";

const words = (text: string) => text.split(" ");

Deno.test("phrase slop: order-aware, as Lucene's sloppy phrase", () => {
  const bike = words("the bike is small");
  assert.equal(phraseInTokens(bike, ["small", "bike"], 1), false);
  assert.equal(phraseInTokens(bike, ["small", "bike"], 2), false);
  assert.equal(phraseInTokens(bike, ["small", "bike"], 3), true);
  assert.equal(phraseInTokens(words("b a"), ["a", "b"], 1), false);
  assert.equal(phraseInTokens(words("b a"), ["a", "b"], 2), true);
  assert.equal(phraseInTokens(words("a x b"), ["a", "b"], 0), false);
  assert.equal(phraseInTokens(words("a x b"), ["a", "b"], 1), true);
  assert.equal(phraseInTokens(words("a b"), ["a", "b"], 0), true);
  assert.equal(phraseInTokens(words("a c x b"), ["a", "b", "c"], 2), false, "c moved 2, b 1");
  assert.equal(phraseInTokens(words("a c x b"), ["a", "b", "c"], 3), true);
});

Deno.test("phrase slop: repeated terms take different positions", () => {
  assert.equal(phraseInTokens(words("a"), ["a", "a"], 5), false);
  assert.equal(phraseInTokens(words("a x a"), ["a", "a"], 0), false);
  assert.equal(phraseInTokens(words("a x a"), ["a", "a"], 1), true);
  assert.equal(phraseInTokens(words("a b a"), ["a", "b", "a"], 0), true);
  assert.equal(phraseInTokens(words("a a b"), ["a", "b", "a"], 1), false);
  assert.equal(phraseInTokens(words("a a b"), ["a", "b", "a"], 2), true);
});

/** The reference: every assignment of distinct positions, brute force. */
function reference(tokens: string[], terms: string[], slop: number): boolean {
  const positions = terms.map((term) => tokens.flatMap((t, i) => (t === term ? [i] : [])));
  const choose = (k: number, chosen: number[]): boolean => {
    if (k === terms.length) {
      const shifted = chosen.map((p, i) => p - i);
      return Math.max(...shifted) - Math.min(...shifted) <= slop;
    }
    return positions[k]!.some((p) => !chosen.includes(p) && choose(k + 1, [...chosen, p]));
  };
  return choose(0, []);
}

Deno.test("phrase slop: agrees with brute force on random fields, inside the NEAR bound", () => {
  let seed = 11;
  const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
  const pick = (n: number) => Array.from({ length: n }, () => "abcd"[Math.floor(random() * 4)]!);
  let matched = 0;
  for (let n = 0; n < 3_000; n++) {
    const tokens = pick(1 + Math.floor(random() * 9));
    const terms = pick(1 + Math.floor(random() * 3));
    const slop = Math.floor(random() * 4);
    const expected = reference(tokens, terms, slop);
    assert.equal(phraseInTokens(tokens, terms, slop), expected, `${tokens} ~ ${terms}~${slop}`);
    if (!expected) continue;
    matched++;
    // FTS5's NEAR over the distinct terms, at nearDistanceFor, is a superset.
    const distinct = [...new Set(terms)];
    const near = phraseInTokens(tokens, distinct, 0) || anyOrderWithin(
      tokens,
      distinct,
      nearDistanceFor(terms.length, slop),
    );
    assert.ok(near, `NEAR misses ${tokens} ~ ${terms}~${slop}`);
  }
  assert.ok(matched > 500, `only ${matched} matches compared`);
});

/** FTS5's NEAR: an occurrence of each term with at most `distance` tokens between the outermost. */
function anyOrderWithin(tokens: string[], terms: string[], distance: number): boolean {
  const positions = terms.map((term) => tokens.flatMap((t, i) => (t === term ? [i] : [])));
  const choose = (k: number, chosen: number[]): boolean => {
    if (k === terms.length) return Math.max(...chosen) - Math.min(...chosen) - 1 <= distance;
    return positions[k]!.some((p) => choose(k + 1, [...chosen, p]));
  };
  return choose(0, []);
}
