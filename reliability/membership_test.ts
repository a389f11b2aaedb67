import assert from "node:assert/strict";
import { runMembership } from "./membership.ts";
import { withMachineLock } from "../testing/machine_lock.ts";

Deno.test({
  name:
    "reliability: slots move under load — a join, updates and deletes, a leave and a removal lose nothing and count each document once",
  sanitizeResources: false,
  sanitizeOps: false,
  // Several server processes, and latencies measured: never beside another such test.
  fn: () =>
    withMachineLock("cluster", async () => {
      const report = await runMembership({ docs: 1_000 });
      assert.deepEqual(report.problems, []);
      assert.ok(report.join.slotsMoved > 0 && report.join.documentsMoved > 0);
      assert.deepEqual(report.join.wrongPerNode, [0, 0, 0]);
      assert.equal(report.join.searchesOver, 0);
      assert.ok(report.join.writesDuringMove > 0, "the writer ran during the join");
      assert.equal(report.updateDelete.total, report.updateDelete.expected);
      assert.equal(report.updateDelete.duplicates, 0);
      assert.deepEqual(report.leave.wrongPerNode, [0, 0]);
      assert.ok(report.removal.slotsLost > 0 && report.removal.slotsLost < 1_024);
      assert.equal(report.removal.writesFailedAfterRemoval, 0);
      assert.ok(report.replacement.slots > 0);
    }),
});
