import assert from "node:assert/strict";
import { type CpuProfile, shortUrl, summarize } from "./summarize.ts";

const ROOT = new URL("../../", import.meta.url).href;

Deno.test("summarize: self time is summed by function and by file, idle left out", () => {
  const frame = (functionName: string, url: string, lineNumber = 0) => ({
    functionName,
    url,
    lineNumber,
  });
  const profile: CpuProfile = {
    nodes: [
      { id: 1, callFrame: frame("(root)", ""), children: [2, 4, 7] },
      { id: 2, callFrame: frame("tokenize", `${ROOT}storage/tokenizer.ts`, 21), children: [3] },
      { id: 3, callFrame: frame("normalize", `${ROOT}storage/tokenizer.ts`, 16) },
      { id: 4, callFrame: frame("(idle)", "") },
      { id: 5, callFrame: frame("run", "") },
      { id: 7, callFrame: frame("apply", `${ROOT}storage/fts5_index.ts`, 9), children: [5, 6] },
      // The same function reached by another path: a second node, one entry.
      { id: 6, callFrame: frame("tokenize", `${ROOT}storage/tokenizer.ts`, 21) },
    ],
    startTime: 0,
    endTime: 10_000,
    samples: [2, 3, 4, 5, 6, 2],
    timeDeltas: [1_000, 2_000, 4_000, 500, 1_000, 1_500],
  };
  const summary = summarize("x.cpuprofile", profile);
  assert.equal(summary.wallMs, 10);
  assert.equal(summary.busyMs, 6);
  assert.deepEqual(summary.functions.map((f) => [f.name, f.ms]), [
    ["tokenize storage/tokenizer.ts:22", 4],
    ["normalize storage/tokenizer.ts:17", 2],
    ["run (native)", 1],
  ]);
  assert.deepEqual(summary.files.map((f) => [f.name, f.ms]), [
    ["storage/tokenizer.ts", 6],
    ["(native)", 1],
  ]);
  assert.equal(summary.functions[0]!.percent, 35);
  // Before the idle sample: tokenize (1 ms), then normalize called by it (2 ms) — 3 ms, and
  // normalize is the deepest frame on the stack for half of it; after the idle sample 3 ms
  // again: the first longest stretch stays.
  assert.deepEqual(summary.longestBusy, { ms: 3, within: "normalize storage/tokenizer.ts:17" });
  // tokenize: 2.5 ms under (root), 1 ms under apply.
  assert.equal(summary.functions[0]!.caller, "(root)");
  assert.equal(summary.functions[2]!.caller, "apply storage/fts5_index.ts:10");
});

Deno.test("summarize: urls are shortened to the repository path or the npm package", () => {
  assert.equal(shortUrl(`${ROOT}node/shard.ts`), "node/shard.ts");
  assert.equal(
    shortUrl("file:///root/.cache/deno/npm/registry.npmjs.org/@orama/orama/3.1.18/dist/x.js"),
    "npm:@orama/orama/dist/x.js",
  );
  assert.equal(shortUrl(""), "(native)");
  assert.equal(shortUrl("ext:core/01_core.js"), "ext:core/01_core.js");
});
