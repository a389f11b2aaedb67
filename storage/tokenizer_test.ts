import assert from "node:assert/strict";
import { tokenize } from "./tokenizer.ts";

Deno.test("tokenizer: lowercases, strips diacritics, splits on non-alphanumerics", () => {
  assert.deepEqual(tokenize("Émile's Café: e-mail, 2024!"), [
    "emile",
    "s",
    "cafe",
    "e",
    "mail",
    "2024",
  ]);
  assert.deepEqual(tokenize("  "), []);
  assert.deepEqual(tokenize("Straße naïve Ærø"), ["straße", "naive", "ærø"]);
  assert.deepEqual(tokenize("日本語 テキスト"), ["日本語", "テキスト"]);
});

Deno.test("tokenizer: terms are cut to 255 characters", () => {
  assert.deepEqual(tokenize(`a ${"z".repeat(100_000)} b`), ["a", "z".repeat(255), "b"]);
});
