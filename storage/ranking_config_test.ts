import assert from "node:assert/strict";
import { InvalidInputError } from "./errors.ts";
import { checkRanking, rankingFromJson, rankingJson } from "./ranking_config.ts";
import type { Schema } from "./schema.ts";

const schema: Schema = {
  version: 1,
  fields: { title: { type: "text" }, tags: { type: "text[]" }, year: { type: "i64" } },
};

Deno.test("ranking config: k1, b and boosts read from the API's shape, defaults filled in", () => {
  const ranking = rankingFromJson({ k1: 2, boosts: { title: 3, tags: 0.5 } });
  assert.deepEqual(ranking, { k1: 2, b: 0.75, boosts: [["title", 3], ["tags", 0.5]] });
  assert.deepEqual(checkRanking(ranking, schema), ranking);
  assert.deepEqual(rankingJson(ranking), { k1: 2, b: 0.75, boosts: { title: 3, tags: 0.5 } });
  assert.deepEqual(rankingJson(undefined), { k1: 1.2, b: 0.75, boosts: {} });
  assert.deepEqual(rankingFromJson({}), { k1: 1.2, b: 0.75, boosts: [] });
});

Deno.test("ranking config: nonsense is refused with a message naming it", () => {
  const refused: Array<[unknown, RegExp]> = [
    [null, /not an object/],
    [[1], /not an object/],
    [{ k1: -1 }, /"k1" must be from 0 to 10, got -1/],
    [{ k1: "2" }, /"k1" must be a number/],
    [{ b: 1.5 }, /"b" must be from 0 to 1/],
    [{ b: null }, /"b" must be a number/],
    [{ k1: Number.NaN }, /"k1" must be a number/],
    [{ boosts: [] }, /"boosts" must be an object/],
    [{ boosts: { title: 0 } }, /above 0/],
    [{ boosts: { title: 1e9 } }, /from 0 to 1000/],
    [{ boosts: { title: "x" } }, /must be a number/],
    [{ similarity: "bm25" }, /unknown setting "similarity"/],
  ];
  for (const [raw, message] of refused) {
    assert.throws(() => rankingFromJson(raw), (error: Error) => {
      assert.ok(error instanceof InvalidInputError, String(error));
      assert.match(error.message, message, JSON.stringify(raw));
      return true;
    });
  }
});

Deno.test("ranking config: a boost names a text field of the index, whoever sends it", () => {
  assert.throws(
    () => checkRanking(rankingFromJson({ boosts: { nope: 2 } }), schema),
    /"nope" does not exist/,
  );
  assert.throws(
    () => checkRanking(rankingFromJson({ boosts: { year: 2 } }), schema),
    /only text fields/,
  );
  assert.throws(
    () => checkRanking(rankingFromJson({ boosts: { constructor: 2 } }), schema),
    /does not exist/,
  );
  // What a peer forwards is checked as a client's body is.
  assert.throws(() => checkRanking({ k1: 1, b: 0.5, boosts: [["title"]] }, schema), /pair/);
  assert.throws(() => checkRanking({ k1: 1, b: 0.5, boosts: "title" }, schema), /list/);
  assert.throws(() => checkRanking({ k1: 1e308, b: 0.5 }, schema), /"k1"/);
});
