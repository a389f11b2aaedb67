import assert from "node:assert/strict";
import { HashRing } from "./ring.ts";
import { nextEntry, parseWireEntries, SlotTable } from "./slot_table.ts";
import { MalformedFrameError } from "./errors.ts";

Deno.test("SlotTable: entries merge last-writer-wins by [epoch, origin], in any order", () => {
  const a = SlotTable.ownedBy("a");
  const b = SlotTable.fromWire(a.toWire());
  // Two nodes change slot 7 at the same epoch: the higher origin wins on both.
  a.set(7, nextEntry(a.entry(7), "a", { owners: ["a"], pending: "c" }));
  b.set(7, nextEntry(b.entry(7), "b", { owners: ["b"] }));
  const aCopy = SlotTable.fromWire(a.toWire());
  assert.deepEqual(a.merge(b), [7]);
  assert.deepEqual(b.merge(aCopy), []);
  assert.equal(a.digest(), b.digest());
  assert.deepEqual(a.entry(7), { owners: ["b"], version: [2, "b"] });
  assert.equal(a.ownerOf(7), "b");
  assert.equal(a.spread().get("a"), 1_023);
});

Deno.test("SlotTable: soleOwned() counts the slots a node serves with no other owner", () => {
  const ring = new HashRing(["a", "b", "c"]);
  const single = SlotTable.fromRing(ring);
  assert.equal(single.soleOwned("a"), single.spread().get("a"));
  assert.ok(single.soleOwned("a") > 0);
  const replicated = SlotTable.fromRing(ring, 3);
  assert.equal(replicated.spread().get("a"), 1_024);
  assert.equal(replicated.soleOwned("a"), 0, "every slot has two other replicas");
  replicated.set(9, nextEntry(replicated.entry(9), "b", { owners: ["a"] }));
  assert.equal(replicated.soleOwned("a"), 1);
  assert.equal(SlotTable.unknown().soleOwned("a"), 0);
});

Deno.test("SlotTable: an unknown table loses to any other; the ring's loses to any change", () => {
  const unknown = SlotTable.unknown();
  assert.equal(unknown.ownerOf(0), undefined);
  const ring = new HashRing(["a", "b"]);
  const derived = SlotTable.fromRing(ring);
  assert.equal(unknown.merge(derived).length, 1_024);
  assert.equal(unknown.ownerOf(5), ring.ownerOfSlot(5));
  const changed = SlotTable.fromRing(ring);
  changed.set(5, nextEntry(changed.entry(5), "a", { owners: ["a"], pending: "b" }));
  assert.deepEqual(unknown.mergeEntries([[5, changed.entry(5)]]), [5]);
  assert.equal(unknown.entry(5).pending, "b");
  assert.deepEqual(unknown.pendingSlots(), [5]);
});

Deno.test("SlotTable: with a gate, an entry naming a node not met waits until it is met", () => {
  const met = new Set(["a", "b"]);
  const waiting: number[] = [];
  const gate = {
    met: (node: string) => met.has(node),
    waits: (slot: number) => waiting.push(slot),
  };
  const here = SlotTable.ownedBy("a");
  const there = SlotTable.ownedBy("a");
  there.set(4, nextEntry(there.entry(4), "a", { owners: ["c"] }));
  there.set(6, nextEntry(there.entry(6), "a", { owners: ["b"] }));
  // Slot 4 flipped to c, not met here: taking it would leave the slot answered by none.
  assert.deepEqual(here.merge(there, gate), [6]);
  assert.deepEqual(waiting, [4]);
  assert.equal(here.ownerOf(4), "a");
  assert.deepEqual(here.mergeEntries([[4, there.entry(4)]], gate), []);
  met.add("c");
  assert.deepEqual(here.merge(there, gate), [4]);
  assert.equal(here.ownerOf(4), "c");
  // A node that knows nothing yet (joining) takes any table: it routes nothing before.
  const joining = SlotTable.unknown();
  assert.equal(joining.merge(there, { met: () => false, waits: () => {} }).length, 1_024);
});

Deno.test("SlotTable: takeChanged() returns the entries set here since the last call", () => {
  const table = SlotTable.ownedBy("a");
  table.set(3, nextEntry(table.entry(3), "a", { owners: ["b"] }));
  table.set(9, nextEntry(table.entry(9), "a", { owners: ["b"] }));
  assert.deepEqual(table.takeChanged().map(([slot]) => slot), [3, 9]);
  assert.deepEqual(table.takeChanged(), []);
  // Merged entries are someone else's changes: not pushed again from here.
  const other = SlotTable.ownedBy("a");
  other.merge(table);
  assert.deepEqual(other.takeChanged(), []);
});

Deno.test("SlotTable: a malformed table or entry from a peer is refused with MalformedFrameError", () => {
  const bad: unknown[] = [
    [],
    "x",
    Array.from({ length: 1_024 }, () => [["a"], "", -1, "a"]),
    Array.from({ length: 1_024 }, () => [["a"], 5, 1, "a"]),
    Array.from({ length: 1_024 }, () => [Array(17).fill("a"), "", 1, "a"]),
  ];
  for (const raw of bad) assert.throws(() => SlotTable.fromWire(raw), MalformedFrameError);
  assert.throws(() => parseWireEntries([[1_024, [["a"], "", 1, "a"]]]), MalformedFrameError);
  assert.throws(() => parseWireEntries([[1, "entry"]]), MalformedFrameError);
  assert.deepEqual(parseWireEntries([[1, [["a"], "b", 2, "a"]]]), [[1, {
    owners: ["a"],
    pending: "b",
    version: [2, "a"],
  }]]);
});
