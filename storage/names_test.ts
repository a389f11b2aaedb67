import assert from "node:assert/strict";
import { validateDocId, validateIndexName } from "./names.ts";

Deno.test("names: index names follow the rules", () => {
  for (const good of ["books", "a", "my-index_2", "0day", "x".repeat(64)]) {
    assert.equal(validateIndexName(good), good);
  }
  for (const bad of ["", "A", "_x", "-x", "../x", "a b", "x".repeat(65), "é", 5]) {
    assert.throws(() => validateIndexName(bad), { name: "InvalidInputError" });
  }
});

Deno.test("names: ids are non-empty strings of at most 512 bytes", () => {
  assert.equal(validateDocId("b1"), "b1");
  assert.equal(validateDocId("é".repeat(256)), "é".repeat(256));
  for (const bad of ["", "é".repeat(257), 12, null]) {
    assert.throws(() => validateDocId(bad), { name: "InvalidInputError" });
  }
});

Deno.test("names: ids with lone surrogates are refused; paired ones are fine", () => {
  for (const id of ["\ud800", "a\udc00b", "x\ud83d"]) {
    assert.throws(() => validateDocId(id), /well-formed Unicode/);
  }
  assert.equal(validateDocId("rocket-\u{1f680}"), "rocket-\u{1f680}");
});

Deno.test("names: a missing id is named as missing", () => {
  assert.throws(() => validateDocId(undefined), /No document id: an "id" .* is required/);
});
