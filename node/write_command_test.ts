import assert from "node:assert/strict";
import { parseBatchItem, parseWrite, placementKey } from "./write_command.ts";

Deno.test("write command: a put and a delete are parsed once, with the routing key as routingKey", () => {
  const put = parseWrite("put", "books", { id: "b1", routing_key: "tenant-a", doc: { t: 1 } });
  assert.deepEqual(put, {
    op: "put",
    index: "books",
    id: "b1",
    routingKey: "tenant-a",
    doc: { t: 1 },
  });
  assert.equal(placementKey(put), "tenant-a");
  const del = parseWrite("delete", "books", { id: "b2" });
  assert.deepEqual(del, { op: "delete", index: "books", id: "b2" });
  assert.equal(placementKey(del), "b2");
});

Deno.test("write command: bad index names, ids and routing keys are refused with what is wrong", () => {
  const refused: Array<[string, unknown, RegExp]> = [
    ["Books", { id: "x" }, /Invalid index name/],
    ["books", { id: "" }, /non-empty strings/],
    ["books", { id: 7 }, /non-empty strings/],
    ["books", { id: "x", routing_key: "" }, /routing_key for "x"/],
    ["books", { id: "x", routing_key: 5 }, /routing_key for "x"/],
    ["books", { id: "x", routing_key: "a\ud800" }, /lone surrogate/],
  ];
  for (const [index, input, message] of refused) {
    assert.throws(
      () => parseWrite("put", index, input as Record<string, unknown>),
      (error: Error) => error.name === "InvalidInputError" && message.test(error.message),
      JSON.stringify(input),
    );
  }
});

Deno.test("write command: a batch item that is refused becomes a per-item result", () => {
  assert.deepEqual(parseBatchItem("delete", "books", "plain-id"), {
    ok: true,
    command: { op: "delete", index: "books", id: "plain-id" },
  });
  const refused = parseBatchItem("put", "books", { id: "", doc: {} });
  assert.equal(refused.ok, false);
  assert.equal(!refused.ok && refused.error.name, "InvalidInputError");
  const notObject = parseBatchItem("put", "books", 42);
  assert.equal(notObject.ok, false);
});
