import assert from "node:assert/strict";
import {
  compareVersions,
  type MemberRecord,
  mergeRecords,
  ownRecord,
  parseRecords,
  removalRecord,
} from "./membership.ts";
import { SeededRandom, testSeed } from "../testing/random.ts";

const rec = (nodeId: string, state: MemberRecord["state"], epoch: number, origin = nodeId) => ({
  nodeId,
  peerId: `peer-${nodeId}`,
  addrs: [],
  state,
  version: [epoch, origin] as const,
});

const context = (sender: string, down: string[] = []) => ({
  sender,
  isMember: (id: string) => ["a", "b", "c"].includes(id),
  isDown: (id: string) => down.includes(id),
});

Deno.test("membership: versions order by epoch, then origin", () => {
  assert.ok(compareVersions([2, "a"], [1, "z"]) > 0);
  assert.ok(compareVersions([1, "a"], [1, "b"]) < 0);
  assert.equal(compareVersions([1, "a"], [1, "a"]), 0);
});

Deno.test("membership: changes made through different nodes converge to one table in any order", () => {
  const changes = [
    rec("a", "up", 1),
    rec("b", "up", 1),
    rec("c", "up", 1),
    rec("b", "leaving", 2),
    rec("b", "left", 3),
    removalRecord(rec("c", "up", 1), "a"),
    removalRecord(rec("c", "up", 1), "b"), // the same removal made through b: b's origin wins
  ];
  const tables: string[] = [];
  const random = new SeededRandom(testSeed("membership convergence"));
  for (let run = 0; run < 50; run++) {
    const order = [...changes];
    for (let i = order.length - 1; i > 0; i--) {
      const j = random.int(0, i);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    const table = new Map<string, MemberRecord>();
    for (const record of order) {
      // Each record arrives from its origin (its own change, or the remover's removal).
      mergeRecords(table, [record], context(record.version[1], ["c"]));
    }
    tables.push(JSON.stringify([...table].sort()));
  }
  assert.equal(new Set(tables).size, 1);
  const table = new Map(JSON.parse(tables[0]!)) as Map<string, MemberRecord>;
  assert.equal(table.get("b")?.state, "left");
  assert.deepEqual(table.get("c")?.version, [2, "b"]);
});

Deno.test("membership: a node changes only its own record; removal needs a member and a down node", () => {
  const table = new Map<string, MemberRecord>([["b", rec("b", "up", 1)], ["c", rec("c", "up", 1)]]);
  // a tells that b is leaving: not a's to say.
  assert.deepEqual(mergeRecords(table, [rec("b", "leaving", 5, "a")], context("a")).changed, []);
  // b, over its own connection, but with another peer id: refused.
  const stolen = { ...rec("b", "up", 9), peerId: "peer-x" };
  assert.deepEqual(mergeRecords(table, [stolen], context("b")).refused, ["another peer id"]);
  // c is up here: its removal is refused; once down, taken; removed is final.
  const removal = removalRecord(table.get("c")!, "a");
  assert.equal(mergeRecords(table, [removal], context("a")).changed.length, 0);
  assert.equal(mergeRecords(table, [removal], context("a", ["c"])).changed.length, 1);
  assert.equal(
    mergeRecords(table, [ownRecord(removal, rec("c", "up", 0), "up")], context("c")).changed.length,
    0,
  );
  assert.equal(table.get("c")?.state, "removed");
  // a stranger's removal of b: refused.
  assert.deepEqual(
    mergeRecords(table, [removalRecord(table.get("b")!, "x")], context("x", ["b"])).refused,
    ["a removal of b by a non-member"],
  );
});

Deno.test("membership: records from the network are checked", () => {
  assert.deepEqual(parseRecords(undefined), []);
  assert.equal(parseRecords([rec("a", "up", 1)]).length, 1);
  for (
    const bad of [
      "x",
      [{ ...rec("a", "up", 1), state: "boss" }],
      [{ ...rec("a", "up", 1), version: [-1, "a"] }],
      [{ ...rec("a", "up", 1), version: [1] }],
      [{ ...rec("a", "up", 1), nodeId: "" }],
      [{ ...rec("a", "up", 1), addrs: "x" }],
      [{ ...rec("a", "up", 1), addrs: [7] }],
    ]
  ) {
    assert.throws(() => parseRecords(bad), { name: "MalformedFrameError" });
  }
});
