import assert from "node:assert/strict";
import { HashRing } from "./ring.ts";
import { type SlotMoveMsg, SlotMoves } from "./slot_moves.ts";
import { nextEntry, SlotTable } from "./slot_table.ts";

/** Moves of node `a` over a table, with every message and stream kept for the test to drive. */
function harness(table: SlotTable, options: { max?: number; rf?: number; self?: string } = {}) {
  const told: SlotMoveMsg[] = [];
  const later: SlotMoveMsg[] = [];
  const streams = new Map<number, PromiseWithResolvers<number>>();
  const aborted: number[] = [];
  const dropped: number[] = [];
  const left: number[] = [];
  const moves = new SlotMoves(table, {
    self: options.self ?? "a",
    replicationFactor: options.rf ?? 1,
    leave: (slot) => left.push(slot),
    maxSlotsMoving: options.max ?? 4,
    dropGraceMs: 10,
    move: (slot) => {
      const stream = Promise.withResolvers<number>();
      streams.set(slot, stream);
      return stream.promise;
    },
    abort: (slot) => aborted.push(slot),
    drop: (slot) => {
      dropped.push(slot);
      return Promise.resolve();
    },
    later: (_ms, msg) => later.push(msg),
    tellSelf: (msg) => told.push(msg),
    log: { info() {}, warn() {} },
  });
  return { moves, told, later, streams, aborted, dropped, left };
}

const live = { isLive: () => true, isGone: () => false };

Deno.test("SlotMoves: the owner starts at most maxSlotsMoving moves, each marked pending", () => {
  const table = SlotTable.ownedBy("a");
  const { moves, streams } = harness(table, { max: 3 });
  const desired = new HashRing(["a", "b"]);
  assert.equal(moves.plan({ desired, ...live }), true);
  assert.equal(streams.size, 3);
  for (const slot of streams.keys()) {
    assert.equal(desired.ownerOfSlot(slot), "b");
    assert.deepEqual(table.entry(slot), { owners: ["a"], pending: "b", version: [2, "a"] });
  }
  assert.equal(moves.moving, 3);
  assert.deepEqual(moves.heldSlots().sort(), [...streams.keys()].sort());
  // No receiver that is live, no move.
  const idle = harness(SlotTable.ownedBy("a"));
  assert.equal(idle.moves.plan({ desired, isLive: () => false, isGone: () => false }), false);
});

Deno.test("SlotMoves: a finished stream flips the slot; its copy drops once every member acknowledged", async () => {
  const table = SlotTable.ownedBy("a");
  const { moves, told, later, streams, dropped } = harness(table, { max: 1 });
  moves.plan({ desired: new HashRing(["a", "b"]), ...live });
  const [slot, stream] = [...streams][0]!;
  stream.resolve(12);
  await Promise.resolve();
  await Promise.resolve();
  const streamed = told.find((m) => m.type === "slotStreamed")!;
  assert.deepEqual(streamed, { type: "slotStreamed", slot, to: "b", documents: 12 });
  assert.equal(moves.onStreamed(streamed as Extract<SlotMoveMsg, { type: "slotStreamed" }>), true);
  assert.deepEqual(table.entry(slot), { owners: ["b"], version: [3, "a"] });
  assert.equal(moves.counters.slots_moved, 1);
  assert.equal(moves.counters.documents_moved, 12);
  assert.equal(moves.moving, 1, "draining until dropped");
  moves.checkDrains(["a", "b", "c"]);
  assert.equal(later.length, 0, "c has not acknowledged");
  // The answer to a push sent before the flip (the pending mark) acknowledges nothing.
  moves.onPushAcked("b", [[slot, [["a"], "b", 2, "a"]]]);
  moves.onMemberTable("c", "same");
  moves.checkDrains(["a", "b", "c"]);
  assert.equal(later.length, 0, "b has not acknowledged the flip");
  moves.onPushAcked("b", [[slot, [["b"], "", 3, "a"]]]);
  moves.checkDrains(["a", "b", "c"]);
  assert.deepEqual(later, [{ type: "slotDrop", slot }]);
  // A member that connected during the grace ("d") has not acknowledged: no drop yet.
  moves.onDrop(slot, ["a", "b", "c", "d"]);
  await Promise.resolve();
  assert.deepEqual(dropped, []);
  moves.checkDrains(["a", "b", "c", "d"]);
  assert.equal(later.length, 1, "d has not acknowledged");
  moves.onMemberTable("d", "same");
  moves.checkDrains(["a", "b", "c", "d"]);
  assert.deepEqual(later, [{ type: "slotDrop", slot }, { type: "slotDrop", slot }]);
  moves.onDrop(slot, ["a", "b", "c", "d"]);
  await Promise.resolve();
  assert.deepEqual(dropped, [slot]);
  moves.onDropped(slot, undefined);
  assert.equal(moves.moving, 0);
});

