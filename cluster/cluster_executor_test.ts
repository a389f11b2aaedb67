import assert from "node:assert/strict";
import type { NodeOrchestrator } from "../node/orchestrator.ts";
import { ClusterExecutor, decideInView, type ServiceLookup } from "./cluster_executor.ts";
import { NodeUnavailableError } from "./errors.ts";
import { HashRing } from "./ring.ts";
import type { ClusterView } from "./view.ts";
import { HintStore } from "./hints.ts";
import { SlotTable } from "./slot_table.ts";
import { RebuildingSlots } from "./rebuilding.ts";
import { encodeStamp } from "../storage/hlc.ts";

// The cluster executor over stand-in node services: these tests are about its retry, timeout and
// fan-out rules; the real services over libp2p are exercised by tests/cluster_test.ts.

function view(connected: Record<string, boolean>): ClusterView {
  const members = new Map(
    Object.entries(connected).map(([nodeId, isConnected]) => [nodeId, {
      info: {
        nodeId,
        name: `name-${nodeId}`,
        clusterName: "t",
        peerId: nodeId,
        addrs: [],
        http: "",
        shardCount: 2,
      },
      connected: isConnected,
    }]),
  );
  return { self: "a", members, ring: new HashRing(members.keys()) };
}

const settings = {
  broadcastTimeoutMs: 200,
  requestTimeoutMs: 1_000,
  retryAttempts: 2,
  fanoutLimit: 2,
  view: view({ a: true }),
};
const noNode = {} as NodeOrchestrator;

function service(ask: (msg: unknown) => Promise<unknown>): ServiceLookup {
  return () => Promise.resolve({ ask } as unknown as Awaited<ReturnType<ServiceLookup>>);
}

/** A node stub with one index of a text field, answering searches with `shardPages`. */
function stubNode(
  shardPages: (query: { phase?: string; stats?: unknown }) => Promise<unknown>,
  more: { readonly shardCount?: number; readonly schemaList?: () => unknown[] } = {},
): NodeOrchestrator {
  const schema = { version: 1, fields: { title: { type: "text" as const } } };
  return {
    shardCount: 1,
    schema: () => ({ schema, engine: "fts5" }),
    shardPages,
    ...more,
  } as unknown as NodeOrchestrator;
}

Deno.test("cluster executor: a request whose link broke is retried remote_retry_attempts times", async () => {
  let calls = 0;
  const ops = new ClusterExecutor(
    noNode,
    service(() => {
      calls++;
      return calls < 3
        ? Promise.reject(new NodeUnavailableError("b", "reset"))
        : Promise.resolve("ok");
    }),
    settings,
  );
  assert.equal(await ops.unicast(view({ a: true, b: true }), "b", { type: "indexes" }), "ok");
  assert.equal(calls, 3);
  assert.equal(ops.counters.remote_retries, 2);

  calls = 0;
  const failing = new ClusterExecutor(
    noNode,
    service(() => (calls++, Promise.reject(new NodeUnavailableError("b", "reset")))),
    settings,
  );
  await assert.rejects(
    failing.unicast(view({ a: true, b: true }), "b", { type: "indexes" }),
    NodeUnavailableError,
  );
  assert.equal(calls, 3, "one attempt and two retries");
});

Deno.test("cluster executor: other errors are not retried; a node known to be down is not asked", async () => {
  let calls = 0;
  const ops = new ClusterExecutor(
    noNode,
    service(() => {
      calls++;
      const error = new Error("bad field");
      error.name = "InvalidInputError";
      return Promise.reject(error);
    }),
    settings,
  );
  await assert.rejects(
    ops.unicast(view({ a: true, b: true }), "b", { type: "indexes" }),
    (error: Error) => error.name === "InvalidInputError",
  );
  assert.equal(calls, 1);
  await assert.rejects(
    ops.unicast(view({ a: true, b: false }), "b", { type: "indexes" }),
    (error: Error) => error instanceof NodeUnavailableError && /name-b/.test(error.message),
  );
  assert.equal(calls, 1);
});

