import assert from "node:assert/strict";
import { ANOMALIES, check, type CheckResult, type FinalRead, type FinalValue } from "./checker.ts";
import type { FaultWindow, ItemOutcome, Operation, OpFunction, Outcome } from "./history.ts";

// Hand-made histories: each operation with explicit monotonic times, so real-time order is
// exactly what the test says.

let nextIndex = 0;

function op(
  f: OpFunction,
  items: Array<[string, string | null]>,
  at: [number, number],
  type: Outcome,
  itemTypes?: Outcome[],
): Operation {
  const outcomes: ItemOutcome[] = items.map(([id, value], k) => ({
    id,
    value,
    type: itemTypes?.[k] ?? type,
  }));
  return {
    index: nextIndex++,
    process: 0,
    f,
    node: "n1",
    items: items.map(([id, value]) => ({ id, value })),
    invoke: { wallMs: at[0], monoMs: at[0] },
    complete: { wallMs: at[1], monoMs: at[1] },
    type,
    outcomes,
  };
}

const put = (id: string, value: string, at: [number, number], type: Outcome = "ok") =>
  op("put", [[id, value]], at, type);
const del = (id: string, at: [number, number], type: Outcome = "ok") =>
  op("delete", [[id, null]], at, type);

/** Every node reads the same; a scan through one node agrees with the reads. */
function final(values: Record<string, FinalValue>, nodes = ["n1", "n2"]): FinalRead {
  const reads = new Map<string, Map<string, FinalValue>>();
  for (const [id, value] of Object.entries(values)) {
    reads.set(id, new Map(nodes.map((node) => [node, value])));
  }
  const hits = Object.entries(values)
    .filter((entry): entry is [string, string] => typeof entry[1] === "string")
    .map(([id, value]) => ({ id, value }));
  return { reads, scans: [{ node: "n1", hits, totalHits: hits.length, failedShards: 0 }] };
}

function counts(result: CheckResult): Record<string, number> {
  return Object.fromEntries(ANOMALIES.map((name) => [name, result[name]]));
}

function only(result: CheckResult, expected: Partial<Record<(typeof ANOMALIES)[number], number>>) {
  const zeros = Object.fromEntries(ANOMALIES.map((name) => [name, 0]));
  assert.deepEqual(counts(result), { ...zeros, ...expected }, JSON.stringify(result.examples));
}

Deno.test("check() counts nothing on a history the model explains", () => {
  const history = [
    put("a", "a1", [0, 1]),
    put("a", "a2", [2, 3]),
    put("b", "b1", [0, 1]),
    del("b", [2, 3]),
    // Concurrent acknowledged writes: either may be last.
    put("c", "c1", [0, 10]),
    put("c", "c2", [1, 9]),
    // An indeterminate write after the last acknowledged one may or may not have landed.
    put("d", "d1", [0, 1]),
    put("d", "d2", [2, 3], "info"),
    put("e", "e1", [0, 1]),
    del("e", [2, 3], "info"),
    // A definitely failed write never counts.
    put("f", "f1", [0, 1]),
    put("f", "f2", [2, 3], "fail"),
    // Never acknowledged: absent is fine.
    put("g", "g1", [0, 1], "info"),
  ];
  const result = check(
    history,
    final({ a: "a2", b: null, c: "c1", d: "d2", e: null, f: "f1", g: null }),
  );
  only(result, {});
  assert.equal(result.ids, 7);
  assert.deepEqual(result.model, { mustExist: 4, mayExist: 6 });
  // The other acceptable outcomes are accepted too.
  only(
    check(history, final({ a: "a2", b: null, c: "c2", d: "d1", e: "e1", f: "f1", g: "g1" })),
    {},
  );
});

Deno.test("check() counts an acknowledged write that reads 404 as lost", () => {
  only(check([put("a", "a1", [0, 1])], final({ a: null })), { lost: 1 });
});

Deno.test("check() counts an acknowledged write that reads an older value as lost", () => {
  const history = [put("a", "a1", [0, 1]), put("a", "a2", [2, 3])];
  only(check(history, final({ a: "a1" })), { lost: 1 });
  // An acknowledged delete then an acknowledged put: the older value is lost data too.
  const deleted = [put("b", "b1", [0, 1]), del("b", [2, 3]), put("b", "b2", [4, 5])];
  only(check(deleted, final({ b: null })), { lost: 1 });
});

Deno.test("check() counts a value written before an acknowledged delete as resurrected", () => {
  only(check([put("a", "a1", [0, 1]), del("a", [2, 3])], final({ a: "a1" })), {
    resurrected: 1,
  });
  // A later indeterminate put does not explain the older value either.
  const history = [put("b", "b1", [0, 1]), del("b", [2, 3]), put("b", "b2", [4, 5], "info")];
  only(check(history, final({ b: "b1" })), { resurrected: 1 });
  only(check(history, final({ b: "b2" })), {});
});

Deno.test("check() counts a value from a failed write or from nowhere as stale", () => {
  only(check([put("a", "a1", [0, 1]), put("a", "a2", [2, 3], "fail")], final({ a: "a2" })), {
    stale: 1,
  });
  only(check([put("b", "b1", [0, 1])], final({ b: "nobody-wrote-this" })), { stale: 1 });
});

Deno.test("check() counts nodes that answer one id differently as disagreeing", () => {
  const history = [put("a", "a1", [0, 10]), put("a", "a2", [1, 9])];
  const reads = new Map([["a", new Map<string, FinalValue>([["n1", "a1"], ["n2", "a2"]])]]);
  const scans = [{ node: "n1", hits: [{ id: "a", value: "a1" }], totalHits: 1, failedShards: 0 }];
  only(check(history, { reads, scans }), { disagreed: 1 });
});

