import assert from "node:assert/strict";
import { runJepsen, summaryLine } from "./run.ts";
import { withMachineLock } from "../../testing/machine_lock.ts";
import { testSeed } from "../../testing/random.ts";

Deno.test({
  name:
    "reliability: with replication_factor 3 and read_quorum 2, kills and pauses of one node at a time lose, resurrect, stale and duplicate nothing, and reads and writes stay ≥ 99.9 % available during them",
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
        // An unacknowledged write left on one replica makes searches through different nodes
        // count differently until anti-entropy reaches its slot: one pass over the 1,024 slots
        // at the default 100 ms a round takes ~103 s.
        convergeTimeoutMs: 150_000,
      });
      console.log(summaryLine(report));
      console.log(
        JSON.stringify({ byKind: report.nemesis.byKind, examples: report.check.examples }),
      );
      const c = report.check;
      assert.ok(report.nemesis.faults >= 2, `only ${report.nemesis.faults} faults ran`);
      assert.ok(c.model.mustExist > 0, "no id must exist: the run checked nothing");
      const counts = {
        lost: c.lost,
        resurrected: c.resurrected,
        stale: c.stale,
        duplicated: c.duplicated,
      };
      assert.deepEqual(
        counts,
        { lost: 0, resurrected: 0, stale: 0, duplicated: 0 },
        JSON.stringify(c.examples),
      );
      // Not asserted yet: `disagreed`/`mismatched` can follow a write whose coordinating
      // replica died mid-copy (it stays on fewer replicas until read repair or anti-entropy
      // reaches it; the final read may come first).
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
