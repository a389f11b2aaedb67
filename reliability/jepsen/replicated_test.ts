import assert from "node:assert/strict";
import { runJepsen, summaryLine } from "./run.ts";
import { withMachineLock } from "../../testing/machine_lock.ts";
import { testSeed } from "../../testing/random.ts";

Deno.test({
  name:
    "reliability: with replication_factor 3 and read_quorum 2, kills, pauses and wiped disks of one node at a time lose, resurrect, stale, duplicate and mismatch nothing, nodes agree, and reads and writes stay ≥ 99.9 % available during them",
  sanitizeResources: false,
  sanitizeOps: false,
  // Several server processes: never beside another such test.
  fn: () =>
    withMachineLock("cluster", async () => {
      const report = await runJepsen({
        seed: testSeed("jepsen-rf3"),
        nodes: 3,
        replicationFactor: 3,
        // R + W > RF (2 + 2 > 3): every read overlaps every acknowledged write's replicas.
        readQuorum: 2,
        clients: 4,
        durationMs: 20_000,
        faults: ["kill", "pause", "wipe"],
        // A wiped node is a fault until it has rebuilt its slots (health yellow until then).
        greenTimeoutMs: 150_000,
        log: (line) => console.log(line),
        quietMs: [1_000, 2_000],
        holdMs: [1_500, 3_000],
        // An unacknowledged write left on one replica makes searches and reads through
        // different nodes differ until anti-entropy reaches its slot: convergence waits for one
        // whole sweep after the last heal (1,024 rounds, 5 ms apart here).
        antiEntropyIntervalMs: 5,
        awaitSweep: true,
        convergeTimeoutMs: 240_000,
      });
      console.log(summaryLine(report));
      console.log(
        JSON.stringify({ byKind: report.nemesis.byKind, examples: report.check.examples }),
      );
      const c = report.check;
      // A wipe holds the nemesis until the node has rebuilt: one fault may fill the run.
      assert.ok(report.nemesis.faults >= 1, "no fault ran");
      assert.ok(c.model.mustExist > 0, "no id must exist: the run checked nothing");
      const counts = {
        lost: c.lost,
        resurrected: c.resurrected,
        stale: c.stale,
        duplicated: c.duplicated,
        mismatched: c.mismatched,
        disagreed: c.disagreed,
        unreadable: c.unreadable,
      };
      assert.deepEqual(
        counts,
        {
          lost: 0,
          resurrected: 0,
          stale: 0,
          duplicated: 0,
          mismatched: 0,
          disagreed: 0,
          unreadable: 0,
        },
        JSON.stringify(c.examples),
      );
      const during = c.availability.duringFaults;
      assert.ok(
        (during.reads.percent ?? 0) >= 99.9,
        `reads during faults: ${during.reads.percent} %`,
      );
      assert.ok(
        (during.writes.percent ?? 0) >= 99.9,
        `writes during faults: ${during.writes.percent} %`,
      );
      assert.notEqual(report.convergedMs, null, "the nodes never agreed on the total");
    }),
});