Deno.test("cluster executor: a broadcast answers within its timeout, counts late and lost nodes, keeps the fan-out bound", async () => {
  let inFlight = 0;
  let most = 0;
  const ops = new ClusterExecutor(noNode, service(() => Promise.resolve()), settings);
  const started = performance.now();
  const gathered = await ops.gather(
    view({ a: true, b: true, c: true, d: true, e: false }),
    async (node) => {
      inFlight++;
      most = Math.max(most, inFlight);
      try {
        if (node === "c") await new Promise(() => {}); // never answers
        return node;
      } finally {
        inFlight--;
      }
    },
  );
  const elapsed = performance.now() - started;
  assert.ok(elapsed < 1_000, `the broadcast took ${elapsed} ms`);
  assert.deepEqual(gathered.results.map((r) => r.node).sort(), ["a", "b", "d"]);
  assert.deepEqual(gathered.failed.map((f) => f.node).sort(), ["c", "e"]);
  assert.equal(gathered.contacted, 4);
  assert.ok(most <= settings.fanoutLimit, `${most} requests in flight at once`);
});

Deno.test("cluster executor: by the view, ownership decides local or remote; broadcasts reach connected nodes", () => {
  const ring = new HashRing(["a", "b", "c"]);
  const info = (nodeId: string) => ({
    nodeId,
    name: nodeId,
    clusterName: "test",
    peerId: `peer-${nodeId}`,
    addrs: [],
    http: "",
    shardCount: 2,
  });
  const view: ClusterView = {
    self: "a",
    ring,
    members: new Map([
      ["a", { info: info("a"), connected: true }],
      ["b", { info: info("b"), connected: true }],
      ["c", { info: info("c"), connected: false }],
    ]),
  };
  const idOwnedBy = (node: string) => {
    for (let i = 0;; i++) if (ring.ownerOf(`doc-${i}`) === node) return `doc-${i}`;
  };
  const put = (id: string) => ({ op: "put" as const, index: "books", id, doc: {} });
  assert.deepEqual(decideInView({ type: "write", commands: [put(idOwnedBy("a"))] }, view), {
    kind: "local",
  });
  assert.deepEqual(
    decideInView({ type: "write", commands: [put(idOwnedBy("a")), put(idOwnedBy("c"))] }, view),
    { kind: "remote", nodes: ["c"] },
  );
  assert.deepEqual(decideInView({ type: "get", index: "books", id: idOwnedBy("b") }, view), {
    kind: "remote",
    nodes: ["b"],
  });
  // A routing key, not the id, decides the owner.
  assert.deepEqual(
    decideInView(
      { type: "get", index: "books", id: idOwnedBy("b"), routingKey: idOwnedBy("a") },
      view,
    ),
    { kind: "local" },
  );
  assert.deepEqual(
    decideInView({ type: "search", index: "books", request: { query: "*" } }, view),
    {
      kind: "broadcast",
      nodes: ["a", "b"],
    },
  );
});

