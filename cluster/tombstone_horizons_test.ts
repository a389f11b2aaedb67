import assert from "node:assert/strict";
import { ActorSystem } from "../actors/system.ts";
import { NodeOrchestrator } from "../node/orchestrator.ts";
import { AntiEntropy } from "./anti_entropy.ts";
import type { EntropyDiffMsg, EntropyDigestMsg } from "./anti_entropy_schema.ts";
import { HashRing } from "./ring.ts";
import { SlotTable } from "./slot_table.ts";
import { TombstoneHorizons } from "./tombstone_horizons.ts";
import type { ClusterView } from "./view.ts";
import type { WriteCommand } from "../node/write_command.ts";
import { slotOf } from "../storage/slot.ts";

/** Slot 0 owned by `owners`, every other slot by `rest`. */
function tableOf(owners: readonly string[], rest: readonly string[]): SlotTable {
  const wire = Array.from({ length: 1_024 }, (_, slot) => [
    slot === 0 ? [...owners] : [...rest],
    "",
    1,
    "a",
  ]);
  return SlotTable.fromWire(wire);
}

function horizonsAt(clock: { ms: number }, sent: Array<Map<number, number>> = []) {
  return new TombstoneHorizons({
    send: (horizons) => {
      sent.push(new Map(horizons));
      return Promise.resolve(0);
    },
    sendIntervalMs: 1_000,
    nowMs: () => clock.ms,
  });
}

Deno.test("tombstone horizons: a recorded round is a slot's horizon while its owners stay; a slot owned here alone has now; others none", () => {
  const clock = { ms: 50_000 };
  const horizons = horizonsAt(clock);
  const view = { self: "a", slots: tableOf(["a", "b", "c"], ["b", "c"]) };
  assert.deepEqual(horizons.horizons(view), new Map(), "no round recorded: no horizon");
  horizons.record(0, 10_000, ["a", "b", "c"]);
  assert.deepEqual(horizons.horizons(view), new Map([[0, 10_000]]));
  // Never back: an older round (overtaken) does not lower it.
  horizons.record(0, 9_000, ["a", "b", "c"]);
  assert.deepEqual(horizons.horizons(view), new Map([[0, 10_000]]));
  horizons.record(0, 12_000, ["a", "b", "c"]);
  assert.deepEqual(horizons.horizons(view), new Map([[0, 12_000]]));
  // The owners changed since (a replica added): the horizon no longer holds.
  const grown = { self: "a", slots: tableOf(["a", "b", "c", "d"], ["b", "c"]) };
  assert.deepEqual(horizons.horizons(grown), new Map());
  // Slots this node owns alone: every replica is here, every tombstone may go.
  const alone = horizons.horizons({ self: "a", slots: tableOf(["b"], ["a"]) });
  assert.equal(alone.size, 1_023);
  assert.equal(alone.get(0), undefined);
  assert.equal(alone.get(1), 50_000);
  assert.deepEqual(horizons.horizons({ self: "a" }), new Map(), "no slot table: none");
});

Deno.test("tombstone horizons: sweepEnded() sends at most every sendIntervalMs, never while joining, and survives a failed send", async () => {
  const clock = { ms: 100_000 };
  const sent: Array<Map<number, number>> = [];
  const horizons = horizonsAt(clock, sent);
  const view = { self: "a", slots: tableOf(["a", "b"], ["b"]) };
  horizons.record(0, 90_000, ["a", "b"]);
  await horizons.sweepEnded({ ...view, joining: true });
  assert.equal(sent.length, 0);
  await horizons.sweepEnded(view);
  assert.deepEqual(sent, [new Map([[0, 90_000]])]);
  clock.ms += 999;
  await horizons.sweepEnded(view);
  assert.equal(sent.length, 1, "within the interval: not sent again");
  clock.ms += 1;
  horizons.record(0, 99_000, ["a", "b"]);
  await horizons.sweepEnded(view);
  assert.deepEqual(sent[1], new Map([[0, 99_000]]));

  const warnings: string[] = [];
  const failing = new TombstoneHorizons({
    send: () => Promise.reject(new Error("shard gone")),
    sendIntervalMs: 0,
    log: { warn: (message) => warnings.push(message) },
  });
  await failing.sweepEnded(view);
  assert.deepEqual(warnings, ["cannot send the tombstone horizons: shard gone"]);
});

