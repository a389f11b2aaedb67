import assert from "node:assert/strict";
import { runSustainedLoad } from "./sustained_load.ts";

Deno.test({
  name: "reliability: mixed reads and writes at concurrency 32 run without a single error",
  sanitizeResources: false,
  async fn() {
    const report = await runSustainedLoad({
      seconds: 12,
      clients: 32,
      ids: 5_000,
      intervalSeconds: 4,
    });
    console.log(JSON.stringify(report.intervals));
    assert.deepEqual(report.sampleErrors, []);
    assert.equal(report.totalErrors, 0);
    assert.equal(report.intervals.length, 3);
    assert.ok(report.totalOperations > 100, `${report.totalOperations} operations in 12 s`);
  },
});
