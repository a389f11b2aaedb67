import assert from "node:assert/strict";
import { figures, percentile } from "./metrics.ts";
import { splitFirstSense, spread } from "./tasks.ts";

Deno.test("relevance metrics: MRR@10 and recall count the right answer's rank", () => {
  const run = {
    rankings: [["a", "b"], ["x", "b"], ["x", "y"], [..."0123456789", "d"]],
    latenciesMs: [1, 2, 3, 4],
  };
  const result = figures(run, ["a", "b", "c", "d"]);
  assert.equal(result.mrr10, (1 + 0.5) / 4);
  assert.equal(result.recall1, 1 / 4);
  assert.equal(result.recall10, 2 / 4);
  assert.equal(result.p50Ms, 2);
  assert.equal(result.p99Ms, 4);
  assert.equal(percentile([5, 1, 3], 50), 3);
});

Deno.test("relevance tasks: a dictionary entry's first sense is taken out of its text", () => {
  assert.deepEqual(splitFirstSense("Run \\Run\\ v. 1. to move fast. 2. to flee. [1913 Webster]"), {
    sense: "to move fast.",
    rest: "Run \\Run\\ v. 2. to flee. [1913 Webster]",
  });
  assert.equal(splitFirstSense("Run \\Run\\ v. 1. to move fast."), undefined);
  assert.deepEqual(spread([1, 2, 3, 4, 5, 6], 3), [1, 3, 5]);
});
