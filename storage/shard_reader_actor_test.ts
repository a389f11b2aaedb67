import assert from "node:assert/strict";
import { ActorSystem } from "../actors/system.ts";
import { INLINE_MAX_BYTES } from "./kv_layout.ts";
import { Microshard } from "./microshard.ts";
import { createActor, type ShardReaderMsg, type ShardReaderReplies } from "./shard_reader_actor.ts";
import type { ActorRef } from "../actors/types.ts";

async function withShardsAndReader(
  fn: (shards: Microshard[], reader: ActorRef<ShardReaderMsg, ShardReaderReplies>) => Promise<void>,
): Promise<void> {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const shards = await Promise.all(dirs.map((dir) => Microshard.open({ dir })));
  const system = new ActorSystem({ node: "test" });
  try {
    const reader = system.spawn<ShardReaderMsg, ShardReaderReplies>(
      () => createActor({ dirs }),
      { mailboxCapacity: 1_024 },
    );
    await fn(shards, reader);
  } finally {
    await system.shutdown();
    for (const shard of shards) await shard.close();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("shard reader: reads what each shard committed, from its own KV handles", async () => {
  await withShardsAndReader(async (shards, reader) => {
    await shards[0]!.write([{ op: "put", index: "p", id: "a", doc: { n: 1 } }]);
    await shards[1]!.write([{ op: "put", index: "p", id: "b", doc: { n: 2 } }]);
    assert.deepEqual(await reader.ask({ type: "get", shard: 0, index: "p", id: "a" }), {
      id: "a",
      version: 1,
      doc: { n: 1 },
    });
    assert.equal((await reader.ask({ type: "get", shard: 1, index: "p", id: "b" }))?.doc.n, 2);
    // Each position is its own shard's file.
    assert.equal(await reader.ask({ type: "get", shard: 1, index: "p", id: "a" }), null);
    // An acknowledged write is seen by the next read; so is a delete.
    await shards[0]!.write([{ op: "put", index: "p", id: "a", doc: { n: 3 } }]);
    assert.equal((await reader.ask({ type: "get", shard: 0, index: "p", id: "a" }))?.version, 2);
    await shards[0]!.write([{ op: "delete", index: "p", id: "a" }]);
    assert.equal(await reader.ask({ type: "get", shard: 0, index: "p", id: "a" }), null);
    await assert.rejects(reader.ask({ type: "get", shard: 2, index: "p", id: "a" }), RangeError);
    await assert.rejects(reader.ask({ type: "get", shard: 0, index: "Bad", id: "a" }), {
      name: "InvalidInputError",
    });
  });
});

Deno.test("shard reader: a large document replaced while it is read is always read whole", async () => {
  await withShardsAndReader(async ([shard], reader) => {
    // Over the inline limit: the body is a blob, removed when the document is replaced.
    const big = (version: number) => ({
      v: version,
      text: String(version).repeat(INLINE_MAX_BYTES),
    });
    await shard!.write([{ op: "put", index: "p", id: "x", doc: big(0) }]);
    let reads = 0;
    let writing = true;
    const writer = (async () => {
      for (let v = 1; v <= 20; v++) {
        await shard!.write([{ op: "put", index: "p", id: "x", doc: big(v) }]);
      }
    })().finally(() => (writing = false));
    while (writing) {
      const found = await reader.ask({ type: "get", shard: 0, index: "p", id: "x" });
      const doc = found!.doc as { v: number; text: string };
      assert.equal(doc.text, String(doc.v).repeat(INLINE_MAX_BYTES), "a torn body");
      reads++;
    }
    await writer;
    assert.ok(reads > 0);
    const last = await reader.ask({ type: "get", shard: 0, index: "p", id: "x" });
    assert.equal((last!.doc as { v: number }).v, 20);
  });
});
