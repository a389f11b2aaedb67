import assert from "node:assert/strict";
import { ActorSystem } from "../actors/system.ts";
import { fnv1a, NodeOrchestrator, type OrchestratorOptions } from "./orchestrator.ts";
import type { PointReads } from "./_orchestrator_options.ts";
import { threadId, threadNiceness } from "../actors/thread_priority.ts";
import { slotOf } from "./hash.ts";
import { LocalExecutor } from "./local_executor.ts";
import { answerOf, gatherPages } from "../query/pipeline.ts";
import type { SearchRequest } from "../query/request.ts";

/** Searches through the local executor (compile → shards → merge). */
async function search(node: NodeOrchestrator, index: string, request: SearchRequest) {
  return answerOf(await new LocalExecutor(node).searchPages(index, request));
}

async function withNode(
  fn: (node: NodeOrchestrator, dir: string) => Promise<void>,
  numShards = 3,
  options: Partial<OrchestratorOptions> = {},
) {
  const dir = await Deno.makeTempDir();
  const system = new ActorSystem({ node: "test" });
  try {
    const node = await NodeOrchestrator.start(system, { ...options, dataDir: dir, numShards });
    await fn(node, dir);
  } finally {
    await system.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("orchestrator: documents are routed by routing key, read back, and searched across shards", async () => {
  await withNode(async (node) => {
    const outcomes = await node.write(
      Array.from({ length: 60 }, (_, i) => ({
        op: "put" as const,
        index: "books",
        id: `b${i}`,
        doc: { title: `book ${i % 2 === 0 ? "even" : "odd"}`, n: i },
      })),
    );
    assert.ok(outcomes.every((outcome) => outcome.ok));
    const shards = new Set(outcomes.map((outcome) => outcome.shard_id));
    assert.equal(shards.size, 3, "a bulk spreads over every shard");
    assert.equal(outcomes[7]!.shard_id, fnv1a("b7") % 3);
    assert.equal((await node.get("books", "b7"))?.doc.n, 7);
    const answer = await search(node, "books", { query: "title:even sort n:desc limit 3" });
    assert.equal(answer.total_hits, 30);
    assert.deepEqual(answer.hits.map((hit) => hit.id), ["b58", "b56", "b54"]);
    const [summary] = await node.indexes();
    assert.equal(summary?.document_count, 60);
    assert.equal(summary?.shard_count, 3);
    // A routing key keeps related documents on one shard.
    const routed = await node.write([
      { op: "put", index: "books", id: "x1", routingKey: "tenant-a", doc: { title: "a" } },
      { op: "put", index: "books", id: "x2", routingKey: "tenant-a", doc: { title: "b" } },
    ]);
    assert.equal(routed[0]!.shard_id, routed[1]!.shard_id);
    assert.equal((await node.get("books", "x1", "tenant-a"))?.doc.title, "a");
  });
});

Deno.test("orchestrator: the schema is decided at node level; every shard agrees", async () => {
  await withNode(async (node) => {
    // Integers first, then a fraction on another shard: the node widens once for all.
    await node.write([{ op: "put", index: "p", id: "a", doc: { price: 10 } }]);
    const second = await node.write([
      { op: "put", index: "p", id: "b", doc: { price: 10.5 } },
      { op: "put", index: "p", id: "c", doc: { price: "cheap" } },
    ]);
    assert.equal(second[0]!.ok, true);
    assert.equal(second[1]!.ok, false);
    assert.match(
      !second[1]!.ok ? second[1]!.error.message : "",
      /field "price" expects f64, got "cheap"/,
    );
    assert.equal(node.schema("p")?.schema.fields.price?.type, "f64");
    const answer = await search(node, "p", { query: "price:>=10", limit: 10 });
    assert.deepEqual(answer.hits.map((hit) => hit.id).sort(), ["a", "b"]);
  });
});

Deno.test("orchestrator: the shard count is fixed once the node has started", async () => {
  const dir = await Deno.makeTempDir();
  try {
    for (const requested of [2, 5]) {
      const system = new ActorSystem();
      const node = await NodeOrchestrator.start(system, { dataDir: dir, numShards: requested });
      assert.equal(node.shardCount, 2);
      if (requested === 2) {
        await node.write([{ op: "put", index: "i", id: "k", doc: { t: "kept" } }]);
      } else assert.equal((await node.get("i", "k"))?.doc.t, "kept");
      await system.shutdown();
    }
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("orchestrator: configure, drop, and errors for unknown indexes", async () => {
  await withNode(async (node) => {
    await node.configure("hot", { engine: "orama", fields: [{ name: "status", type: "string" }] });
    assert.equal(node.schema("hot")?.engine, "orama");
    await assert.rejects(
      node.configure("hot", { engine: "fts5" }),
      /engine is chosen when an index is created/,
    );
    await assert.rejects(search(node, "missing", { query: "*" }), { name: "IndexNotFoundError" });
    assert.deepEqual(await node.dropIndex("hot"), { deleted_from_shards: 3, total_shards: 3 });
    assert.deepEqual(await node.indexes(), []);
  });
});

Deno.test("orchestrator: a declared type change reindexes from KV, or is refused naming the misfit", async () => {
  await withNode(async (node) => {
    await node.write([
      { op: "put", index: "csv", id: "r1", doc: { category: "garden tools", zip: "02134" } },
      { op: "put", index: "csv", id: "r2", doc: { category: "kitchen", zip: "90210" } },
    ]);
    assert.equal(node.schema("csv")?.schema.fields.category?.type, "text");
    // text → string: every stored value fits; the engine is rebuilt and exact matches work.
    const retyped = await node.configure("csv", { fields: [{ name: "category", type: "string" }] });
    assert.equal(retyped.schema.fields.category?.type, "string");
    const exact = await search(node, "csv", {
      query: 'category:"garden tools"',
      facets: { category: {} },
    });
    assert.deepEqual(exact.hits.map((hit) => hit.id), ["r1"]);
    assert.deepEqual(
      exact.facets?.category?.buckets,
      [{ value: "garden tools", count: 1 }],
    );
    assert.equal((await search(node, "csv", { query: "category:garden" })).total_hits, 0);
    // string → i64: "02134" is not an integer; nothing changes.
    await assert.rejects(
      node.configure("csv", { fields: [{ name: "zip", type: "i64" }] }),
      (error: Error) =>
        error.name === "InvalidInputError" && /document "r[12]" does not fit/.test(error.message),
    );
    assert.equal(node.schema("csv")?.schema.fields.zip?.type, "text");
    assert.equal((await search(node, "csv", { query: "zip:02134" })).total_hits, 1);
    // Writes after the retype are checked against the new type.
    const [late] = await node.write([{ op: "put", index: "csv", id: "r3", doc: { category: 5 } }]);
    assert.equal(late!.ok, false);
  });
});

Deno.test("orchestrator: writes racing an index deletion fail with 404, and the index does not come back after a restart", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const system = new ActorSystem();
    const node = await NodeOrchestrator.start(system, { dataDir: dir, numShards: 2 });
    await node.write([{ op: "put", index: "gone", id: "a", doc: { t: "x" } }]);
    const dropping = node.dropIndex("gone");
    const racing = await Promise.all(
      Array.from(
        { length: 40 },
        (_, i) => node.write([{ op: "put", index: "gone", id: `r${i}`, doc: { t: "late" } }]),
      ),
    );
    await dropping;
    for (const [outcome] of racing) {
      assert.equal(outcome!.ok, false);
      assert.equal(!outcome!.ok && outcome!.error.name, "IndexNotFoundError");
    }
    await system.shutdown();
    const again = new ActorSystem();
    const reopened = await NodeOrchestrator.start(again, { dataDir: dir, numShards: 2 });
    assert.equal(reopened.schema("gone"), undefined, "the deleted index stays deleted");
    assert.deepEqual(await reopened.indexes(), []);
    await again.shutdown();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("orchestrator: a document refused for its size adds no fields to the schema", async () => {
  const dir = await Deno.makeTempDir();
  const system = new ActorSystem();
  try {
    const node = await NodeOrchestrator.start(system, {
      dataDir: dir,
      numShards: 1,
      maxDocumentBytes: 1_000,
    });
    await node.write([{ op: "put", index: "f", id: "ok", doc: { a: 1 } }]);
    const junk = Object.fromEntries(Array.from({ length: 200 }, (_, i) => [`junk${i}`, i]));
    const [big, small] = await node.write([
      { op: "put", index: "f", id: "big", doc: junk },
      { op: "put", index: "f", id: "small", doc: { b: "kept" } },
    ]);
    assert.equal(big!.ok, false);
    assert.equal(!big!.ok && big!.error.name, "DocumentTooLargeError");
    assert.equal(small!.ok, true);
    assert.deepEqual(Object.keys(node.schema("f")!.schema.fields).sort(), ["a", "b"]);
  } finally {
    await system.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("orchestrator: a cluster slot's documents are counted, paged from every shard with their routing keys, and dropped", async () => {
  await withNode(async (node) => {
    const key = "tenant-1";
    const outcomes = await node.write([
      ...Array.from({ length: 150 }, (_, i) => ({
        op: "put" as const,
        index: "books",
        id: `t${i}`,
        routingKey: key,
        doc: { title: "tenant" },
      })),
      ...Array.from({ length: 150 }, (_, i) => ({
        op: "put" as const,
        index: "books",
        id: `b${i}`,
        doc: { title: "own" },
      })),
    ]);
    assert.ok(outcomes.every((outcome) => outcome.ok));
    const counts = await node.slotCounts("books");
    assert.equal([...counts.values()].reduce((a, b) => a + b, 0), 300);
    const slot = slotOf(key);
    const own = Array.from({ length: 150 }, (_, i) => `b${i}`).filter((id) => slotOf(id) === slot);
    assert.equal(counts.get(slot), 150 + own.length);
    const paged: Array<{ id: string; routingKey?: string }> = [];
    for (let shard = 0; shard < node.shardCount; shard++) {
      let afterId: string | undefined;
      do {
        const page = await node.slotPage("books", slot, {
          shard,
          limit: 40,
          ...(afterId === undefined ? {} : { afterId }),
        });
        paged.push(...page.documents);
        afterId = page.next;
      } while (afterId !== undefined);
    }
    assert.equal(paged.length, 150 + own.length);
    assert.ok(paged.filter((doc) => doc.id.startsWith("t")).every((doc) => doc.routingKey === key));
    assert.equal(await node.dropSlot("books", slot), 150 + own.length);
    assert.equal(await node.get("books", "t7", key), null);
    assert.equal((await node.slotCounts("books")).get(slot), undefined);
    const left = await search(node, "books", { query: "*" });
    assert.equal(left.total_hits, 300 - 150 - own.length);
  });
});

/**
 * A one-shard node (`pointReads` as given) that holds "a"; `fn` runs while the shard worker's
 * thread is held inside the index apply of a second write, "b" (committed to KV, not applied),
 * and gets that write's outcome, answered once the hold is released.
 */
async function whileApplyHeld(
  options: { readonly pointReads: PointReads; readonly shardTimeoutMs: number },
  fn: (node: NodeOrchestrator, release: () => Promise<unknown>) => Promise<void>,
) {
  const dir = await Deno.makeTempDir();
  const system = new ActorSystem({ node: "test" });
  // [0] = 1 holds every shard worker's thread at its next engine apply; [1] = 1 once held.
  const gate = new Int32Array(new SharedArrayBuffer(8));
  const open = () => {
    Atomics.store(gate, 0, 0);
    Atomics.notify(gate, 0);
  };
  try {
    const node = await NodeOrchestrator.start(system, {
      dataDir: dir,
      numShards: 1,
      shardApplyGate: gate,
      ...options,
    });
    const [first] = await node.write([{ op: "put", index: "p", id: "a", doc: { t: "one" } }]);
    assert.ok(first?.ok);
    Atomics.store(gate, 0, 1);
    const held = node.write([{ op: "put", index: "p", id: "b", doc: { t: "two" } }]);
    held.catch(() => {}); // observed now; awaited by `release` where a test wants it
    const entered = Atomics.waitAsync(gate, 1, 0, 30_000);
    if (entered.async) await entered.value;
    assert.equal(Atomics.load(gate, 1), 1, "the shard never reached its index apply");
    await fn(node, () => (open(), held));
  } finally {
    open();
    await system.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
}

for (const pointReads of ["main", "workers"] as const) {
  Deno.test(`orchestrator: a point read is answered while its shard's worker is held inside a write's index apply (point reads: ${pointReads})`, async () => {
    await whileApplyHeld({ pointReads, shardTimeoutMs: 60_000 }, async (node, release) => {
      // The shard's thread is blocked (synchronously, as in a long FTS5 apply): nothing it
      // hosts can answer. The reader answers from KV — the held write too, committed there.
      assert.equal((await node.get("p", "a"))?.doc.t, "one");
      assert.equal((await node.get("p", "b"))?.doc.t, "two");
      assert.equal(await node.get("p", "missing"), null);
      assert.ok(((await release()) as Array<{ ok: boolean }>)[0]?.ok);
    });
  });
}

Deno.test({
  name:
    "orchestrator: the shard workers' threads take the niceness asked for; the main thread keeps its own",
  ignore: Deno.build.os !== "linux",
  async fn() {
    const nicenessOfThreads = () =>
      [...Deno.readDirSync("/proc/self/task")].map((task) => threadNiceness(Number(task.name)));
    const mainBefore = threadNiceness(threadId()!);
    assert.equal(nicenessOfThreads().filter((n) => n === 7).length, 0);
    await withNode(
      (node) => {
        // Every shard worker's thread (and any thread it started since) is at 7.
        const at7 = nicenessOfThreads().filter((n) => n === 7).length;
        assert.ok(at7 >= node.shardCount, `${at7} threads at niceness 7 for 3 shards`);
        assert.equal(threadNiceness(threadId()!), mainBefore);
        return Promise.resolve();
      },
      3,
      { shardNiceness: 7 },
    );
  },
});

Deno.test("orchestrator: a search's statistics are kept while no shard changes, and any write moves them", async () => {
  const dir = await Deno.makeTempDir();
  const docs = (from: number, count: number, title: string) =>
    Array.from({ length: count }, (_, i) => ({
      op: "put" as const,
      index: "books",
      id: `b${from + i}`,
      doc: { title: `${title} ${from + i}` },
    }));
  const scores = async (node: NodeOrchestrator) =>
    (await search(node, "books", { query: "title:rust title:go" })).hits
      .map((hit) => [hit.id, hit._score] as const);
  let system = new ActorSystem({ node: "test" });
  try {
    let node = await NodeOrchestrator.start(system, { dataDir: dir, numShards: 3 });
    await node.write([...docs(0, 4, "rust"), ...docs(4, 20, "go")]);
    const first = await scores(node);
    assert.deepEqual(await scores(node), first, "the kept statistics score the same");
    // More documents holding "rust": its document frequency rises, the same documents score
    // lower — with statistics kept from before the write they would score the same.
    await node.write(docs(24, 8, "rust"));
    const after = new Map(await scores(node));
    for (const [id, score] of first.filter(([id]) => Number(id.slice(1)) < 4)) {
      assert.ok(after.get(id)! < score, `${id}: ${after.get(id)} after, ${score} before`);
    }
    // A node started afresh (nothing kept) scores exactly as the one that kept them.
    const kept = await scores(node);
    await system.shutdown();
    system = new ActorSystem({ node: "test" });
    node = await NodeOrchestrator.start(system, { dataDir: dir, numShards: 3 });
    assert.deepEqual(await scores(node), kept);
  } finally {
    await system.shutdown();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("orchestrator: a search over several shards reads only its page's documents and answers as if each shard had read its own", async () => {
  await withNode(async (node) => {
    await node.write(Array.from({ length: 40 }, (_, i) => ({
      op: "put" as const,
      index: "books",
      id: `b${i}`,
      doc: { title: `rust ${"book ".repeat(1 + (i % 7))}`, n: i },
    })));
    await node.write([{
      op: "put",
      index: "books",
      id: "b5",
      doc: { title: "rust book", n: 500 },
    }]);
    const request = { query: "title:rust title:book", limit: 5, offset: 3 };
    const schema = node.schema("books")!.schema;
    const read = (fetchPhase: boolean) =>
      gatherPages((query) => node.shardPages(query, { fetchPhase }), "books", request, { schema })
        .then(answerOf);
    const [fetched, whole] = [await read(true), await read(false)];
    const strip = (answer: { hits: unknown[]; total_hits: number }) => ({
      hits: answer.hits,
      total: answer.total_hits,
    });
    assert.equal(fetched.hits.length, 5);
    assert.deepEqual(strip(fetched), strip(whole));
    assert.ok(fetched.hits.every((hit) => typeof hit.title === "string"), "every hit has its doc");
    // The executor's own searches take the fetch phase with several shards.
    assert.deepEqual(strip(await search(node, "books", request)), strip(whole));
  });
});

Deno.test("orchestrator: kept statistics score as the shards do while writes, deletes and searches race", async () => {
  await withNode(async (node) => {
    const executor = new LocalExecutor(node);
    const scores = async (query: string) =>
      answerOf(await executor.searchPages("books", { query, limit: 50 })).hits
        .map((hit) => [hit.id, hit._score] as const);
    // A fuzzy leaf is never answered from the kept statistics; this one matches nothing.
    const kept = "title:rust title:go";
    const asked = "title:rust title:go qqqqxz~1";
    let next = 0;
    const put = () =>
      node.write([{
        op: "put",
        index: "books",
        id: `b${next++ % 23}`,
        doc: { title: next % 3 === 0 ? "rust go" : next % 3 === 1 ? "rust" : "go go" },
      }]);
    await put();
    for (let round = 0; round < 12; round++) {
      const writes = Array.from({ length: 1 + (round % 4) }, put);
      if (round % 5 === 4) writes.push(node.write([{ op: "delete", index: "books", id: "b3" }]));
      await Promise.all([...writes, ...Array.from({ length: 3 }, () => scores(kept))]);
      assert.deepEqual(await scores(kept), await scores(asked), `round ${round}`);
      assert.deepEqual(await scores(kept), await scores(asked), `round ${round}, kept`);
    }
  });
});

Deno.test("orchestrator: with point reads in the shard workers, a read waits behind the shard's held apply", async () => {
  await whileApplyHeld({ pointReads: "shards", shardTimeoutMs: 1_000 }, async (node) => {
    // The shard's thread is blocked: a read it must answer times out (what `main` avoids).
    await assert.rejects(node.get("p", "a"), (error: Error) => error.name === "AskTimeoutError");
  });
});
