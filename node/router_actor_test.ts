import assert from "node:assert/strict";
import { ActorSystem } from "../actors/system.ts";
import { fnv1a } from "./orchestrator.ts";
import { type StartedNode, startNode } from "./start.ts";

async function withNode(numShards: number, fn: (node: StartedNode) => Promise<void>) {
  const dir = await Deno.makeTempDir();
  const system = new ActorSystem({ node: "test" });
  try {
    await fn(await startNode(system, { nodeId: "n1", dataDir: dir, numShards }));
  } finally {
    await system.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

/** A key whose microshard (out of `count`) is `shard`. */
function keyOn(shard: number, count: number, prefix: string): string {
  for (let i = 0;; i++) if (fnv1a(`${prefix}${i}`) % count === shard) return `${prefix}${i}`;
}

const bulk = (count: number, routingKey?: string) =>
  Array.from({ length: count }, (_, i) => ({
    op: "put" as const,
    index: "books",
    id: `bulk-${i}`,
    ...(routingKey === undefined ? {} : { routingKey }),
    doc: { title: `bulk document ${i}`, body: "words to index ".repeat(30) },
  }));

for (const numShards of [1, 2]) {
  Deno.test(`router (${numShards} shard${numShards > 1 ? "s" : ""}): a point read is answered while a large bulk write runs`, async () => {
    await withNode(numShards, async ({ database }) => {
      const readId = keyOn(numShards - 1, numShards, "read-");
      await database.write([{ op: "put", index: "books", id: readId, doc: { title: "ready" } }]);
      const order: string[] = [];
      // With two shards the bulk goes to shard 0 and the read to shard 1: only the router
      // could hold the read back. With one shard the shard itself must let it pass.
      const writing = database.write(bulk(8_000, keyOn(0, numShards, "tenant-")))
        .then((outcomes) => {
          assert.ok(outcomes.every((outcome) => outcome.ok));
          order.push("bulk");
        });
      const reading = database.get("books", readId).then((doc) => {
        assert.equal(doc?.doc.title, "ready");
        order.push("get");
      });
      await Promise.all([writing, reading]);
      assert.deepEqual(order, ["get", "bulk"]);
    });
  });
}

Deno.test("router: every operation is decided and counted; errors reach the caller by name", async () => {
  await withNode(2, async ({ database, router }) => {
    await database.configure("books", { fields: [{ name: "year", type: "i64" }] });
    await database.write([{
      op: "put",
      index: "books",
      id: "b1",
      doc: { title: "Rust", year: 2019 },
    }]);
    assert.equal((await database.get("books", "b1"))?.version, 1);
    assert.equal((await database.search("books", { query: "title:rust" })).total_hits, 1);
    assert.deepEqual((await database.indexes()).map((index) => index.name), ["books"]);
    await assert.rejects(
      database.get("nope", "x"),
      (error: Error) => error.name === "IndexNotFoundError",
    );
    await assert.rejects(
      database.search("books", { query: "year:[x TO" }),
      (error: Error) => error.name === "QueryError",
    );
    assert.deepEqual((await database.dropIndex("books")).total_shards, 2);
    const stats = await router.ask({ type: "stats" });
    // write, get, indexes (this node's), get(nope) are local; configure, search, bad search,
    // drop broadcast.
    assert.deepEqual(stats.decisions, { local: 4, remote: 0, broadcast: 4 });
    assert.equal(stats.failures, 2);
    assert.equal(stats.inFlight, 0);
  });
});