Deno.test("cluster executor: a peer's nonsense statistics are refused and counted, never summed into the scores", async () => {
  const local = {
    docCount: 4,
    fields: [["title", 4, 8] as const],
    docFreqs: [['[null,"rust"]', 2] as const],
  };
  const scoredWith: unknown[] = [];
  const node = stubNode((query: { phase?: string; stats?: unknown }) => {
    if (query.phase !== "stats") scoredWith.push(query.stats);
    return Promise.resolve({
      pages: [{ total: query.phase === "stats" ? 0 : 2, hits: [], stats: local }],
      totalShards: 1,
    });
  });
  for (
    const nonsense of [
      { docCount: -3, fields: [], docFreqs: [] },
      { docCount: 5, fields: [], docFreqs: [['[null,"rust"]', 1e9]] },
      { docCount: 5, fields: [["title", 1, 1]], docFreqs: "all" },
    ]
  ) {
    scoredWith.length = 0;
    const ops = new ClusterExecutor(
      node,
      service((msg) => {
        const query = (msg as { query: { phase?: string } }).query;
        return Promise.resolve({
          pages: [{ total: 0, hits: [], ...(query.phase === "stats" ? { stats: nonsense } : {}) }],
          totalShards: 1,
        });
      }),
      { ...settings, view: view({ a: true, b: true }) },
    );
    const gathered = await ops.searchPages("books", { query: "rust" });
    assert.equal(ops.counters.refused_peer_stats, 1, JSON.stringify(nonsense));
    // The search scored with this node's statistics alone, and says a node failed.
    assert.deepEqual(scoredWith, [{
      ...local,
      fields: [["title", 4, 8]],
      docFreqs: [['[null,"rust"]', 2]],
    }]);
    assert.equal(gathered.context.nodesFailed, 1);
    assert.equal(gathered.context.failedShards, 2);
  }
});

Deno.test("cluster executor: a node that fails the statistics phase is not asked to score with sums it is not in", async () => {
  const local = { docCount: 4, fields: [["title", 4, 8] as const], docFreqs: [] };
  const node = stubNode(() =>
    Promise.resolve({ pages: [{ total: 1, hits: [], stats: local }], totalShards: 1 })
  );
  const phases: string[] = [];
  const ops = new ClusterExecutor(
    node,
    service((msg) => {
      const phase = (msg as { query: { phase?: string } }).query.phase ?? "score";
      phases.push(phase);
      if (phase === "stats") return Promise.reject(new Error("busy"));
      return Promise.resolve({ pages: [{ total: 5, hits: [] }], totalShards: 1 });
    }),
    { ...settings, view: view({ a: true, b: true }) },
  );
  const gathered = await ops.searchPages("books", { query: "rust" });
  assert.deepEqual(phases, ["stats"], "b was asked for its statistics only");
  assert.equal(gathered.context.nodesFailed, 1);
  assert.equal(gathered.context.failedShards, 2);
  assert.equal(gathered.pages.reduce((sum, page) => sum + page.total, 0), 1, "only a's pages");
  assert.equal(ops.counters.refused_peer_stats, 0, "a failure is not nonsense");
});

Deno.test("cluster executor: slots this node's table gives to a node it has not met count as failed, never silently missed", async () => {
  const local = { docCount: 4, fields: [["title", 4, 8] as const], docFreqs: [] };
  const node = stubNode(() =>
    Promise.resolve({ pages: [{ total: 4, hits: [], stats: local }], totalShards: 1 })
  );
  const base = view({ a: true });
  // "z" owns half the slots by the table, but is no member here (not met yet): nobody asks it.
  const table = SlotTable.fromRing(new HashRing(["a", "z"]));
  const ops = new ClusterExecutor(node, service(() => Promise.reject(new Error("unused"))), {
    ...settings,
    view: { ...base, slots: table },
  });
  const gathered = await ops.searchPages("books", { query: "rust" });
  assert.equal(gathered.context.nodesFailed, 1);
  assert.equal(gathered.context.failedShards, 1);
  const known = new ClusterExecutor(node, service(() => Promise.reject(new Error("unused"))), {
    ...settings,
    view: { ...base, slots: SlotTable.fromRing(new HashRing(["a"])) },
  });
  assert.equal((await known.searchPages("books", { query: "rust" })).context.failedShards, 0);
});

