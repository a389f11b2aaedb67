import assert from "node:assert/strict";
import { testSeed } from "../testing/random.ts";
import { runBadInput } from "./bad_input.ts";

Deno.test({
  name: "reliability: every bad input gets its 4xx, the server stays up, the data is unchanged",
  sanitizeResources: false,
  async fn() {
    const report = await runBadInput({ queries: 1_000, seed: testSeed("bad input") });
    assert.deepEqual(report.problems, []);
    assert.ok(report.cases.length >= 40);
    assert.equal(report.randomQueries.sent, 1_000);
    assert.equal(report.randomQueries.byStatus["500"], undefined);
  },
});
