import assert from "node:assert/strict";
import { MoveThrottle } from "./move_throttle.ts";

/** Whether `taken` resolves before any timer could fire (it did not wait). */
async function atOnce(taken: Promise<void>): Promise<boolean> {
  const timer = new Promise<"waited">((resolve) => setTimeout(() => resolve("waited"), 0));
  return await Promise.race([taken.then(() => "at once" as const), timer]) === "at once";
}

Deno.test("MoveThrottle: the first page goes at once; pages beyond the bound wait their turn", async () => {
  const throttle = new MoveThrottle(1_000_000);
  // Measured from the first page's take, as the bound is: the check that it went at once
  // waits a timer, which on a loaded machine takes a while of the 300 ms.
  const started = performance.now();
  assert.equal(await atOnce(throttle.take(100_000)), true);
  // Three more pages of 100 kB at 1 MB/s: the last may start only 300 ms after the first.
  await Promise.all([throttle.take(100_000), throttle.take(100_000), throttle.take(100_000)]);
  const waited = performance.now() - started;
  assert.ok(waited >= 290, `three pages of 100 kB after one at 1 MB/s waited only ${waited} ms`);
  assert.equal(throttle.bytes, 400_000);
});

Deno.test("MoveThrottle: 0 bytes per second is no bound", async () => {
  const throttle = new MoveThrottle(0);
  for (let i = 0; i < 100; i++) assert.equal(await atOnce(throttle.take(10_000_000)), true);
});
