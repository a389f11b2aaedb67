import assert from "node:assert/strict";
import { MalformedFrameError } from "./errors.ts";
import { checkedStatsPages, parseCorpusStats } from "./stats_schema.ts";
import type { CorpusStats } from "../storage/bm25.ts";

const GOOD: CorpusStats = {
  docCount: 10,
  fields: [["title", 8, 20], ["body", 10, 300]],
  docFreqs: [['[null,"rust"]', 3], ['["title","go"]', 0]],
};

Deno.test("peer statistics: well-formed statistics pass unchanged", () => {
  assert.deepEqual(parseCorpusStats(GOOD, "s"), GOOD);
  assert.deepEqual(parseCorpusStats({ docCount: 0, fields: [], docFreqs: [] }, "s").docCount, 0);
});

Deno.test("peer statistics: nonsense in shape or range is refused, naming what", () => {
  const refused: Array<[unknown, RegExp]> = [
    [null, /not a map/],
    [[], /not a map/],
    [{ ...GOOD, docCount: -1 }, /document count is not a whole number/],
    [{ ...GOOD, docCount: 1.5 }, /document count/],
    [{ ...GOOD, docCount: "10" }, /document count/],
    [{ ...GOOD, docCount: 2 ** 60 }, /document count/],
    [{ ...GOOD, fields: "title" }, /fields' is not a list|fields is not a list/],
    [{ ...GOOD, fields: [["title", 11, 30]] }, /documents of field "title"/],
    [{ ...GOOD, fields: [["title", 5, 4]] }, /tokens of field "title"/],
    [{ ...GOOD, fields: [["title", 5]] }, /\[field, documents, tokens\]/],
    [{ ...GOOD, fields: [[7, 1, 1]] }, /a field of s is not a string/],
    [{ ...GOOD, fields: [["title", 1, 1], ["title", 1, 1]] }, /listed twice/],
    [{ ...GOOD, docFreqs: [["k", 11]] }, /document frequency of k/],
    [{ ...GOOD, docFreqs: [["k", Number.NaN]] }, /document frequency of k/],
    [{ ...GOOD, docFreqs: [["k", 1], ["k", 1]] }, /listed twice/],
    [{ ...GOOD, docFreqs: [["k"]] }, /\[key, documents\]/],
    [{ ...GOOD, docFreqs: [["x".repeat(5_000), 1]] }, /at most 4096 characters/],
    [{ ...GOOD, docFreqs: undefined }, /not a list/],
  ];
  for (const [raw, message] of refused) {
    assert.throws(() => parseCorpusStats(raw, "s"), (error: Error) => {
      assert.ok(error instanceof MalformedFrameError, String(error));
      assert.match(error.message, message, JSON.stringify(raw)?.slice(0, 200));
      return true;
    });
  }
});

Deno.test("peer statistics: every page of a node's first-phase answer is checked", () => {
  const set = {
    pages: [{ total: 0, hits: [], stats: GOOD }, { total: 0, hits: [] }],
    totalShards: 2,
  };
  assert.deepEqual(checkedStatsPages(set, "b"), set);
  const bad = { pages: [{ total: 0, hits: [], stats: { ...GOOD, docCount: -5 } }], totalShards: 1 };
  assert.throws(() => checkedStatsPages(bad as never, "b"), /node b's shard 0/);
});
