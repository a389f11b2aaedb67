import assert from "node:assert/strict";
import {
  ActorStoppedError,
  AskTimeoutError,
  deserializeError,
  MailboxFullError,
  serializeError,
} from "./errors.ts";

const address = { node: "n1", name: "shard-3" };

Deno.test("errors: runtime errors cross a boundary as the same class", () => {
  for (
    const error of [
      new AskTimeoutError(address, "put", 50),
      new ActorStoppedError(address, "get"),
      new MailboxFullError(address, { type: "put" }, 8),
    ]
  ) {
    const data = structuredClone(serializeError(error));
    const rebuilt = deserializeError(data);
    assert.equal(rebuilt.constructor, error.constructor);
    assert.equal(rebuilt.name, error.name);
    assert.equal(rebuilt.message, error.message);
  }
});

Deno.test("errors: other errors keep their name and message", () => {
  const error = new RangeError("limit must be at most 10000");
  const rebuilt = deserializeError(structuredClone(serializeError(error)));
  assert.equal(rebuilt.name, "RangeError");
  assert.equal(rebuilt.message, "limit must be at most 10000");
  assert.deepEqual(serializeError("plain"), { name: "Error", message: "plain" });
});

Deno.test("errors: messages say what could not be done", () => {
  assert.match(new AskTimeoutError(address, "put", 50).message, /shard-3@n1.*"put".*50 ms/);
});
