import assert from "node:assert/strict";
import { Microshard } from "./microshard.ts";
import { slotOf } from "./slot.ts";

const LEGACY_DIR = new URL("./testdata/legacy_v1/", import.meta.url);
/**
 * A shard written at layout version 2 (commit 5ad4d7f: slots in the headers, engines without
 * `_slot`): 30 books `b0`…`b29` titled "rust book N", `b7` deleted.
 */
const LAYOUT_V2_DIR = new URL("./testdata/layout_v2/", import.meta.url);

/** Copies a fixture directory into a fresh one. */
async function copyLegacy(from: URL = LEGACY_DIR): Promise<string> {
  const dir = await Deno.makeTempDir();
  await Deno.mkdir(`${dir}/indexes`);
  await Deno.copyFile(new URL("kv.sqlite", from), `${dir}/kv.sqlite`);
  for await (const entry of Deno.readDir(new URL("indexes/", from))) {
    await Deno.copyFile(new URL(`indexes/${entry.name}`, from), `${dir}/indexes/${entry.name}`);
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
      // The engines were rebuilt from KV, so every document is indexed with its `_slot`.
      assert.deepEqual(shard.recovery.rebuiltIndexes.sort(), ["books", "notes"]);
      for (const id of ["b5", "big", "b39"]) {
        const inSlot = await shard.search("books", {
          kind: "eq",
          field: "_slot",
          value: slotOf(id),
        }, {
          limit: 100,
          offset: 0,
        });
        assert.ok(inSlot.hits.some((hit) => hit.id === id), `${id} found by its _slot`);
      }
      const [deleted] = await shard.write([{ op: "delete", index: "books", id: "b3" }]);
      assert.equal(deleted?.ok && deleted.result, "deleted");
    } finally {
      await shard.close();
    }
    const reopened = await Microshard.open({ dir });
    try {
      assert.equal(reopened.recovery.migratedDocuments, 0);
      // The layout marker is 3 now: the fts5 index opens as it is (orama's "notes", held in
      // memory, is rebuilt on every open).
      assert.deepEqual(reopened.recovery.rebuiltIndexes, ["notes"]);
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

Deno.test("slot migration: engines written before they indexed _slot are rebuilt once, from KV", async () => {
  const dir = await copyLegacy(LAYOUT_V2_DIR);
  const books = Array.from({ length: 30 }, (_, i) => `b${i}`).filter((id) => id !== "b7");
  const bySlot = async (shard: Microshard, id: string) =>
    (await shard.search("books", { kind: "eq", field: "_slot", value: slotOf(id) }, {
      limit: 100,
      offset: 0,
    })).hits.map((hit) => hit.id);
  try {
    const shard = await Microshard.open({ dir });
    try {
      assert.equal(shard.recovery.migratedDocuments, 0);
      assert.deepEqual(shard.recovery.rebuiltIndexes, ["books"]);
      for (const id of books) assert.ok((await bySlot(shard, id)).includes(id), id);
      assert.deepEqual(await bySlot(shard, "b7"), []);
      const rust = await shard.search("books", { kind: "term", field: "title", term: "rust" }, {
        limit: 100,
        offset: 0,
      });
      assert.equal(rust.total, books.length);
    } finally {
      await shard.close();
    }
    const reopened = await Microshard.open({ dir });
    try {
      assert.deepEqual(reopened.recovery.rebuiltIndexes, [], "rebuilt once, not on every open");
      assert.ok((await bySlot(reopened, "b12")).includes("b12"));
    } finally {
      await reopened.close();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
