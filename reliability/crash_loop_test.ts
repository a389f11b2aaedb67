import assert from "node:assert/strict";
import { testSeed } from "../testing/random.ts";
import { runCrashLoop } from "./crash_loop.ts";

Deno.test({
  name: "reliability: SIGKILL under concurrent writes and deletes loses no acknowledged change",
  sanitizeResources: false,
  async fn() {
    const report = await runCrashLoop({ cycles: 4, seed: testSeed("crash loop") });
    console.log(JSON.stringify(report));
    assert.deepEqual(report.problems, []);
    assert.ok(report.acknowledged.puts > 0 && report.acknowledged.bulks > 0);
    assert.ok(report.documentsCheckedLastCycle > 0);
  },
});