Deno.test("SlotMoves: a failed stream aborts the move (pending cleared at a new version)", () => {
  const table = SlotTable.ownedBy("a");
  const { moves, streams, aborted } = harness(table, { max: 1 });
  moves.plan({ desired: new HashRing(["a", "b"]), ...live });
  const [slot] = [...streams.keys()];
  assert.equal(
    moves.onStreamed({ type: "slotStreamed", slot: slot!, to: "b", error: "gone" }),
    true,
  );
  assert.deepEqual(table.entry(slot!), { owners: ["a"], version: [3, "a"] });
  assert.deepEqual(aborted, [slot]);
  assert.equal(moves.counters.moves_aborted, 1);
  assert.equal(moves.moving, 0);
});

Deno.test("SlotMoves: a removed owner's slots are claimed by their desired owner; stale pending marks are cleared", () => {
  const table = SlotTable.ownedBy("x");
  const { moves } = harness(table);
  const desired = new HashRing(["a", "b"]);
  assert.equal(moves.plan({ desired, isLive: () => true, isGone: (n) => n === "x" }), true);
  for (let slot = 0; slot < 1_024; slot++) {
    assert.equal(table.ownerOf(slot), desired.ownerOfSlot(slot) === "a" ? "a" : "x");
  }
  // After a restart a pending mark of this node is cleared, so the move starts afresh.
  const kept = SlotTable.ownedBy("a");
  kept.set(1, nextEntry(kept.entry(1), "a", { owners: ["a"], pending: "b" }));
  assert.equal(harness(kept).moves.clearStalePending(), true);
  assert.deepEqual(kept.entry(1), { owners: ["a"], version: [3, "a"] });
});

/** Lets the stream callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await Promise.resolve();
}

Deno.test("SlotMoves: with RF 3 the lead streams to each missing replica in turn, then it is one of three", async () => {
  const table = SlotTable.ownedBy("a");
  const { moves, told, streams, left } = harness(table, { max: 1_024, rf: 3 });
  const desired = new HashRing(["a", "b", "c"]);
  for (let round = 0; round < 3; round++) {
    moves.plan({ desired, ...live });
    for (const [slot, stream] of streams) {
      stream.resolve(1);
      streams.delete(slot);
    }
    await settle();
    for (const msg of told.splice(0)) {
      if (msg.type === "slotStreamed") moves.onStreamed(msg);
    }
  }
  assert.equal(moves.plan({ desired, ...live }), false, "every slot has its three replicas");
  for (let slot = 0; slot < 1_024; slot++) {
    assert.deepEqual(table.entry(slot).owners, desired.ownersOfSlot(slot, 3), `slot ${slot}`);
  }
  assert.deepEqual(left, [], "a stays a replica of every slot: nothing drains");
  assert.equal(moves.moving, 0);
});

Deno.test("SlotMoves: a replica the lead drops from a slot's owners drains its copy", () => {
  const table = SlotTable.fromRing(new HashRing(["a", "b", "c"]), 3);
  const { moves, later, left } = harness(table, { rf: 3, self: "c" });
  const slot = 5;
  const before = table.copy();
  const entry = table.entry(slot);
  const shrunk = nextEntry(entry, entry.owners[0]!, {
    owners: entry.owners.filter((n) => n !== "c"),
  });
  const changed = table.mergeEntries([[slot, shrunk]]);
  moves.onMerged(changed, before);
  assert.deepEqual(left, [slot]);
  assert.equal(moves.moving, 1);
  moves.onMemberTable("a", "same");
  moves.onMemberTable("b", "same");
  moves.checkDrains(["a", "b", "c"]);
  assert.deepEqual(later, [{ type: "slotDrop", slot }]);
});

Deno.test("SlotMoves: with RF 3 a gone lead's slot is led by its first surviving replica, nothing claimed", () => {
  const ring = new HashRing(["a", "b", "c"]);
  const table = SlotTable.fromRing(ring, 3);
  const slot = [...Array(1_024).keys()].find((s) => {
    const owners = table.entry(s).owners;
    return owners[0] === "b" && owners[1] === "a";
  })!;
  const { moves } = harness(table, { rf: 3 });
  const gone = { isLive: (n: string) => n !== "b", isGone: (n: string) => n === "b" };
  moves.plan({ desired: new HashRing(["a", "c"]), ...gone });
  assert.deepEqual(table.entry(slot).owners, ["a", "c"]);
});
