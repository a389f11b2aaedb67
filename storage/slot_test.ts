import assert from "node:assert/strict";
import { Microshard } from "./microshard.ts";
import { CLUSTER_SLOTS, fnv1a, fnv1aOfBytes, slotOf } from "./slot.ts";

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

Deno.test("fnv1a() hashes a string's UTF-8 bytes, ASCII or not", () => {
  const encoder = new TextEncoder();
  const strings = ["", "a", "b1", "doc-42", "é", "naïve-id", "日本語", "a\u{1F600}b", "\x7f\x80"];
  for (let i = 0; i < 200; i++) {
    strings.push(
      String.fromCharCode(...Array.from({ length: i % 17 }, (_, k) => (i * 31 + k * 7) % 300)),
    );
  }
  for (const text of strings) assert.equal(fnv1a(text), fnv1aOfBytes(encoder.encode(text)), text);
  // Pinned non-ASCII values (computed over the UTF-8 bytes before the ASCII fast path).
  assert.equal(fnv1a("é"), fnv1aOfBytes(new Uint8Array([0xc3, 0xa9])));
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
    const [stored] = page.documents;
    assert.match(stored?.stamp ?? "", /^[0-9a-f]{12}-[0-9a-f]{6}-local$/);
    assert.deepEqual(page.documents, [{
      id: "b2",
      version: 1,
      doc: { t: "y" },
      routingKey: "tenant-7",
      stamp: stored?.stamp,
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

Deno.test("microshard: versioned writes keep the higher version whatever the order of arrival", async () => {
  await withShard(async (shard) => {
    const put = (version: number, title: string) => ({
      op: "put" as const,
      index: "books",
      id: "b1",
      version,
      doc: { title },
    });
    const [first, older, newer, same] = [
      ...await shard.write([put(5, "five")]),
      ...await shard.write([put(3, "three")]),
      ...await shard.write([put(8, "eight")]),
      ...await shard.write([put(8, "eight again")]),
    ];
    assert.deepEqual(first, { ok: true, id: "b1", result: "created", version: 5 });
    assert.deepEqual(older, { ok: true, id: "b1", result: "unchanged", version: 5 });
    assert.deepEqual(newer, { ok: true, id: "b1", result: "updated", version: 8 });
    assert.deepEqual(same, { ok: true, id: "b1", result: "unchanged", version: 8 });
    assert.deepEqual((await shard.get("books", "b1"))?.doc, { title: "eight" });
    const [staleDelete] = await shard.write([{
      op: "delete",
      index: "books",
      id: "b1",
      version: 7,
    }]);
    assert.equal(staleDelete?.ok && staleDelete.result, "unchanged");
    const [deleted] = await shard.write([{ op: "delete", index: "books", id: "b1", version: 9 }]);
    assert.deepEqual(deleted, { ok: true, id: "b1", result: "deleted", version: 9 });
    assert.equal(await shard.get("books", "b1"), undefined);
    // An unversioned write goes on from the stored version.
    await shard.write([put(4, "four")]);
    const [next] = await shard.write([{
      op: "put",
      index: "books",
      id: "b1",
      doc: { title: "x" },
    }]);
    assert.deepEqual(next, { ok: true, id: "b1", result: "updated", version: 5 });
    const [bad] = await shard.write([{ ...put(0, "zero") }]);
    assert.equal(bad?.ok, false);
  });
});

Deno.test("microshard: dropSlot() deletes one slot's documents, in batches, and nothing else", async () => {
  await withShard(async (shard) => {
    const key = "moving-slot";
    const inSlot = Array.from({ length: 1_203 }, (_, i) => `m${i}`);
    for (let at = 0; at < inSlot.length; at += 500) {
      await shard.write(
        inSlot.slice(at, at + 500).map((id) => ({
          op: "put" as const,
          index: "books",
          id,
          routingKey: key,
          doc: { title: "moving" },
        })),
      );
    }
    const others = ["o1", "o2", "o3"].filter((id) => slotOf(id) !== slotOf(key));
    await shard.write(
      others.map((id) => ({ op: "put" as const, index: "books", id, doc: { title: "moving" } })),
    );
    assert.equal(await shard.dropSlot("books", slotOf(key)), inSlot.length);
    assert.deepEqual(await slotIds(shard, slotOf(key)), []);
    const hits = await shard.search("books", { kind: "term", field: "title", term: "moving" }, {
      limit: 10,
      offset: 0,
    });
    assert.equal(hits.total, others.length);
    assert.equal(await shard.get("books", "m0"), undefined);
    assert.equal(await shard.dropSlot("books", slotOf(key)), 0, "idempotent");
  });
});
