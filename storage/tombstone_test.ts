import assert from "node:assert/strict";
import { Microshard, type MicroshardOptions } from "./microshard.ts";
import { encodeStamp } from "./hlc.ts";
import { slotOf } from "./slot.ts";

async function withShard(
  options: Omit<MicroshardOptions, "dir">,
  fn: (shard: Microshard, reopen: () => Promise<Microshard>) => Promise<void>,
): Promise<void> {
  const dir = await Deno.makeTempDir();
  let shard = await Microshard.open({ dir, ...options });
  try {
    await fn(shard, async () => {
      await shard.close();
      shard = await Microshard.open({ dir, ...options });
      return shard;
    });
  } finally {
    await shard.close();
    await Deno.remove(dir, { recursive: true });
  }
}

const stamp = (ms: number, tag = "owner") => encodeStamp({ ms, counter: 0, tag });

async function stampOf(shard: Microshard, id: string): Promise<string | undefined> {
  const page = await shard.slotPage("books", slotOf(id), { limit: 100 });
  return page.documents.find((doc) => doc.id === id)?.stamp;
}

Deno.test("microshard: a copy stamped older than the stored document is unchanged; a newer one applies", async () => {
  await withShard({}, async (shard) => {
    const copy = (ms: number, title: string, version: number) => ({
      op: "put" as const,
      index: "books",
      id: "b1",
      doc: { title },
      stamp: stamp(ms),
      version,
    });
    assert.deepEqual(await shard.write([copy(2_000, "new", 3)]), [
      { ok: true, id: "b1", result: "created", version: 3 },
    ]);
    assert.deepEqual(await shard.write([copy(1_000, "old", 9)]), [
      { ok: true, id: "b1", result: "unchanged", version: 3 },
    ]);
    assert.deepEqual((await shard.get("books", "b1"))?.doc, { title: "new" });
    assert.equal(await stampOf(shard, "b1"), stamp(2_000));
    assert.deepEqual(await shard.write([copy(3_000, "newer", 4)]), [
      { ok: true, id: "b1", result: "updated", version: 4 },
    ]);
    assert.deepEqual((await shard.get("books", "b1"))?.doc, { title: "newer" });
  });
});

Deno.test("microshard: a client write beats the stored copy even when the copy's stamp is ahead of this clock", async () => {
  await withShard({ stampTag: "b", nowMs: () => 10 }, async (shard) => {
    const ahead = stamp(5_000_000, "a");
    await shard.write([{ op: "put", index: "books", id: "b1", doc: { n: 1 }, stamp: ahead }]);
    const [client] = await shard.write([{ op: "put", index: "books", id: "b1", doc: { n: 2 } }]);
    assert.deepEqual(client, { ok: true, id: "b1", result: "updated", version: 2 });
    const mine = await stampOf(shard, "b1");
    assert.ok(mine !== undefined && mine > ahead && mine.endsWith("-b"), mine);
    // The old copy arriving again is refused.
    const [again] = await shard.write([{
      op: "put",
      index: "books",
      id: "b1",
      doc: { n: 1 },
      stamp: ahead,
    }]);
    assert.equal(again?.ok && again.result, "unchanged");
    assert.deepEqual((await shard.get("books", "b1"))?.doc, { n: 2 });
  });
});

Deno.test("microshard: a snapshot put older than a delete does not resurrect the document", async () => {
  await withShard({}, async (shard) => {
    await shard.write([{ op: "put", index: "books", id: "keep", doc: { n: 0 } }]);
    // Deleted here by a client: the tombstone's stamp is this clock's, now.
    await shard.write([{ op: "put", index: "books", id: "d1", doc: { n: 1 } }]);
    const [deleted] = await shard.write([{ op: "delete", index: "books", id: "d1" }]);
    assert.deepEqual(deleted, { ok: true, id: "d1", result: "deleted", version: 2 });
    const [late] = await shard.write([{
      op: "put",
      index: "books",
      id: "d1",
      doc: { n: 1 },
      stamp: stamp(1_000),
      version: 1,
    }]);
    assert.deepEqual(late, { ok: true, id: "d1", result: "unchanged", version: 2 });
    assert.equal(await shard.get("books", "d1"), undefined);
    // A copied delete of a document never seen here leaves its tombstone too.
    const [absent] = await shard.write([{
      op: "delete",
      index: "books",
      id: "d2",
      stamp: stamp(5_000),
      version: 4,
    }]);
    assert.deepEqual(absent, { ok: true, id: "d2", result: "not_found", version: 0 });
    const [older] = await shard.write([{
      op: "put",
      index: "books",
      id: "d2",
      doc: { n: 2 },
      stamp: stamp(4_000),
      version: 3,
    }]);
    assert.deepEqual(older, { ok: true, id: "d2", result: "unchanged", version: 4 });
    const result = await shard.search("books", { kind: "all" }, { limit: 10, offset: 0 });
    assert.deepEqual(result.hits.map((hit) => hit.id), ["keep"]);
    // A newer put (a re-create after the delete) applies and clears the tombstone.
    const [recreated] = await shard.write([{
      op: "put",
      index: "books",
      id: "d2",
      doc: { n: 3 },
      stamp: stamp(6_000),
      version: 1,
    }]);
    assert.deepEqual(recreated, { ok: true, id: "d2", result: "created", version: 1 });
    const graves = await shard.slotTombstones("books", slotOf("d2"), { limit: 10 });
    assert.deepEqual(graves.tombstones.map((t) => t.id), []);
  });
});

