import assert from "node:assert/strict";
import { coversIndex, grantCovers, hasAction, matchesPattern } from "./actions.ts";

Deno.test("security: index patterns match names, * any run of characters", () => {
  const cases: Array<[string, string, boolean]> = [
    ["books", "books", true],
    ["books", "books2", false],
    ["logs-*", "logs-2024", true],
    ["logs-*", "logs-", true],
    ["logs-*", "logs", false],
    ["*", "anything", true],
    ["*-eu", "logs-eu", true],
    ["*-eu", "logs-us", false],
    ["a*b*c", "abc", true],
    ["a*b*c", "axxbyyc", true],
    ["a*b*c", "acb", false],
    ["ab*ba", "aba", false],
  ];
  for (const [pattern, name, expected] of cases) {
    assert.equal(matchesPattern(pattern, name), expected, `${pattern} ~ ${name}`);
  }
});

Deno.test("security: a grant holds its actions, * holds every one", () => {
  const grant = { keyId: "k", actions: ["search"] as const, indexes: ["books", "logs-*"] };
  assert.ok(hasAction({ ...grant, actions: ["search"] }, "search"));
  assert.ok(!hasAction({ ...grant, actions: ["search"] }, "documents.write"));
  assert.ok(hasAction({ ...grant, actions: ["*"] }, "keys.manage"));
  assert.ok(coversIndex({ ...grant, actions: ["search"] }, "logs-1"));
  assert.ok(!coversIndex({ ...grant, actions: ["search"] }, "other"));
});

Deno.test("security: a key may hand out only rights it holds", () => {
  const grant = { keyId: "k", actions: ["keys.manage", "search"] as const, indexes: ["logs-*"] };
  const g = { ...grant, actions: [...grant.actions] };
  assert.ok(grantCovers(g, { actions: ["search"], indexes: ["logs-*"] }));
  assert.ok(grantCovers(g, { actions: ["search"], indexes: ["logs-eu"] }));
  assert.ok(!grantCovers(g, { actions: ["search"], indexes: ["logs-eu*"] }), "a wider pattern");
  assert.ok(!grantCovers(g, { actions: ["*"], indexes: ["logs-*"] }));
  assert.ok(!grantCovers(g, { actions: ["documents.write"], indexes: ["logs-*"] }));
  assert.ok(!grantCovers(g, { actions: ["search"], indexes: ["*"] }));
});
