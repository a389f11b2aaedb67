import assert from "node:assert/strict";
import { ActorSystem } from "../actors/system.ts";
import { withDeadline } from "../testing/deadline.ts";
import type { Executor } from "./executor.ts";
import { LocalExecutor } from "./local_executor.ts";
import { type StartedNode, startNode } from "./start.ts";
import { createRouterActor, type RouterMsg, type RouterReplies } from "./router_actor.ts";
import type { WriteCommand } from "./write_command.ts";

async function withNode(
  numShards: number,
  fn: (node: StartedNode, system: ActorSystem) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const system = new ActorSystem({ node: "test" });
  try {
    await fn(await startNode(system, { nodeId: "n1", dataDir: dir, numShards }), system);
  } finally {
    await system.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

const WAIT_MS = 10_000;

/** The real executor, except that each write waits for `gate` before it runs. */
function holdingWrites(executor: Executor, gate: Promise<void>, onHeld: () => void): Executor {
  return new Proxy(executor, {
    get(target, key) {
      if (key === "write") {
        return async (commands: readonly WriteCommand[]) => {
          onHeld();
          await gate;
          return await target.write(commands);
        };
      }
      const value = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

Deno.test("router: a point read is answered while a write is still running", async () => {
  await withNode(1, async ({ orchestrator }, system) => {
    await orchestrator.write([{ op: "put", index: "books", id: "ready", doc: { title: "ready" } }]);
    const release = Promise.withResolvers<void>();
    const held = Promise.withResolvers<void>();
    const router = system.spawn<RouterMsg, RouterReplies>(
      () =>
        createRouterActor(
          holdingWrites(new LocalExecutor(orchestrator), release.promise, held.resolve),
        ),
      { name: "gated-router" },
    );
    const writes = Array.from({ length: 100 }, (_, i) => ({
      op: "put" as const,
      index: "books",
      id: `bulk-${i}`,
      doc: { title: `bulk document ${i}` },
    }));
    const writing = router.ask({ type: "write", commands: writes }, { timeoutMs: 3 * WAIT_MS });
    // Observed now: the write must not fail unhandled while the test awaits the read.
    writing.catch(() => {});
    await withDeadline(held.promise, WAIT_MS, "the write reaching the orchestrator");
    // The write is held inside its execution: a router that serialized work would time out.
    const doc = await router.ask({ type: "get", index: "books", id: "ready" }, {
      timeoutMs: WAIT_MS,
    });
    assert.equal(doc?.doc.title, "ready");
    assert.equal((await router.ask({ type: "stats" })).inFlight, 1, "the write is still running");
    release.resolve();
    const outcomes = await writing;
    assert.equal(outcomes.length, writes.length);
    assert.ok(outcomes.every((outcome) => outcome.ok));
  });
});

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
