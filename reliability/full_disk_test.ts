import assert from "node:assert/strict";
import { runFullDisk } from "./full_disk.ts";

Deno.test({
  name:
    "reliability: a full disk refuses writes with 507, keeps every acknowledged document, recovers",
  sanitizeResources: false,
  async fn() {
    const report = await runFullDisk({ tmpfsMb: 32, ballastMb: 8 });
    if (report.skipped !== undefined) {
      console.log(`skipped: ${report.skipped}`);
      return;
    }
    console.log(JSON.stringify(report));
    assert.deepEqual(report.problems, []);
    assert.ok(report.acknowledgedBeforeFull > 0);
    assert.ok(report.refusedStatuses.every((status) => status === 507 || status === 503));
    assert.ok(report.firstRefusal !== undefined, "no single write was refused on a full disk");
    assert.ok([507, 503].includes(report.firstRefusal.status));
    assert.match(report.firstRefusal.details, /disk is full|No space/i);
    assert.ok(report.healthyWhenFull, "health did not answer while the disk was full");
    assert.ok(report.acknowledgedAfterFreeing > report.acknowledgedBeforeFull);
    assert.equal(report.verifiedAfterRestart, report.acknowledgedAfterFreeing);
  },
});
