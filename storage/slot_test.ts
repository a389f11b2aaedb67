import assert from "node:assert/strict";
import { Microshard } from "./microshard.ts";
import { CLUSTER_SLOTS, fnv1a, slotOf } from "./slot.ts";

Deno.test("slotOf() is fnv1a % 1024: fixed values that must never change", () => {
  assert.equal(fnv1a(""), 0x811c9dc5);
  assert.equal(slotOf("b1"), fnv1a("b1") % CLUSTER_SLOTS);
  // Pinned: changing the hash would move every stored document to another slot.
  assert.deepEqual(["a", "b1", "doc-42"].map(slotOf), [
    fnv1a("a") % 1024,
    fnv1a("b1") % 1024,
    fnv1a("doc-42") % 1024,
  ]);
  assert.equal(fnv1a("a"), 0xe40c292c);
});

async function withShard(fn: (shard: Microshard) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir();
  const shard = await Microshard.open({ dir });
  try {
    await fn(shard);
  } finally {
    await shard.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function slotIds(shard: Microshard, slot: number): Promise<string[]> {
  return (await shard.slotPage("books", slot, { limit: 1000 })).documents.map((doc) => doc.id);
}

Deno.test("microshard: a document is stored in the slot of its routing key, and moves with it", async () => {
  await withShard(async (shard) => {
    await shard.write([
      { op: "put", index: "books", id: "b1", doc: { t: "x" } },
      { op: "put", index: "books", id: "b2", routingKey: "tenant-7", doc: { t: "y" } },
    ]);
    assert.deepEqual(await slotIds(shard, slotOf("b1")), ["b1"]);
    const page = await shard.slotPage("books", slotOf("tenant-7"), { limit: 10 });
    assert.deepEqual(page.documents, [{
      id: "b2",
      version: 1,
      doc: { t: "y" },
      routingKey: "tenant-7",
    }]);
    // Rewritten under another routing key: the old slot entry goes in the same operation.
    await shard.write([{
      op: "put",
      index: "books",
      id: "b2",
      routingKey: "tenant-8",
      doc: { t: "z" },
    }]);
    assert.deepEqual(
      await slotIds(shard, slotOf("tenant-7")),
      slotOf("tenant-7") === slotOf("b1") ? ["b1"] : [],
    );
    assert.deepEqual(await slotIds(shard, slotOf("tenant-8")), ["b2"]);
    await shard.write([{ op: "delete", index: "books", id: "b2" }]);
    assert.deepEqual(
      await slotIds(shard, slotOf("tenant-8")),
      slotOf("tenant-8") === slotOf("b1") ? ["b1"] : [],
    );
    assert.deepEqual([...(await shard.slotCounts("books"))], [[slotOf("b1"), 1]]);
  });
});

Deno.test("microshard: a write whose slot is not slotOf(routing key ?? id) is refused and writes nothing", async () => {
  await withShard(async (shard) => {
    const wrong = (slotOf("b1") + 1) % CLUSTER_SLOTS;
    const [outcome] = await shard.write([
      { op: "put", index: "books", id: "b1", slot: wrong, doc: { t: "x" } },
    ]);
    assert.equal(outcome?.ok, false);
    assert.equal(outcome?.ok === false && outcome.error.name, "InvalidInputError");
    assert.equal(await shard.get("books", "b1"), undefined);
  });
});

Deno.test("microshard: slot pages are bounded and continue after the last id", async () => {
  await withShard(async (shard) => {
    const key = "same-slot";
    const ids = Array.from({ length: 7 }, (_, i) => `d${i}`);
    await shard.write(
      ids.map((id) => ({ op: "put" as const, index: "books", id, routingKey: key, doc: {} })),
    );
    const first = await shard.slotPage("books", slotOf(key), { limit: 5 });
    assert.deepEqual(first.documents.map((doc) => doc.id), ids.slice(0, 5));
    assert.equal(first.next, "d4");
    const rest = await shard.slotPage("books", slotOf(key), { limit: 5, afterId: "d4" });
    assert.deepEqual(rest.documents.map((doc) => doc.id), ids.slice(5));
    assert.equal(rest.next, undefined);
  });
});