Deno.test("microshard: stamps and tombstones survive a restart", async () => {
  await withShard({}, async (first, reopen) => {
    await first.write([
      { op: "put", index: "books", id: "a", doc: { n: 1 }, stamp: stamp(7_000) },
      { op: "put", index: "books", id: "d", doc: { n: 1 } },
    ]);
    await first.write([{ op: "delete", index: "books", id: "d" }]);
    const shard = await reopen();
    assert.equal(await stampOf(shard, "a"), stamp(7_000));
    const graves = await shard.slotTombstones("books", slotOf("d"), { limit: 10 });
    assert.equal(graves.tombstones.length, 1);
    assert.equal(graves.tombstones[0]!.id, "d");
    assert.equal(graves.tombstones[0]!.version, 2);
    const [late] = await shard.write([{
      op: "put",
      index: "books",
      id: "d",
      doc: { n: 1 },
      stamp: stamp(1),
    }]);
    assert.equal(late?.ok && late.result, "unchanged");
    // After the restart the clock still stamps above what it stored.
    await shard.write([{ op: "put", index: "books", id: "a", doc: { n: 2 } }]);
    assert.ok((await stampOf(shard, "a"))! > stamp(7_000));
  });
});

Deno.test("microshard: tombstones are collected after the grace period, never in a held slot", async () => {
  let wall = 1_000_000;
  await withShard({ tombstoneGraceMs: 60_000, nowMs: () => wall }, async (shard) => {
    const ids = ["t1", "t2", "t3"];
    await shard.write(ids.map((id) => ({ op: "put" as const, index: "books", id, doc: {} })));
    await shard.write(ids.map((id) => ({ op: "delete" as const, index: "books", id })));
    const held = slotOf("t1");
    shard.holdSlots([held]);
    wall += 59_000;
    assert.equal(await shard.collectTombstones(), 0);
    wall += 2_000;
    const others = ids.filter((id) => slotOf(id) !== held).length;
    assert.equal(await shard.collectTombstones(), others);
    assert.equal((await shard.slotTombstones("books", held, { limit: 10 })).tombstones.length, 1);
    shard.holdSlots([]);
    assert.equal(await shard.collectTombstones(), 1);
    // Once collected, an old copy is applied again: that is why the grace outlasts any move.
    const [late] = await shard.write([{
      op: "put",
      index: "books",
      id: "t1",
      doc: {},
      stamp: stamp(5),
    }]);
    assert.equal(late?.ok && late.result, "created");
  });
});

Deno.test("microshard: slotTombstones() pages a slot's deletes; dropSlot() removes them with the documents", async () => {
  await withShard({}, async (shard) => {
    const key = "moving";
    const ids = Array.from({ length: 7 }, (_, i) => `x${i}`);
    await shard.write(
      ids.map((id) => ({ op: "put" as const, index: "books", id, routingKey: key, doc: {} })),
    );
    await shard.write(ids.slice(0, 5).map((id) => ({ op: "delete" as const, index: "books", id })));
    const slot = slotOf(key);
    const first = await shard.slotTombstones("books", slot, { limit: 3 });
    assert.deepEqual(first.tombstones.map((t) => t.id), ["x0", "x1", "x2"]);
    assert.equal(first.tombstones[0]!.routingKey, key);
    const rest = await shard.slotTombstones("books", slot, { limit: 3, afterId: first.next! });
    assert.deepEqual(rest.tombstones.map((t) => t.id), ["x3", "x4"]);
    assert.equal(rest.next, undefined);
    assert.equal(await shard.dropSlot("books", slot), 2);
    assert.equal((await shard.slotTombstones("books", slot, { limit: 10 })).tombstones.length, 0);
    assert.equal((await shard.slotPage("books", slot, { limit: 10 })).documents.length, 0);
  });
});

