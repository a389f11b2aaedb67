import assert from "node:assert/strict";
import { ActorSystem } from "../actors/system.ts";
import { NodeOrchestrator } from "../node/orchestrator.ts";
import type { WriteCommand } from "../node/write_command.ts";
import { slotOf } from "../storage/slot.ts";
import { AntiEntropy } from "./anti_entropy.ts";
import type { EntropyDiffMsg, EntropyDigestMsg } from "./anti_entropy_schema.ts";
import { HashRing } from "./ring.ts";
import { readSlotEntries } from "./slot_entries.ts";
import { slotDigest } from "./slot_digest.ts";
import { SlotTable } from "./slot_table.ts";
import type { ClusterView } from "./view.ts";

type Msg = EntropyDigestMsg | EntropyDiffMsg | { type: "copy"; commands: readonly WriteCommand[] };

function viewOf(self: string, nodes: readonly string[], slots: SlotTable): ClusterView {
  const members = new Map(nodes.map((node) => [node, {
    info: {
      nodeId: node,
      name: node,
      clusterName: "",
      peerId: "",
      addrs: [],
      http: "",
      shardCount: 2,
    },
    connected: true,
  }]));
  return { self, members, ring: new HashRing([...nodes]), slots };
}

/** Two real orchestrators (temp dirs, 2 shards each) owning every slot together. */
async function withPair(
  fn: (pair: {
    a: NodeOrchestrator;
    b: NodeOrchestrator;
    aeA: AntiEntropy;
    aeB: AntiEntropy;
    /** Replaces what b answers a (a faulty or hostile peer). */
    answerA: { override?: (msg: Msg) => unknown };
    moving: Set<number>;
  }) => Promise<void>,
) {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const systems = [new ActorSystem({ node: "a" }), new ActorSystem({ node: "b" })];
  try {
    const a = await NodeOrchestrator.start(systems[0]!, { dataDir: dirs[0]!, numShards: 2 });
    const b = await NodeOrchestrator.start(systems[1]!, { dataDir: dirs[1]!, numShards: 2 });
    const slots = SlotTable.fromRing(new HashRing(["a", "b"]), 2);
    const moving = new Set<number>();
    const answerA: { override?: (msg: Msg) => unknown } = {};
    const serve = (ae: () => AntiEntropy, node: NodeOrchestrator) => (msg: Msg) => {
      if (msg.type === "entropyDigest") return ae().serveDigest(msg);
      if (msg.type === "entropyDiff") return ae().serveDiff(msg);
      return node.write(msg.commands);
    };
    const aeA: AntiEntropy = new AntiEntropy({
      node: a,
      view: () => viewOf("a", ["a", "b"], slots),
      ask: (_to, msg) =>
        Promise.resolve(answerA.override?.(msg) ?? serve(() => aeB, b)(msg as Msg)),
      moving: (slot) => moving.has(slot),
      intervalMs: 0,
    });
    const aeB: AntiEntropy = new AntiEntropy({
      node: b,
      view: () => viewOf("b", ["a", "b"], slots),
      ask: (_to, msg) => Promise.resolve(serve(() => aeA, a)(msg as Msg)),
      moving: (slot) => moving.has(slot),
      intervalMs: 0,
    });
    await fn({ a, b, aeA, aeB, answerA, moving });
  } finally {
    for (const system of systems) await system.shutdown();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
}

async function digestsOf(node: NodeOrchestrator, index: string, slots: Iterable<number>) {
  const out = new Map<number, string[]>();
  for (const slot of slots) out.set(slot, slotDigest(await readSlotEntries(node, index, slot)));
  return out;
}

Deno.test("anti-entropy: one round per slot makes two replicas hold the same documents and tombstones, both ways", async () => {
  await withPair(async ({ a, b, aeA }) => {
    const puts = (ids: string[], tag: string): WriteCommand[] =>
      ids.map((id) => ({ op: "put", index: "books", id, doc: { key: id, tag } }));
    const ids = Array.from({ length: 300 }, (_, i) => `d${i}`);
    assert.ok((await a.write(puts(ids, "a"))).every((r) => r.ok));
    // b knows the index and holds older copies of some, newer writes of others, and its own.
    assert.ok((await b.write(puts(ids.slice(0, 40), "old"))).every((r) => r.ok));
    assert.ok((await a.write(puts(ids.slice(0, 40), "a2"))).every((r) => r.ok));
    assert.ok((await b.write(puts(ids.slice(40, 60), "b-newer"))).every((r) => r.ok));
    assert.ok((await b.write(puts(["only-b"], "b"))).every((r) => r.ok));
    const deletes = ids.slice(100, 130).map((id): WriteCommand => ({
      op: "delete",
      index: "books",
      id,
    }));
    assert.ok((await a.write(deletes)).every((r) => r.ok));
    assert.ok((await b.write([{ op: "delete", index: "books", id: "d0" }])).every((r) => r.ok));

    const touched = new Set([...ids, "only-b"].map(slotOf));
    const before = [await digestsOf(a, "books", touched), await digestsOf(b, "books", touched)];
    assert.notDeepEqual(before[0], before[1]);
    for (const slot of touched) await aeA.compareSlot(slot, ["b"]);

    assert.deepEqual(await digestsOf(a, "books", touched), await digestsOf(b, "books", touched));
    for (const node of [a, b]) {
      assert.equal((await node.get("books", "d1"))?.doc.tag, "a2");
      assert.equal((await node.get("books", "d45"))?.doc.tag, "b-newer");
      assert.equal((await node.get("books", "d200"))?.doc.tag, "a");
      assert.equal((await node.get("books", "only-b"))?.doc.tag, "b");
      assert.equal(await node.get("books", "d0"), null);
      assert.equal(await node.get("books", "d110"), null);
    }
    // b holds the tombstones it never saw deleted (a put copied late cannot resurrect them).
    const graves = await readSlotEntries(b, "books", slotOf("d110"));
    assert.equal(graves.find((e) => e.id === "d110")?.deleted, true);
    const counters = aeA.counters;
    assert.ok(counters.anti_entropy_entries_pulled > 0 && counters.anti_entropy_entries_pushed > 0);
    assert.equal(
      counters.anti_entropy_entries_repaired,
      counters.anti_entropy_entries_pulled + counters.anti_entropy_entries_pushed,
    );
    // Converged: another pass repairs nothing.
    const repaired = counters.anti_entropy_entries_repaired;
    for (const slot of touched) await aeA.compareSlot(slot, ["b"]);
    assert.equal(aeA.counters.anti_entropy_entries_repaired, repaired);
  });
});

Deno.test("anti-entropy: rounds go round-robin over owned slots, a moving slot is neither compared nor answered", async () => {
  await withPair(async ({ a, b, aeA, aeB, moving }) => {
    const id = "moving-doc";
    await a.write([{ op: "put", index: "books", id, doc: { n: 1 } }]);
    await b.write([{ op: "put", index: "books", id: "x", doc: { n: 0 } }]);
    const slot = slotOf(id);
    moving.add(slot);
    assert.deepEqual(await aeB.serveDigest({ type: "entropyDigest", index: "books", slot }), {
      refused: `slot ${slot} is moving here`,
    });
    const visited = new Set<number>();
    for (let k = 0; k < 1_023; k++) visited.add((await aeA.runRound())!);
    assert.equal(visited.size, 1_023);
    assert.ok(!visited.has(slot), "the moving slot is skipped");
    assert.equal(aeA.counters.anti_entropy_sweeps, 1);
    assert.equal(aeA.counters.anti_entropy_rounds, 1_023);
    // The moving slot was not compared: a did not copy it to b.
    assert.equal(await b.get("books", id), null);
    assert.equal((await a.get("books", "x"))?.doc.n, 0);
    moving.delete(slot);
    await aeA.compareSlot(slot, ["b"]);
    assert.equal((await b.get("books", id))?.doc.n, 1);
  });
});

Deno.test("anti-entropy: malformed requests and answers from a peer are refused and counted, nothing is written", async () => {
  await withPair(async ({ a, b, aeA, aeB, answerA }) => {
    await b.write([{ op: "put", index: "books", id: "keep", doc: { n: 1 } }]);
    await a.write([{ op: "put", index: "books", id: "other", doc: { n: 2 } }]);
    const slot = slotOf("keep");
    const bad: unknown[] = [
      null,
      { type: "entropyDiff", index: "books", slot: 5000, buckets: [0], entries: [] },
      { type: "entropyDiff", index: "Bad Name", slot, buckets: [0], entries: [] },
      { type: "entropyDiff", index: "books", slot, buckets: [], entries: [] },
      { type: "entropyDiff", index: "books", slot, buckets: [99], entries: [] },
      { type: "entropyDiff", index: "books", slot, buckets: [0], entries: [["x", "nope", 0]] },
      {
        type: "entropyDiff",
        index: "books",
        slot,
        buckets: [0],
        entries: Array.from({ length: 5_001 }, (_, i) => [`i${i}`, "000000000001-000000-a", 0]),
      },
    ];
    for (const msg of bad) {
      const answer = await aeB.serveDiff(msg);
      assert.ok("refused" in answer, JSON.stringify(answer));
    }
    assert.equal(aeB.counters.anti_entropy_refused, bad.length);
    assert.ok("refused" in await aeB.serveDigest({ index: "books", slot: -1 }));

    // b answers a with copies outside the slot, bad stamps, or a short digest: a refuses each.
    const answers: Array<(msg: Msg) => unknown> = [
      () => ({ digest: ["0"] }),
      () => ({ digest: "nonsense" }),
      (msg) =>
        msg.type === "entropyDigest" ? { digest: Array(64).fill("1-" + "0".repeat(32)) } : {
          newer: [{
            op: "put",
            index: "books",
            id: "elsewhere-1",
            doc: {},
            stamp: "x",
            version: 1,
          }],
          wanted: [],
          more: false,
        },
      (msg) =>
        msg.type === "entropyDigest" ? { digest: Array(64).fill("1-" + "0".repeat(32)) } : {
          newer: [],
          wanted: ["never-offered"],
          more: false,
        },
    ];
    for (const answer of answers) {
      answerA.override = answer;
      await aeA.compareSlot(slot, ["b"]);
    }
    assert.equal(aeA.counters.anti_entropy_refused, answers.length);
    assert.equal(aeA.counters.anti_entropy_entries_repaired, 0);
    assert.equal(await a.get("books", "elsewhere-1"), null);
    assert.equal(await a.get("books", "keep"), null);
  });
});