/** An executor on node "a" of three, every slot on all three (RF 3), over stand-in services. */
async function replicated(
  answer: (node: string, commands: Array<{ op: string; id: string }>) => Promise<unknown>,
  connected: Record<string, boolean> = { a: true, b: true, c: true },
) {
  const dir = await Deno.makeTempDir({ prefix: "cameodb-executor-hints-" });
  const hints = await HintStore.open(dir);
  const node = {
    write: (batch: Array<{ op: string; id: string }>) =>
      Promise.resolve(
        batch.map((command) =>
          command.op === "put"
            ? { ok: true, id: command.id, result: "created", version: 1, stamp: "s1" }
            : { ok: true, id: command.id, result: "not_found", version: 0 }
        ),
      ),
  } as unknown as NodeOrchestrator;
  const base = view(connected);
  const table = SlotTable.fromRing(new HashRing(["a", "b", "c"]), 3);
  const lookup: ServiceLookup = (peer) =>
    Promise.resolve({
      ask: (msg: { commands: Array<{ op: string; id: string }> }) => answer(peer, msg.commands),
    } as unknown as Awaited<ReturnType<ServiceLookup>>);
  const ops = new ClusterExecutor(node, lookup, {
    ...settings,
    replicationFactor: 3,
    hints,
    view: { ...base, slots: table },
  });
  return { ops, hints, dir };
}

Deno.test("cluster executor: a replicated write answers replicas_acknowledged, hints a missing owner, and is 503 below the quorum", async () => {
  const okAll = (_node: string, commands: Array<{ id: string }>) =>
    Promise.resolve(commands.map((c) => ({ ok: true, id: c.id, result: "created", version: 1 })));
  const put = [{ op: "put" as const, index: "books", id: "x", doc: { n: 1 } }];
  const down = await replicated(okAll, { a: true, b: true, c: false });
  try {
    const result = (await down.ops.serveWrite(put, 0))[0]!;
    assert.ok(result.ok);
    assert.equal(result.replicas_acknowledged, 2);
    assert.equal("stamp" in result, false, "the stamp stays inside the cluster");
    assert.equal(down.hints.has("c"), true, "c missed the write: a hint waits for it");
    assert.equal(down.hints.has("b"), false);
  } finally {
    await Deno.remove(down.dir, { recursive: true });
  }
  const alone = await replicated(okAll, { a: true, b: false, c: false });
  try {
    const result = (await alone.ops.serveWrite(put, 0))[0]!;
    assert.equal(result.ok, false);
    assert.ok(!result.ok && result.error.name === "QuorumNotReachedError");
    assert.match(!result.ok ? result.error.message : "", /1 of 3 replicas.*may be present/);
  } finally {
    await Deno.remove(alone.dir, { recursive: true });
  }
});