Deno.test("microshard: getStamped() answers the document with its stamp, a tombstone after a delete, nothing for an unknown id", async () => {
  await withShard({ stampTag: "n1" }, async (shard) => {
    await shard.write([{ op: "put", index: "books", id: "b1", doc: { n: 1 }, routingKey: "r" }]);
    const held = await shard.getStamped("books", "b1");
    assert.deepEqual(held.document?.doc, { n: 1 });
    assert.equal(held.document?.routingKey, "r");
    assert.ok(held.document?.stamp?.endsWith("-n1"), JSON.stringify(held));
    assert.equal(held.tombstone, undefined);
    await shard.write([{ op: "delete", index: "books", id: "b1" }]);
    const gone = await shard.getStamped("books", "b1");
    assert.equal(gone.document, undefined);
    assert.ok(gone.tombstone !== undefined && gone.tombstone.stamp > held.document!.stamp!);
    assert.equal(gone.tombstone.routingKey, "r");
    assert.deepEqual(await shard.getStamped("books", "never"), {});
  });
});

Deno.test("microshard: an owner's delete (withStamps) of an id it does not hold leaves a stamped tombstone; a client's does not", async () => {
  await withShard({ stampTag: "n1" }, async (shard) => {
    await shard.write([{ op: "put", index: "books", id: "other", doc: { n: 1 } }]);
    const [client] = await shard.write([{ op: "delete", index: "books", id: "b1" }]);
    assert.deepEqual(client, { ok: true, id: "b1", result: "not_found", version: 0 });
    assert.deepEqual(await shard.getStamped("books", "b1"), {});
    const [owner] = await shard.write([{ op: "delete", index: "books", id: "b1" }], {
      withStamps: true,
    });
    assert.ok(owner?.ok && owner.result === "not_found" && owner.stamp !== undefined);
    const read = await shard.getStamped("books", "b1");
    assert.equal(read.tombstone?.stamp, owner.stamp);
    // A put copied from a replica that held the document, older than the delete: refused.
    const [late] = await shard.write([{
      op: "put",
      index: "books",
      id: "b1",
      doc: { n: 0 },
      stamp: stamp(1_000, "n2"),
    }]);
    assert.equal(late?.ok && late.result, "unchanged");
    assert.equal(await shard.get("books", "b1"), undefined);
  });
});

Deno.test("microshard: with replicas a tombstone past its grace goes only when written before its slot's horizon; no horizon keeps it", async () => {
  let wall = 1_000_000;
  const options = {
    tombstoneGraceMs: 60_000,
    tombstoneCollectIntervalMs: 0,
    tombstonesAwaitReplicas: true,
    nowMs: () => wall,
  };
  await withShard(options, async (shard, reopen) => {
    const ids = ["h1", "h2", "h3", "h4"];
    const slots = ids.map(slotOf);
    assert.equal(new Set(slots).size, ids.length, "one slot per id");
    await shard.write(ids.map((id) => ({ op: "put" as const, index: "books", id, doc: {} })));
    await shard.write(ids.map((id) => ({ op: "delete" as const, index: "books", id })));
    const deletedAtMs = wall;
    wall += 61_000;
    // No horizon known yet (none after opening): past the grace, still kept.
    assert.equal(await shard.collectTombstones(), 0);
    // h1's slot was repaired after the delete, h2's exactly at it (not after), h3's before;
    // h4's slot has no horizon.
    const horizons: Array<[number, number]> = [
      [slots[0]!, deletedAtMs + 1],
      [slots[1]!, deletedAtMs],
      [slots[2]!, deletedAtMs - 1],
    ];
    assert.equal(await shard.setTombstoneHorizons(horizons), 1, "collected at once (due)");
    const left = async () => {
      const held: string[] = [];
      for (const [k, id] of ids.entries()) {
        const page = await shard.slotTombstones("books", slots[k]!, { limit: 10 });
        if (page.tombstones.some((t) => t.id === id)) held.push(id);
      }
      return held;
    };
    assert.deepEqual(await left(), ["h2", "h3", "h4"]);
    assert.equal(shard.tombstonesCollected, 1);
    // A held slot keeps its tombstones even past its horizon.
    shard.holdSlots([slots[1]!]);
    assert.equal(await shard.setTombstoneHorizons([[slots[1]!, wall], [slots[2]!, wall]]), 1);
    assert.deepEqual(await left(), ["h2", "h4"]);
    // After a restart no horizon is known: kept, whatever the horizons were before.
    shard.holdSlots([]);
    const reopened = await reopen();
    assert.equal(await reopened.collectTombstones(), 0);
    assert.equal(reopened.tombstonesCollected, 0);
  });
});

