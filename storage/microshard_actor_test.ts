import assert from "node:assert/strict";
import { ActorSystem } from "../actors/system.ts";
import { withDeadline } from "../testing/deadline.ts";
import {
  createActor,
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

Deno.test("microshard actor: concurrent single writes through a worker are all answered and searchable", async () => {
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

/**
 * A shard actor in this isolate whose first write is held after its KV commit until
 * `release`, so that the writes sent meanwhile queue in its mailbox (group commit).
 */
async function withGatedShardActor(
  fn: (
    shard: import("../actors/types.ts").ActorRef<MicroshardMsg, MicroshardReplies>,
    gate: { held: Promise<void>; release: () => void },
  ) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const system = new ActorSystem({ node: "test" });
  const gate = Promise.withResolvers<void>();
  const held = Promise.withResolvers<void>();
  let first = true;
  const afterKvCommit = () => {
    if (!first) return;
    first = false;
    held.resolve();
    return gate.promise;
  };
  try {
    const shard = system.spawn(() => createActor({ dir, faults: { afterKvCommit } }), {
      mailboxCapacity: 1_024,
    });
    const heldWithin = withDeadline(held.promise, 10_000, "the first write reached the gate");
    await fn(shard, { held: heldWithin, release: () => gate.resolve() });
  } finally {
    gate.resolve();
    await system.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("microshard actor: writes queued behind a running write are committed as one group", async () => {
  await withGatedShardActor(async (shard, gate) => {
    const put = (i: number) =>
      shard.ask({
        type: "write",
        requests: [{ op: "put", index: "books", id: `b${i}`, doc: { title: `book ${i}` } }],
      }, { timeoutMs: 30_000 });
    const running = put(0);
    await gate.held;
    const queued = Array.from({ length: 299 }, (_, i) => put(i + 1));
    gate.release();
    const outcomes = [...await running, ...(await Promise.all(queued)).flat()];
    assert.ok(outcomes.every((outcome) => outcome.ok && outcome.result === "created"));
    const stats = await shard.ask({ type: "stats" });
    assert.equal(stats.writeBatches, 2, "the first write, then the 299 queued ones together");
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

Deno.test("microshard actor: a group commit checks every message's documents against the merged schemas", async () => {
  await withGatedShardActor(async (shard, gate) => {
    const write = (i: number, schema: Schema, doc: Record<string, unknown>) =>
      shard.ask({
        type: "write",
        requests: [{ op: "put", index: "books", id: `b${i}`, doc }],
        schemas: { books: { schema, engine: "fts5" } },
      });
    const running = write(0, v1, { title: "first" });
    await gate.held;
    // Queued together: v1, then v2 (with the field it adds), then v1 again.
    const queued = [
      write(1, v1, { title: "one" }),
      write(2, v2, { title: "two", year: 2020 }),
      write(3, v1, { title: "three" }),
    ];
    gate.release();
    const outcomes = [...await running, ...(await Promise.all(queued)).flat()];
    assert.ok(outcomes.every((outcome) => outcome.ok), JSON.stringify(outcomes));
    assert.equal((await shard.ask({ type: "stats" })).writeBatches, 2, "one group commit");
    const [info] = await shard.ask({ type: "indexes" });
    assert.deepEqual(info?.schema, v2, "the highest version, not downgraded by the later v1");
    const found = await shard.ask({
      type: "search",
      index: "books",
      plan: { kind: "eq", field: "year", value: 2020 },
      limit: 10,
      offset: 0,
    });
    assert.deepEqual(found.hits.map((hit) => hit.id), ["b2"]);
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

Deno.test("microshard actor: with a commit window, a write sent after a running one shares its commit; without, it waits for the next", async () => {
  for (const [commitWindowMs, batches] of [[0, 2], [500, 1]] as const) {
    const dir = await Deno.makeTempDir();
    const system = new ActorSystem({ node: "test" });
    try {
      const shard = system.spawn(() => createActor({ dir, commitWindowMs }), {
        mailboxCapacity: 1_024,
      });
      const put = (id: string) =>
        shard.ask({ type: "write", requests: [{ op: "put", index: "p", id, doc: { n: 1 } }] });
      await shard.ask({ type: "indexes" }); // opened: the first write is taken when it arrives
      const first = put("a");
      // Sent on a timer that expires before the window's: after the first batch started.
      const second = new Promise<Awaited<typeof first>>((resolve, reject) =>
        setTimeout(() => put("b").then(resolve, reject), 0)
      );
      const outcomes = [...await first, ...await second];
      assert.ok(outcomes.every((outcome) => outcome.ok && outcome.result === "created"));
      const stats = await shard.ask({ type: "stats" });
      assert.equal(stats.writeBatches, batches, `commit window ${commitWindowMs} ms`);
      assert.equal((await shard.ask({ type: "get", index: "p", id: "b" }))?.doc.n, 1);
    } finally {
      await system.shutdown();
      await Deno.remove(dir, { recursive: true });
    }
  }
});