Deno.test("cluster executor: a delete of a document this replica missed reaches the others, and is never hinted unstamped", async () => {
  const sent: Array<{ node: string; op: string; stamped: boolean }> = [];
  const answer = (node: string, commands: Array<{ op: string; id: string; stamp?: string }>) => {
    for (const c of commands) sent.push({ node, op: c.op, stamped: c.stamp !== undefined });
    return Promise.resolve(
      commands.map((c) => ({ ok: true, id: c.id, result: "deleted", version: 3 })),
    );
  };
  const { ops, hints, dir } = await replicated(answer, { a: true, b: true, c: false });
  try {
    const [result] = await ops.serveWrite([{ op: "delete", index: "books", id: "x" }], 0);
    assert.deepEqual(result, {
      ok: true,
      id: "x",
      result: "deleted",
      version: 3,
      replicas_acknowledged: 2,
    });
    assert.deepEqual(sent, [{ node: "b", op: "delete", stamped: false }]);
    assert.equal(hints.has("c"), false, "a plain delete replayed late could beat a newer put");
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("cluster executor: while this replica rebuilds a slot its own copy does not count: a read asks another owner, and repairs this one", async () => {
  const stored = {
    id: "x",
    version: 2,
    doc: { n: 2 },
    stamp: encodeStamp({ ms: 2, counter: 0, tag: "b" }),
  };
  const repaired: unknown[] = [];
  const node = {
    getStamped: () => Promise.resolve({}),
    write: (batch: unknown[]) => {
      repaired.push(...batch);
      return Promise.resolve(batch.map(() => ({ ok: true, id: "x", result: "created" })));
    },
  } as unknown as NodeOrchestrator;
  const asked: string[] = [];
  const lookup: ServiceLookup = (peer) =>
    Promise.resolve({
      ask: (msg: { type: string }) => {
        asked.push(`${peer}:${msg.type}`);
        return Promise.resolve(msg.type === "getStamped" ? { document: stored } : []);
      },
    } as unknown as Awaited<ReturnType<ServiceLookup>>);
  const base = view({ a: true, b: true, c: true });
  const ops = new ClusterExecutor(node, lookup, {
    ...settings,
    replicationFactor: 3,
    readQuorum: 1,
    view: { ...base, slots: SlotTable.fromRing(new HashRing(["a", "b", "c"]), 3) },
    rebuilding: new RebuildingSlots("unknown"),
  });
  const read = await ops.get("books", "x");
  assert.deepEqual(read, { id: "x", version: 2, doc: { n: 2 } });
  assert.equal(asked.filter((call) => call.endsWith(":getStamped")).length, 1);
  assert.equal(repaired.length, 1, "this replica got the newest copy");
  // Another owner's read of this node's copy says it is rebuilding.
  assert.equal((await ops.serveStamped({ index: "books", id: "x" })).rebuilding, true);
});

Deno.test("cluster executor: a search assigns a slot another owner says it is still rebuilding to a replica that is not", async () => {
  const node = stubNode(() => Promise.resolve({ pages: [{ total: 1, hits: [] }], totalShards: 1 }));
  const assignedToB: number[] = [];
  const lookup: ServiceLookup = (peer) =>
    Promise.resolve({
      ask: (msg: { assignment: { nodes: string[]; owners: number[] } }) => {
        const at = msg.assignment.nodes.indexOf(peer);
        const mine = msg.assignment.owners.flatMap((owner, slot) => owner === at ? [slot] : []);
        if (peer === "b") assignedToB.push(mine.length);
        // b rebuilds every slot, and says so in every answer.
        const all = Array.from({ length: 1_024 }, (_, slot) => slot);
        const rebuilding = peer === "b" ? { rebuildingSlots: all } : {};
        return Promise.resolve({ pages: [{ total: 1, hits: [] }], totalShards: 1, ...rebuilding });
      },
    } as unknown as Awaited<ReturnType<ServiceLookup>>);
  const base = view({ a: true, b: true, c: true });
  const ops = new ClusterExecutor(node, lookup, {
    ...settings,
    fanoutLimit: 3,
    replicationFactor: 3,
    view: { ...base, slots: SlotTable.fromRing(new HashRing(["a", "b", "c"]), 3) },
  });
  const gathered = await ops.searchPages("books", { query: "*", limit: 0 });
  assert.equal(gathered.context.failedShards ?? 0, 0);
  assert.ok(assignedToB[0]! > 0, "b was assigned slots at first");
  assert.equal(assignedToB.at(-1), 0, "then none: the phase ran again without b's slots");
  // The next search believes b at once: it is not assigned the slots it rebuilds.
  assignedToB.length = 0;
  await ops.searchPages("books", { query: "*", limit: 0 });
  assert.deepEqual(assignedToB, [0]);
});

Deno.test("cluster executor: a slot found holding documents at start is left out of this node's pages when another node answers it", async () => {
  const plans: unknown[] = [];
  const node = {
    schemaList: () => [{ index: "books", engine: "fts5", fields: [] }],
    slotCounts: () => Promise.resolve(new Map([[5, 3]])),
    shardPages: (query: { plan: unknown }) => {
      plans.push(query.plan);
      return Promise.resolve({ pages: [], totalShards: 1 });
    },
  } as unknown as NodeOrchestrator;
  // Slot 5 is b's by the table; a holds a leftover copy of it (a move that did not finish).
  const table = SlotTable.ownedBy("b");
  const ops = new ClusterExecutor(node, service(() => Promise.reject(new Error("unused"))), {
    ...settings,
    view: { ...view({ a: true, b: true }), slots: table },
  });
  const assignment = { nodes: ["b"], owners: Array.from({ length: 1_024 }, () => 0) };
  const query = { index: "books", plan: { kind: "all" }, limit: 10, sort: [], facets: [] };
  await ops.servePages(query as never, assignment);
  assert.deepEqual(plans.pop(), { kind: "all" }, "nothing known held: nothing left out");
  await ops.noteHeldSlots();
  await ops.servePages(query as never, assignment);
  assert.deepEqual(plans.pop(), {
    kind: "and",
    children: [{ kind: "all" }, {
      kind: "not",
      child: { kind: "or", children: [{ kind: "eq", field: "_slot", value: 5 }] },
    }],
  });
});

Deno.test("cluster executor: a slot only a rebuilding replica can answer is answered, and its shards count as failed", async () => {
  const node = stubNode(
    () => Promise.resolve({ pages: [{ total: 0, hits: [] }], totalShards: 2 }),
    { shardCount: 2 },
  );
  const all = Array.from({ length: 1_024 }, (_, slot) => slot);
  const lookup: ServiceLookup = () =>
    Promise.resolve({
      ask: () =>
        Promise.resolve({ pages: [{ total: 7, hits: [] }], totalShards: 2, rebuildingSlots: all }),
    } as unknown as Awaited<ReturnType<ServiceLookup>>);
  // Every slot on b and c (RF 2); c is down, b rebuilds everything; a owns nothing.
  const ops = new ClusterExecutor(node, lookup, {
    ...settings,
    replicationFactor: 2,
    view: {
      ...view({ a: true, b: true, c: false }),
      slots: SlotTable.fromRing(new HashRing(["b", "c"]), 2),
    },
  });
  const gathered = await ops.searchPages("books", { query: "*", limit: 0 });
  assert.equal(gathered.pages.reduce((sum, page) => sum + page.total, 0), 7, "b's pages are used");
  assert.equal(gathered.context.failedShards, 2, "and b's two shards count as failed");
});

Deno.test("cluster executor: a node given slots it neither serves nor holds says so, and the coordinator counts its shards failed", async () => {
  const node = stubNode(
    () => Promise.resolve({ pages: [{ total: 0, hits: [] }], totalShards: 2 }),
    { shardCount: 2, schemaList: () => [] },
  );
  // This node ("a") holds nothing: every slot is b's by its table.
  const here = new ClusterExecutor(node, service(() => Promise.reject(new Error("unused"))), {
    ...settings,
    view: { ...view({ a: true, b: true }), slots: SlotTable.ownedBy("b") },
  });
  const assignment = { nodes: ["a"], owners: Array.from({ length: 1_024 }, () => 0) };
  const query = { index: "books", plan: { kind: "all" }, limit: 0, sort: [], facets: [] };
  const answer = await here.servePages(query as never, assignment);
  assert.equal(answer.unservedSlots?.length, 1_024);
  // A coordinator whose table is behind gives b's slots to "a": a's answer says it misses them.
  const behind = new ClusterExecutor(node, (peer) =>
    Promise.resolve({
      ask: () =>
        Promise.resolve(
          peer === "a"
            ? { pages: [{ total: 0, hits: [] }], totalShards: 2, unservedSlots: [1, 2] }
            : { pages: [{ total: 3, hits: [] }], totalShards: 2 },
        ),
    } as unknown as Awaited<ReturnType<ServiceLookup>>), {
    ...settings,
    view: {
      ...{ ...view({ a: true, b: true, c: true }), self: "c" },
      slots: SlotTable.fromRing(new HashRing(["a", "b"])),
    },
  });
  const gathered = await behind.searchPages("books", { query: "*", limit: 0 });
  assert.equal(gathered.context.failedShards, 2);
});
