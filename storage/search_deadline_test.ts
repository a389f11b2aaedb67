import assert from "node:assert/strict";
import { deadlineCheck } from "./search_deadline.ts";
import { SearchTimeoutError } from "./errors.ts";

Deno.test("deadline check: passes until the deadline, then throws SearchTimeoutError", () => {
  let now = 1_000;
  const check = deadlineCheck(1_500, { now: () => now });
  check();
  now = 1_500;
  check();
  now = 1_501;
  assert.throws(
    check,
    (error: Error) => error instanceof SearchTimeoutError && /1 ms ago/.test(error.message),
  );
  assert.equal(new SearchTimeoutError("x").name, "SearchTimeoutError");
});

Deno.test("deadline check: no deadline never throws", () => {
  deadlineCheck(undefined)();
});
