import assert from "node:assert/strict";
import { DocumentStore } from "./_document_store.ts";
import { keys, MAX_MUTATIONS_PER_ATOMIC, type Mutation } from "./kv_layout.ts";

async function withStore(fn: (store: DocumentStore, kv: Deno.Kv) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const path = `${dir}/kv.sqlite`;
  const store = await DocumentStore.open(path);
  // A second connection to the same file, to look at what the store wrote.
  const kv = await Deno.openKv(path);
  try {
    await fn(store, kv);
  } finally {
    kv.close();
    store.close();
    await Deno.remove(dir, { recursive: true });
  }
}

async function countKeys(kv: Deno.Kv, prefix: Deno.KvKey): Promise<number> {
  let count = 0;
  for await (const _ of kv.list({ prefix })) count++;
  return count;
}

const set = (key: Deno.KvKey, value: unknown): Mutation => ({ type: "set", key, value, bytes: 8 });

Deno.test("document store: units past one atomic operation's budget commit in several operations", async () => {
  await withStore(async (store, kv) => {
    const count = MAX_MUTATIONS_PER_ATOMIC * 2 + 7;
    // 3 × 1,807 mutations: more than one atomic operation takes (Deno KV: 1000).
    const units = Array.from({ length: count }, (_, i) => [
      set(["t", i, "a"], i),
      set(["t", i, "b"], i),
      set(["t", i, "c"], i),
    ]);
    await store.commitInBatches(units, [set(["mark"], "last")]);
    assert.equal(await countKeys(kv, ["t"]), count * 3);
    assert.equal((await kv.get(["mark"])).value, "last");
  });
});

Deno.test("document store: deleting blobs removes every chunk and both markers", async () => {
  await withStore(async (store, kv) => {
    const chunks = MAX_MUTATIONS_PER_ATOMIC + 50;
    await store.commitInBatches(
      Array.from({ length: chunks }, (_, i) => [set(keys.blobChunk("b1", i), new Uint8Array(1))]),
    );
    await store.commit([set(keys.pending("b1"), chunks), set(keys.garbage("b2"), 1)]);
    await store.commit([set(keys.blobChunk("b2", 0), new Uint8Array(1))]);
    assert.equal(await store.collectBlobs(), 2);
    assert.equal(await countKeys(kv, ["blob"]), 0);
    assert.equal(await countKeys(kv, keys.pendings), 0);
    assert.equal(await countKeys(kv, keys.garbages), 0);
  });
});

Deno.test("document store: deleting an index's documents collects their blobs", async () => {
  await withStore(async (store, kv) => {
    await store.commit([
      set(keys.doc("books", "a"), { version: 1, seq: 1, body: new Uint8Array([123, 125]) }),
      set(keys.doc("books", "b"), { version: 1, seq: 2, blob: { id: "x", chunks: 1, bytes: 1 } }),
      set(keys.blobChunk("x", 0), new Uint8Array(1)),
      set(keys.doc("other", "a"), { version: 1, seq: 3, body: new Uint8Array([123, 125]) }),
    ]);
    await store.deleteDocuments("books");
    assert.equal(await countKeys(kv, keys.docs("books")), 0);
    assert.equal(await countKeys(kv, keys.blob("x")), 0);
    assert.equal(await countKeys(kv, keys.garbages), 0);
    assert.deepEqual(await store.body((await store.header("other", "a"))!), {});
  });
});

Deno.test("document store: pruning the log deletes its entries, then moves the watermark", async () => {
  await withStore(async (store, kv) => {
    await store.commitInBatches(
      Array.from({ length: 1_500 }, (_, i) => [set(keys.log(i + 1), { index: "i", id: `${i}` })]),
    );
    await store.pruneLog(0, 1_200);
    assert.equal(await countKeys(kv, keys.logs), 300);
    assert.deepEqual(await store.counters(), { seq: 0, pruned: 1_200 });
    const rest = [];
    for await (const { seq } of store.logAfter(1_200)) rest.push(seq);
    assert.deepEqual([rest[0], rest.at(-1), rest.length], [1_201, 1_500, 300]);
  });
});

Deno.test("document store: headers and tombstones of many ids are read together, each by its id", async () => {
  await withStore(async (store, kv) => {
    const ids = Array.from({ length: 13 }, (_, i) => `d${i}`);
    for (const [i, id] of ids.entries()) {
      if (i % 3 === 0) await kv.set(keys.doc("books", id), { version: i, body: new Uint8Array() });
      if (i % 4 === 0) await kv.set(keys.tomb("books", id), { version: i, stamp: [i, 0, "x"] });
    }
    await kv.set(keys.doc("films", "d1"), { version: 99, body: new Uint8Array() });
    const { headers, tombstones } = await store.headersAndTombstones("books", ids);
    assert.deepEqual([...headers.keys()].sort(), ["d0", "d12", "d3", "d6", "d9"]);
    assert.deepEqual([...tombstones.keys()].sort(), ["d0", "d12", "d4", "d8"]);
    assert.equal(headers.get("d9")?.version, 9);
    assert.equal(tombstones.get("d8")?.version, 8);
    assert.deepEqual(
      {
        headers: await store.headers("books", ids),
        tombstones: await store.tombstones("books", ids),
      },
      { headers, tombstones },
    );
  });
});
