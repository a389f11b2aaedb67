import assert from "node:assert/strict";
import { mixCycle, mixedLoad } from "./mixed_load.ts";
import type { CompareQuery, CorpusDoc } from "./corpus.ts";
import type { System } from "./system.ts";

const doc = (id: string): CorpusDoc => ({
  id,
  doc: { title: id, text: "river", size: 1, kind: "entry" },
});

/** A system whose every call takes one macrotask, counting what it was asked. */
function countingSystem(parts: { get: boolean; search: boolean }) {
  const counts = { read: 0, search: 0, write: 0 };
  const tick = () => new Promise<void>((resolve) => setTimeout(resolve, 0));
  const system: System = {
    name: "counting",
    how: "",
    start: () => Promise.resolve(),
    put: async () => {
      counts.write++;
      await tick();
    },
    bulk: () => Promise.resolve(),
    rssBytes: () => Promise.resolve(0),
    stop: () => Promise.resolve(),
    ...(parts.get
      ? {
        get: async () => {
          counts.read++;
          await tick();
          return true;
        },
      }
      : {}),
    ...(parts.search
      ? {
        search: async () => {
          counts.search++;
          await tick();
          return [];
        },
      }
      : {}),
  };
  return { system, counts };
}

Deno.test("mixed load: the cycle holds what the system can do", () => {
  const count = (ops: string[], op: string) => ops.filter((o) => o === op).length;
  const both = mixCycle(countingSystem({ get: true, search: true }).system);
  assert.deepEqual([count(both, "read"), count(both, "search"), count(both, "write")], [8, 1, 1]);
  const reads = mixCycle(countingSystem({ get: true, search: false }).system);
  assert.deepEqual([count(reads, "read"), count(reads, "search")], [9, 0]);
  const searches = mixCycle(countingSystem({ get: false, search: true }).system);
  assert.deepEqual([count(searches, "read"), count(searches, "search")], [0, 9]);
});

Deno.test("mixed load: runs its time, cut into windows, worst window reported", async () => {
  const { system, counts } = countingSystem({ get: true, search: true });
  const query: CompareQuery = { name: "mid term", kind: "term", terms: ["river"] };
  const figures = await mixedLoad(system, [doc("a"), doc("b")], query, {
    durationMs: 300,
    windowMs: 100,
    lanes: 4,
  });
  assert.equal(figures.windows, 3);
  assert.ok(figures.seconds >= 0.3, `ran ${figures.seconds} s`);
  const total = counts.read + counts.search + counts.write;
  assert.ok(total > 10, `only ${total} operations`);
  // Eight reads for each search and each write, give or take the cycle's last turn.
  assert.ok(Math.abs(counts.read - 8 * counts.write) <= 8, JSON.stringify(counts));
  assert.ok(figures.worst.p99 > 0 && figures.minQps > 0);
  assert.equal(figures.mix, "8 × point read : 1 × mid-term search : 1 × write");
});