Deno.test("check() counts a final read or scan without an answer as unreadable", () => {
  const reads = new Map([["a", new Map<string, FinalValue>([["n1", { unreadable: "503" }]])]]);
  const scans = [{ node: "n1", hits: [{ id: "a", value: "a1" }], totalHits: 1, failedShards: 0 }];
  only(check([put("a", "a1", [0, 1])], { reads, scans }), { unreadable: 1 });
  const failed = final({ a: "a1" });
  const partial = { ...failed, scans: [{ ...failed.scans[0]!, failedShards: 2 }] };
  only(check([put("a", "a1", [0, 1])], partial), { unreadable: 1 });
});

Deno.test("check() counts an id found twice by the scan as duplicated", () => {
  const read = final({ a: "a1" });
  const scans = [{
    node: "n1",
    hits: [{ id: "a", value: "a1" }, { id: "a", value: "a1" }],
    totalHits: 2,
    failedShards: 0,
  }];
  only(check([put("a", "a1", [0, 1])], { ...read, scans }), { duplicated: 1 });
});

Deno.test("check() counts scan results the model or the point read contradicts as mismatched", () => {
  const history = [put("a", "a1", [0, 1]), put("b", "b1", [0, 1]), del("b", [2, 3])];
  const read = final({ a: "a1", b: null });
  const scan = (hits: Array<{ id: string; value: string }>, totalHits = hits.length) => ({
    ...read,
    scans: [{ node: "n1", hits, totalHits, failedShards: 0 }],
  });
  // Missing an id that must exist.
  only(check(history, scan([])), { mismatched: 1 });
  // Showing a deleted id.
  only(check(history, scan([{ id: "a", value: "a1" }, { id: "b", value: "b1" }])), {
    mismatched: 1,
  });
  // An id nobody wrote.
  only(check(history, scan([{ id: "a", value: "a1" }, { id: "z", value: "z1" }])), {
    mismatched: 1,
  });
  // A total that is not what was paged.
  only(check(history, scan([{ id: "a", value: "a1" }], 3)), { mismatched: 2 });
  // The scan and the point read disagree about an id whose last write is indeterminate.
  const maybe = [put("c", "c1", [0, 1], "info")];
  const absentById = final({ c: null });
  only(
    check(maybe, {
      ...absentById,
      scans: [{ node: "n1", hits: [{ id: "c", value: "c1" }], totalHits: 1, failedShards: 0 }],
    }),
    { mismatched: 1 },
  );
});

Deno.test("check() takes each _bulk item's own outcome", () => {
  const bulk = op("bulk", [["a", "a1"], ["b", "b1"]], [0, 1], "ok", ["ok", "fail"]);
  only(check([bulk], final({ a: "a1", b: null })), {});
  only(check([bulk], final({ a: "a1", b: "b1" })), { stale: 1 });
  only(check([bulk], final({ a: null, b: null })), { lost: 1 });
});

Deno.test("check() reports availability overall, during faults and outside them", () => {
  const get = (at: [number, number], type: Outcome) => op("get", [["a", null]], at, type);
  const history = [
    put("a", "a1", [0, 1]),
    get([2, 3], "ok"),
    get([10, 11], "fail"),
    get([12, 13], "info"),
    op("bulk", [["b", "b1"], ["c", "c1"]], [14, 15], "ok", ["ok", "info"]),
    get([30, 31], "ok"),
  ];
  const faults: FaultWindow[] = [{ fault: "kill", node: "n2", startMs: 10, endMs: 20 }];
  const { availability } = check(history, final({ a: "a1", b: "b1", c: "c1" }), faults);
  assert.deepEqual(availability.overall.reads, { ok: 2, fail: 1, info: 1, percent: 50 });
  assert.deepEqual(availability.overall.writes, { ok: 2, fail: 0, info: 1, percent: 66.67 });
  assert.deepEqual(availability.duringFaults.reads, { ok: 0, fail: 1, info: 1, percent: 0 });
  assert.deepEqual(availability.duringFaults.writes, { ok: 1, fail: 0, info: 1, percent: 50 });
  assert.deepEqual(availability.outsideFaults.reads, { ok: 2, fail: 0, info: 0, percent: 100 });
  assert.deepEqual(availability.outsideFaults.writes, { ok: 1, fail: 0, info: 0, percent: 100 });
  assert.deepEqual(Object.keys(availability.byFault), ["kill"]);
  assert.deepEqual(availability.byFault.kill, availability.duringFaults);
});

Deno.test("check() counts reads during the run that no write explains at their moment", () => {
  const get = (value: string | null, at: [number, number]) => {
    const read = op("get", [["a", null]], at, "ok");
    return { ...read, outcomes: [{ id: "a", value, type: "ok" as const }] };
  };
  const writes = [
    put("a", "a1", [0, 1]),
    put("a", "a2", [10, 11]),
    put("a", "a3", [20, 21], "fail"),
    put("a", "a4", [30, 31], "info"),
  ];
  const finalState = final({ a: "a2" });
  // Explained: absent before anything was acknowledged, a1 while a2 was in flight, a2
  // after it, an indeterminate write seen after its invocation.
  const explained = [
    get(null, [0, 0.5]),
    get("a1", [9, 12]),
    get("a2", [12, 13]),
    get("a4", [32, 33]),
  ];
  only(check([...writes, ...explained], finalState), {});
  // A stale read (a1 after a2 was acknowledged), a failed write read, a 404 after an
  // acknowledged put, a value read before its write was invoked.
  const unexplained = [
    get("a1", [12, 13]),
    get("a3", [22, 23]),
    get(null, [2, 3]),
    get("a4", [5, 6]),
  ];
  only(check([...writes, ...unexplained], finalState), { unexplainedReads: 4 });
});
