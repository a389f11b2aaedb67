import assert from "node:assert/strict";
import { decodeStamp, encodeStamp, HybridLogicalClock, isStamp } from "./hlc.ts";

Deno.test("HybridLogicalClock.now() increases even when the wall clock stands still or goes back", () => {
  let wall = 1_000;
  const clock = new HybridLogicalClock({ tag: "n1", nowMs: () => wall });
  const first = clock.now();
  const second = clock.now();
  wall = 500;
  const third = clock.now();
  assert.ok(first < second && second < third);
  assert.deepEqual(decodeStamp(third), { ms: 1_000, counter: 2, tag: "n1" });
  wall = 2_000;
  assert.deepEqual(decodeStamp(clock.now()), { ms: 2_000, counter: 0, tag: "n1" });
});

Deno.test("HybridLogicalClock: a stamp made after observing a remote one is greater, whatever the clocks", () => {
  const ahead = new HybridLogicalClock({ tag: "a", nowMs: () => 9_000_000 });
  const behind = new HybridLogicalClock({ tag: "z", nowMs: () => 10 });
  const remote = ahead.now();
  assert.ok(behind.now() < remote);
  behind.observe(remote);
  const after = behind.now();
  assert.ok(after > remote);
  assert.deepEqual(decodeStamp(after), { ms: 9_000_000, counter: 1, tag: "z" });
  // Nonsense is ignored, not thrown.
  behind.observe("not a stamp");
  assert.ok(behind.now() > after);
});

Deno.test("stamps are fixed-width strings that compare as (ms, counter, tag)", () => {
  const stamps = [
    { ms: 2, counter: 0, tag: "a" },
    { ms: 1, counter: 16, tag: "a" },
    { ms: 1, counter: 2, tag: "b" },
    { ms: 1, counter: 2, tag: "a" },
    { ms: 0x1_0000_0000, counter: 0, tag: "a" },
  ].map(encodeStamp);
  assert.deepEqual([...stamps].sort(), [stamps[3], stamps[2], stamps[1], stamps[0], stamps[4]]);
  assert.ok(stamps.every(isStamp));
  assert.equal(isStamp("12-3-x"), false);
  assert.equal(isStamp(42), false);
});
