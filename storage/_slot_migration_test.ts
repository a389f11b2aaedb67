import assert from "node:assert/strict";
import { Microshard } from "./microshard.ts";
import { slotOf } from "./slot.ts";

const LEGACY_DIR = new URL("./testdata/legacy_v1/", import.meta.url);

/** Copies the legacy fixture (written before slots were stored) into a fresh directory. */
async function copyLegacy(): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/indexes`);
  await Deno.copyFile(new URL("kv.sqlite", LEGACY_DIR), `${dir}/kv.sqlite`);
  for await (const entry of Deno.readDir(new URL("indexes/", LEGACY_DIR))) {
    await Deno.copyFile(
      new URL(`indexes/${entry.name}`, LEGACY_DIR),
      `${dir}/indexes/${entry.name}`,
    );
  }
  return dir;
}

/** Every id of `index` found through the slot range reads of the slots `ids` hash to. */
async function idsBySlot(shard: Microshard, index: string, ids: readonly string[]) {
  const found: string[] = [];
  for (const slot of new Set(ids.map(slotOf))) {
    let afterId: string | undefined;
    do {
      const page = await shard.slotPage(index, slot, {
        limit: 3,
        ...afterId === undefined ? {} : { afterId },
      });
      found.push(...page.documents.map((doc) => doc.id));
      afterId = page.next;
    } while (afterId !== undefined);
  }
  return found.sort();
}

const LEGACY_BOOKS = [
  ...Array.from({ length: 40 }, (_, i) => `b${i}`).filter((id) => id !== "b2"),
  "big",
].sort();

Deno.test("slot migration: a directory written before slots opens with every document in its id's slot", async () => {
  const dir = await copyLegacy();
  try {
    const shard = await Microshard.open({ dir });
    try {
      assert.equal(shard.recovery.migratedDocuments, LEGACY_BOOKS.length + 1);
      assert.deepEqual(await idsBySlot(shard, "books", LEGACY_BOOKS), LEGACY_BOOKS);
      assert.deepEqual(await idsBySlot(shard, "notes", ["n1"]), ["n1"]);
      const b1 = await shard.get("books", "b1");
      assert.deepEqual([b1?.version, b1?.doc.n], [2, 101]);
      assert.equal((await shard.get("books", "big"))?.doc.title, "big");
      assert.equal(await shard.get("books", "b2"), undefined);
      const hits = await shard.search("books", { kind: "term", field: "title", term: "rust" }, {
        limit: 100,
        offset: 0,
      });
      assert.equal(hits.total, 38); // b0…b39 say "rust", but b1 (updated) and b2 (deleted)
      const [deleted] = await shard.write([{ op: "delete", index: "books", id: "b3" }]);
      assert.equal(deleted?.ok && deleted.result, "deleted");
    } finally {
      await shard.close();
    }
    const reopened = await Microshard.open({ dir });
    try {
      assert.equal(reopened.recovery.migratedDocuments, 0);
      const left = LEGACY_BOOKS.filter((id) => id !== "b3");
      assert.deepEqual(await idsBySlot(reopened, "books", LEGACY_BOOKS), left);
      const counts = await reopened.slotCounts("books");
      assert.equal([...counts.values()].reduce((a, b) => a + b, 0), left.length);
    } finally {
      await reopened.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
