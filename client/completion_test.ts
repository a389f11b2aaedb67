import assert from "node:assert/strict";
import { complete } from "./completion.ts";
import { searchHistory } from "./history.ts";

Deno.test("complete() offers command words first, then index names where a command takes one", () => {
  assert.deepEqual(complete("se", []), [["search "], "se"]);
  assert.deepEqual(complete("", []).at(0)?.length, 13);
  assert.deepEqual(complete("cluster r", []), [["remove "], "r"]);
  assert.deepEqual(complete("search bo", ["books", "boats", "cars"]), [
    ["books ", "boats "],
    "bo",
  ]);
  assert.deepEqual(complete("list index c", ["books", "cars"]), [["cars "], "c"]);
  assert.deepEqual(complete("list i", ["books"]), [["indexes ", "index "], "i"]);
  assert.deepEqual(complete("\\format j", []), [["json "], "j"]);
  assert.deepEqual(complete("search books tit", ["books"]), [[], "tit"]);
});

Deno.test("searchHistory() finds the newest entry containing the text, then older ones", () => {
  const history = ["get books b1", "health", "get books b2", "search books x"];
  assert.deepEqual(searchHistory(history, "get"), { at: 2, line: "get books b2" });
  assert.deepEqual(searchHistory(history, "get", 2), { at: 0, line: "get books b1" });
  assert.equal(searchHistory(history, "get", 0), undefined);
  assert.equal(searchHistory(history, "nothing"), undefined);
});