Deno.test("microshard: horizons collect at most every tombstoneCollectIntervalMs; without replicas they are ignored and the grace alone decides", async () => {
  let wall = 1_000_000;
  const interval = { tombstoneGraceMs: 1_000, tombstoneCollectIntervalMs: 10_000 };
  await withShard(
    { ...interval, tombstonesAwaitReplicas: true, nowMs: () => wall },
    async (shard) => {
      // Opening collected (nothing): the next collection is due an interval later.
      await shard.write([{ op: "put", index: "books", id: "r1", doc: {} }]);
      await shard.write([{ op: "delete", index: "books", id: "r1" }]);
      wall += 5_000;
      const horizon: Array<[number, number]> = [[slotOf("r1"), wall]];
      assert.equal(await shard.setTombstoneHorizons(horizon), 0, "not due yet");
      wall += 5_000;
      assert.equal(await shard.setTombstoneHorizons(horizon), 1, "due");
    },
  );
  await withShard({ ...interval, nowMs: () => wall }, async (shard) => {
    await shard.write([{ op: "put", index: "books", id: "r2", doc: {} }]);
    await shard.write([{ op: "delete", index: "books", id: "r2" }]);
    wall += 10_000;
    // No replicas: a horizon before the delete changes nothing, nor does it trigger anything.
    assert.equal(await shard.setTombstoneHorizons([[slotOf("r2"), 0]]), 0);
    assert.equal(await shard.collectTombstones(), 1, "past the grace: collected by it alone");
    assert.equal(shard.tombstonesCollected, 1);
  });
});

Deno.test("microshard: with replicas a copied delete past the grace of an id held nowhere here leaves nothing; of a held document it applies", async () => {
  const wall = 10_000_000;
  const options = { tombstoneGraceMs: 60_000, tombstonesAwaitReplicas: true, nowMs: () => wall };
  await withShard(options, async (shard) => {
    await shard.write([{ op: "put", index: "books", id: "held", doc: { n: 1 }, stamp: stamp(1) }]);
    const copiedDelete = (id: string, ms: number) => ({
      op: "delete" as const,
      index: "books",
      id,
      stamp: stamp(ms, "peer"),
      version: 2,
    });
    // Another replica collected it and this one did too: it does not come back from a third.
    const [old] = await shard.write([copiedDelete("gone", wall - 61_000)]);
    assert.deepEqual(old, { ok: true, id: "gone", result: "unchanged", version: 0 });
    assert.deepEqual(await shard.getStamped("books", "gone"), {});
    // Within the grace it is kept, as any copied delete.
    const [fresh] = await shard.write([copiedDelete("recent", wall - 59_000)]);
    assert.equal(fresh?.ok && fresh.result, "not_found");
    assert.ok((await shard.getStamped("books", "recent")).tombstone !== undefined);
    // A replica that still holds the document takes the delete, however old.
    const [applied] = await shard.write([copiedDelete("held", wall - 61_000)]);
    assert.equal(applied?.ok && applied.result, "deleted");
    assert.ok((await shard.getStamped("books", "held")).tombstone !== undefined);
  });
  await withShard({ tombstoneGraceMs: 60_000, nowMs: () => wall }, async (shard) => {
    await shard.write([{ op: "put", index: "books", id: "other", doc: {} }]);
    // Without replicas nothing changes: the copied delete leaves its tombstone.
    const [old] = await shard.write([{
      op: "delete",
      index: "books",
      id: "gone",
      stamp: stamp(wall - 61_000, "peer"),
      version: 2,
    }]);
    assert.equal(old?.ok && old.result, "not_found");
    assert.ok((await shard.getStamped("books", "gone")).tombstone !== undefined);
  });
});
