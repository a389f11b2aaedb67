import assert from "node:assert/strict";
import { ActorSystem } from "../actors/system.ts";
import {
  MAX_GROUP_COMMIT_REQUESTS,
  mergeSchemas,
  type MicroshardMsg,
  type MicroshardReplies,
} from "./microshard_actor.ts";
import type { Schema } from "./schema.ts";

const MODULE = new URL("./microshard_actor.ts", import.meta.url);

async function withShardActor(
  fn: (
    shard: import("../actors/types.ts").ActorRef<MicroshardMsg, MicroshardReplies>,
    dir: string,
  ) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const system = new ActorSystem({ node: "test" });
  try {
    const shard = await system.spawnWorker<MicroshardMsg, MicroshardReplies>(MODULE, {
      name: "shard-0",
      args: { dir },
      mailboxCapacity: 4_096,
    });
    await fn(shard, dir);
  } finally {
    await system.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("microshard actor: concurrent single writes are group-committed and all answered", async () => {
  await withShardActor(async (shard) => {
    const writes = Array.from({ length: 300 }, (_, i) =>
      shard.ask({
        type: "write",
        requests: [{
          op: "put",
          index: "books",
          id: `b${i}`,
          doc: { title: `book number ${i}`, n: i },
        }],
      }, { timeoutMs: 30_000 }));
    const outcomes = (await Promise.all(writes)).flat();
    assert.equal(outcomes.length, 300);
    assert.ok(outcomes.every((outcome) => outcome.ok && outcome.result === "created"));
    const stats = await shard.ask({ type: "stats" });
    assert.ok(
      stats.writeBatches < 300,
      `${stats.writeBatches} batches for 300 writes: no group commit`,
    );
    const found = await shard.ask({
      type: "search",
      index: "books",
      plan: { kind: "term", field: "title", term: "book" },
      limit: 0,
      offset: 0,
    });
    assert.equal(found.total, 300);
    assert.deepEqual((await shard.ask({ type: "get", index: "books", id: "b299" }))?.doc, {
      title: "book number 299",
      n: 299,
    });
  });
});

Deno.test("microshard actor: store errors reach the asker by name; the actor goes on", async () => {
  await withShardActor(async (shard) => {
    await assert.rejects(
      shard.ask({ type: "search", index: "missing", plan: { kind: "all" }, limit: 1, offset: 0 }),
      (error: Error) => error.name === "IndexNotFoundError" && /"missing"/.test(error.message),
    );
    await assert.rejects(shard.ask({ type: "get", index: "Bad", id: "x" }), {
      name: "InvalidInputError",
    });
    assert.deepEqual(await shard.ask({ type: "indexes" }), []);
  });
});

Deno.test("microshard actor: documents written through one actor are there after a restart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const round of [1, 2]) {
      const system = new ActorSystem();
      const shard = await system.spawnWorker<MicroshardMsg, MicroshardReplies>(MODULE, {
        args: { dir },
      });
      if (round === 1) {
        await shard.ask({
          type: "write",
          requests: [{ op: "put", index: "i", id: "x", doc: { t: "kept" } }],
        });
      } else {
        assert.deepEqual((await shard.ask({ type: "get", index: "i", id: "x" }))?.doc, {
          t: "kept",
        });
      }
      await system.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("microshard actor: one write of more requests than a group commit takes is written whole", async () => {
  await withShardActor(async (shard) => {
    const count = MAX_GROUP_COMMIT_REQUESTS + 1_500;
    const single = shard.ask({
      type: "write",
      requests: [{ op: "put", index: "books", id: "alone", doc: { title: "alone" } }],
    }, { timeoutMs: 60_000 });
    const outcomes = await shard.ask({
      type: "write",
      requests: Array.from({ length: count }, (_, i) => ({
        op: "put" as const,
        index: "books",
        id: `b${i}`,
        doc: { title: `book ${i}` },
      })),
    }, { timeoutMs: 60_000 });
    assert.equal(outcomes.length, count);
    assert.ok(outcomes.every((outcome, i) => outcome.ok && outcome.id === `b${i}`));
    assert.equal((await single)[0]?.ok, true);
    const result = await shard.ask({
      type: "search",
      index: "books",
      plan: { kind: "term", field: "title", term: "book" },
      limit: 0,
      offset: 0,
    });
    assert.equal(result.total, count);
  });
});

const v1: Schema = { version: 1, fields: { title: { type: "text" } } };
const v2: Schema = { version: 2, fields: { title: { type: "text" }, year: { type: "i64" } } };

Deno.test("microshard actor: a write carrying a schema creates the index with it; the field is searchable at ack", async () => {
  await withShardActor(async (shard) => {
    const [outcome] = await shard.ask({
      type: "write",
      requests: [{ op: "put", index: "books", id: "b1", doc: { title: "Rust", year: 2019 } }],
      schemas: { books: { schema: v2, engine: "orama" } },
    });
    assert.equal(outcome?.ok, true);
    const [info] = await shard.ask({ type: "indexes" });
    assert.equal(info?.engine, "orama");
    assert.deepEqual(info?.schema, v2);
    const found = await shard.ask({
      type: "search",
      index: "books",
      plan: { kind: "range", field: "year", gte: 2019, lte: 2019 },
      limit: 10,
      offset: 0,
    });
    assert.deepEqual(found.hits.map((hit) => hit.id), ["b1"]);
  });
});

Deno.test("microshard actor: a misfit of the carried schema fails with AssertionError by name and writes nothing", async () => {
  await withShardActor(async (shard) => {
    const [outcome] = await shard.ask({
      type: "write",
      requests: [{ op: "put", index: "books", id: "b1", doc: { title: "x", year: 2019 } }],
      schemas: { books: { schema: v1, engine: "fts5" } },
    });
    assert.equal(!outcome?.ok && outcome?.error.name, "AssertionError");
    assert.equal(await shard.ask({ type: "get", index: "books", id: "b1" }), null);
    assert.deepEqual(await shard.ask({ type: "indexes" }), []);
  });
});

Deno.test("microshard actor: writes in flight with different schema versions all fit; the highest wins", async () => {
  await withShardActor(async (shard) => {
    // Sent at once, so that group commit takes many of them together: each message's
    // documents must fit the merged schema (per index the highest version).
    const writes = Array.from({ length: 40 }, (_, i) =>
      shard.ask({
        type: "write",
        requests: [{
          op: "put",
          index: "books",
          id: `b${i}`,
          doc: i === 20 ? { title: `book ${i}`, year: 2020 } : { title: `book ${i}` },
        }],
        schemas: { books: { schema: i === 20 ? v2 : v1, engine: "fts5" } },
      }));
    const outcomes = (await Promise.all(writes)).flat();
    assert.ok(outcomes.every((outcome) => outcome.ok), JSON.stringify(outcomes));
    const [info] = await shard.ask({ type: "indexes" });
    assert.equal(info?.schema.version, 2, "v2 was adopted and not downgraded by later v1s");
    const found = await shard.ask({
      type: "search",
      index: "books",
      plan: { kind: "eq", field: "year", value: 2020 },
      limit: 10,
      offset: 0,
    });
    assert.deepEqual(found.hits.map((hit) => hit.id), ["b20"]);
  });
});

Deno.test("mergeSchemas keeps the highest version per index", () => {
  const entry = (schema: Schema) => ({ schema, engine: "fts5" as const });
  assert.equal(mergeSchemas([undefined, undefined]), undefined);
  assert.deepEqual(
    mergeSchemas([{ a: entry(v2) }, undefined, { a: entry(v1), b: entry(v1) }]),
    { a: entry(v2), b: entry(v1) },
  );
  assert.deepEqual(mergeSchemas([{ a: entry(v1) }, { a: entry(v2) }]), { a: entry(v2) });
});
