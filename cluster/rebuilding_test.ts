import assert from "node:assert/strict";
import { HashRing } from "./ring.ts";
import { RebuildingSlots } from "./rebuilding.ts";
import { nextEntry, SlotTable } from "./slot_table.ts";
import type { ClusterView } from "./view.ts";

function viewOf(self: string, slots: SlotTable, joining = false): ClusterView {
  return { self, members: new Map(), ring: new HashRing([self]), slots, joining };
}

Deno.test("RebuildingSlots: a fresh node rebuilds the slots it shares with other owners, each until done", () => {
  const rebuilding = new RebuildingSlots("unknown");
  // Before the table is known every slot counts as rebuilding.
  assert.equal(rebuilding.has(7), true);
  assert.equal(rebuilding.count, 1_024);
  rebuilding.onView(viewOf("c", SlotTable.unknown()));
  assert.equal(rebuilding.count, 1_024, "a table heard from nobody fixes nothing");
  const table = SlotTable.fromRing(new HashRing(["a", "b", "c"]), 2);
  rebuilding.onView(viewOf("c", table));
  const owned = Array.from({ length: 1_024 }, (_, slot) => slot)
    .filter((slot) => table.entry(slot).owners.includes("c"));
  assert.deepEqual(rebuilding.list(), owned);
  const [first, second] = owned;
  rebuilding.done(first!);
  rebuilding.done(first!);
  assert.equal(rebuilding.has(first!), false);
  assert.equal(rebuilding.rebuilt, 1);
  // A slot moved away is forgotten.
  table.set(second!, nextEntry(table.entry(second!), "a", { owners: ["a", "b"] }));
  rebuilding.onView(viewOf("c", table));
  assert.equal(rebuilding.has(second!), false);
  assert.equal(rebuilding.count, owned.length - 2);
  // A slot now owned here alone has nothing to be rebuilt from: it leaves the set.
  const third = owned[2]!;
  table.set(third, nextEntry(table.entry(third), "a", { owners: ["c"] }));
  rebuilding.onView(viewOf("c", table));
  assert.equal(rebuilding.has(third), false);
  assert.equal(rebuilding.count, owned.length - 3);
});

Deno.test("RebuildingSlots: a node alone with its slots, or not fresh, rebuilds nothing", () => {
  const alone = new RebuildingSlots("unknown");
  alone.onView(viewOf("a", SlotTable.ownedBy("a")));
  assert.equal(alone.count, 0);
  assert.equal(new RebuildingSlots().has(3), false);
});

Deno.test("RebuildingSlots: the set is kept in the data directory, so a restart goes on with it", async () => {
  const dir = await Deno.makeTempDir({ prefix: "cameodb-rebuilding-" });
  try {
    const first = await RebuildingSlots.open(dir, true);
    assert.equal(first.count, 1_024);
    // Killed before it knew its slots: the next start still rebuilds, fresh or not.
    assert.equal((await RebuildingSlots.open(dir, false)).count, 1_024);
    const table = SlotTable.fromRing(new HashRing(["a", "b", "c"]), 3);
    first.onView(viewOf("c", table));
    first.done(5);
    await first.flushed();
    const again = await RebuildingSlots.open(dir, false);
    assert.equal(again.count, 1_023);
    assert.equal(again.has(5), false);
    for (const slot of again.list()) again.done(slot);
    await again.flushed();
    assert.equal((await RebuildingSlots.open(dir, false)).count, 0, "done: the file is gone");
    await Deno.writeTextFile(`${dir}/rebuilding.json`, '{"slots":["x"]}');
    assert.equal((await RebuildingSlots.open(dir, false)).count, 1_024, "unreadable: rebuild all");
    await Deno.writeTextFile(`${dir}/rebuilding.json`, "{not json");
    assert.equal((await RebuildingSlots.open(dir, false)).count, 1_024, "unreadable: rebuild all");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
