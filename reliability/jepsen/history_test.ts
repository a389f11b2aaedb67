import assert from "node:assert/strict";
import { type Clock, History } from "./history.ts";

/** A clock that moves only when told. */
function manualClock(): Clock & { at: number } {
  const clock = { at: 0, now: () => ({ wallMs: 1_000_000 + clock.at, monoMs: clock.at }) };
  return clock;
}

Deno.test("History records invocations and completions with both clocks, in order", () => {
  const clock = manualClock();
  const history = new History({ clock });
  const first = history.invoke(0, "put", "n1", [{ id: "a", value: "t1" }]);
  clock.at = 5;
  const second = history.invoke(1, "get", "n2", [{ id: "a", value: null }]);
  clock.at = 7;
  history.complete(second, "ok", { outcomes: [{ id: "a", value: "t1", type: "ok" }], status: 200 });
  clock.at = 9;
  history.complete(first, "info", { error: "timed out" });
  const [put, get] = history.operations();
  assert.deepEqual(put!.invoke, { wallMs: 1_000_000, monoMs: 0 });
  assert.deepEqual(put!.complete, { wallMs: 1_000_009, monoMs: 9 });
  assert.equal(put!.type, "info");
  assert.deepEqual(put!.outcomes, [{ id: "a", value: "t1", type: "info" }]);
  assert.equal(put!.error, "timed out");
  assert.deepEqual(get!.outcomes, [{ id: "a", value: "t1", type: "ok" }]);
  assert.deepEqual(
    history.events().map((e) => e.kind === "nemesis" ? e.kind : `${e.kind}:${e.op}`),
    ["invoke:0", "invoke:1", "ok:1", "info:0"],
  );
  assert.throws(() => history.complete(first, "ok"), /completed twice/);
  assert.throws(() => history.complete(42, "ok"), /no operation 42/);
});

Deno.test("History pairs each fault's start and end; an unended fault lasts forever", () => {
  const clock = manualClock();
  const history = new History({ clock });
  history.nemesis("start", "kill", "n2");
  clock.at = 10;
  history.nemesis("end", "kill", "n2", "restarted");
  clock.at = 20;
  history.nemesis("start", "pause", "n3");
  assert.deepEqual(history.faultWindows(), [
    { fault: "kill", node: "n2", startMs: 0, endMs: 10, detail: "restarted" },
    { fault: "pause", node: "n3", startMs: 20, endMs: Infinity },
  ]);
  assert.equal(history.events().filter((e) => e.kind === "nemesis").length, 3);
});