type Msg = EntropyDigestMsg | EntropyDiffMsg | { type: "copy"; commands: readonly WriteCommand[] };

function viewOf(self: string, connected: ReadonlySet<string>, slots: SlotTable): ClusterView {
  const nodes = ["a", "b", "c"];
  const members = new Map(nodes.map((node) => [node, {
    info: {
      nodeId: node,
      name: node,
      clusterName: "",
      peerId: "",
      addrs: [],
      http: "",
      shardCount: 1,
    },
    connected: node === self || connected.has(node),
  }]));
  return { self, members, ring: new HashRing(nodes), slots };
}

Deno.test("anti-entropy: onRepaired() gives a slot's round start only when the round completed with every other owner, not only the live ones; an owner that did not take a copy leaves the slot incomplete", async () => {
  const dirs = [await Deno.makeTempDir(), await Deno.makeTempDir()];
  const systems = [new ActorSystem({ node: "a" }), new ActorSystem({ node: "b" })];
  try {
    const a = await NodeOrchestrator.start(systems[0]!, { dataDir: dirs[0]!, numShards: 1 });
    const b = await NodeOrchestrator.start(systems[1]!, { dataDir: dirs[1]!, numShards: 1 });
    await a.write([{ op: "put", index: "books", id: "x", doc: { n: 1 } }]);
    await a.write([{ op: "delete", index: "books", id: "x" }]);
    await b.write([{ op: "put", index: "books", id: "y", doc: { n: 1 } }]);
    // Three owners of every slot; "c" answers as b does (its copy is b's) when connected.
    const slots = SlotTable.fromRing(new HashRing(["a", "b", "c"]), 3);
    const connected = new Set(["b"]);
    const failing = new Set<string>();
    /** Owners whose shard fails every copy (a full disk): their answers are not ok. */
    const refusing = new Set<string>();
    const repaired: Array<{ slot: number; startedAtMs: number; owners: readonly string[] }> = [];
    const aeB: AntiEntropy = new AntiEntropy({
      node: b,
      view: () => viewOf("b", new Set(["a", "c"]), slots),
      ask: () => Promise.reject(new Error("b does not ask")),
      moving: () => false,
      intervalMs: 0,
    });
    const aeA = new AntiEntropy({
      node: a,
      view: () => viewOf("a", connected, slots),
      ask: (to, msg) => {
        if (failing.has(to)) return Promise.reject(new Error(`${to} is gone`));
        const m = msg as Msg;
        if (m.type === "entropyDigest") return aeB.serveDigest(m);
        if (m.type === "entropyDiff") return aeB.serveDiff(m);
        if (refusing.has(to)) {
          return Promise.resolve(m.commands.map(({ id }) => ({
            ok: false,
            id,
            error: { name: "StorageError", message: "disk full" },
          })));
        }
        return b.write(m.commands);
      },
      moving: () => false,
      intervalMs: 0,
      onRepaired: (slot, startedAtMs, owners) => repaired.push({ slot, startedAtMs, owners }),
    });
    // c is down: the round compares with b only, and sets no horizon.
    assert.equal(await aeA.runRound(), 0);
    assert.equal(repaired.length, 0);
    // c is back: a complete round with b and c gives the time it started.
    connected.add("c");
    const before = Date.now();
    assert.equal(await aeA.runRound(), 1);
    const after = Date.now();
    assert.equal(repaired.length, 1);
    assert.equal(repaired[0]!.slot, 1);
    assert.deepEqual([...repaired[0]!.owners].sort(), ["a", "b", "c"]);
    assert.ok(repaired[0]!.startedAtMs >= before && repaired[0]!.startedAtMs <= after);
    // A comparison that fails (c does not answer): no horizon.
    failing.add("c");
    assert.equal(await aeA.runRound(), 2);
    assert.equal(repaired.length, 1);
    assert.equal(aeA.counters.anti_entropy_failures, 1);
    // An owner that answers but does not take a's tombstone of "x": the slot is not complete.
    failing.delete("c");
    refusing.add("b");
    assert.equal(await aeA.compareSlot(slotOf("x"), ["b", "c"]), false);
    refusing.delete("b");
    assert.equal(await aeA.compareSlot(slotOf("x"), ["b", "c"]), true);
    assert.equal((await b.getStamped("books", "x")).tombstone !== undefined, true);
  } finally {
    for (const system of systems) await system.shutdown();
    for (const dir of dirs) await Deno.remove(dir, { recursive: true });
  }
});
