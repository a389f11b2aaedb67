import assert from "node:assert/strict";
import { FailureDetector } from "./failure_detector.ts";

Deno.test("failure detector: silence makes a member suspect, then down; a heartbeat makes it up", () => {
  let now = 0;
  const detector = new FailureDetector({
    suspectAfterMs: 2_000,
    downAfterMs: 5_000,
    now: () => now,
  });
  detector.heard("b");
  assert.equal(detector.state("b"), "up");
  now = 1_999;
  assert.deepEqual([...detector.changes()], []);
  now = 2_000;
  assert.deepEqual([...detector.changes()], [["b", "suspect"]]);
  now = 4_000;
  assert.deepEqual([...detector.changes()], [], "no change is reported twice");
  now = 5_000;
  assert.deepEqual([...detector.changes()], [["b", "down"]]);
  detector.heard("b");
  assert.deepEqual([...detector.changes()], [["b", "up"]]);
  detector.forget("b");
  assert.equal(detector.state("b"), "down");
  assert.equal(detector.silentMs("b"), Infinity);
});
