import assert from "node:assert/strict";
import { resolveSupervision, Supervisor } from "./supervision.ts";

function clock() {
  let now = 0;
  return { now: () => now, advance: (ms: number) => (now += ms) };
}

Deno.test("supervision: transient restarts failures, stops normal exits", () => {
  const supervisor = new Supervisor(resolveSupervision({ policy: "transient" }));
  assert.equal(supervisor.decide("failure").action, "restart");
  assert.equal(supervisor.decide("normal").action, "stop");
  assert.equal(supervisor.decide("requested").action, "stop");
});

Deno.test("supervision: permanent restarts normal exits too, never escalates at once", () => {
  assert.equal(
    new Supervisor(resolveSupervision({ policy: "permanent" })).decide("normal").action,
    "restart",
  );
  assert.equal(
    new Supervisor(resolveSupervision({ policy: "never" })).decide("failure").action,
    "escalate",
  );
  assert.equal(
    new Supervisor(resolveSupervision({ policy: "never" })).decide("normal").action,
    "stop",
  );
});

Deno.test("supervision: the restart limit counts restarts within the window", () => {
  const time = clock();
  const supervisor = new Supervisor(
    resolveSupervision({ restartLimit: { count: 2, withinMs: 1_000 } }),
    time.now,
  );
  assert.equal(supervisor.decide("failure").action, "restart");
  time.advance(100);
  assert.equal(supervisor.decide("failure").action, "restart");
  time.advance(100);
  assert.equal(supervisor.decide("failure", "disk full").action, "escalate");
  time.advance(1_000);
  assert.equal(supervisor.decide("failure").action, "restart", "old restarts left the window");
});

Deno.test("supervision: the backoff grows by its factor up to maxMs", () => {
  const time = clock();
  const supervisor = new Supervisor(
    resolveSupervision({
      restartLimit: { count: 10, withinMs: 60_000 },
      backoff: { initialMs: 100, maxMs: 350, factor: 2 },
    }),
    time.now,
  );
  const delays = [1, 2, 3, 4].map(() => {
    const decision = supervisor.decide("failure");
    assert.equal(decision.action, "restart");
    return decision.action === "restart" ? decision.delayMs : -1;
  });
  assert.deepEqual(delays, [100, 200, 350, 350]);
});

Deno.test("supervision: bad limits are refused", () => {
  assert.throws(
    () => resolveSupervision({ restartLimit: { count: -1, withinMs: 10 } }),
    RangeError,
  );
  assert.throws(
    () => resolveSupervision({ backoff: { initialMs: 10, maxMs: 5, factor: 2 } }),
    RangeError,
  );
});
