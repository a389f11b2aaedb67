import assert from "node:assert/strict";
import { cameoQuery } from "./cameodb_system.ts";
import type { CompareQuery } from "./corpus.ts";
import { dictdNumber } from "./gcide.ts";
import { tsQuery } from "./postgres_system.ts";
import { ratio } from "./report.ts";
import { fts5Match } from "./sqlite_system.ts";
import { sphinxMatch } from "./sphinx_system.ts";
import type { CompareResult } from "./compare.ts";

Deno.test("compare: one query means the same in every system's language", () => {
  const cases: Array<[CompareQuery, string, string, string, string]> = [
    [
      { name: "", kind: "term", terms: ["river"] },
      "text:river",
      'text : "river"',
      "river",
      "@text river",
    ],
    [
      { name: "", kind: "or", terms: ["a1", "b2"] },
      "text:a1 OR text:b2",
      'text : ("a1" OR "b2")',
      "a1 | b2",
      "@text (a1 | b2)",
    ],
    [
      { name: "", kind: "phrase", terms: ["north", "sea"] },
      'text:"north sea"',
      'text : "north sea"',
      "north <-> sea",
      '@text "north sea"',
    ],
    [
      { name: "", kind: "prefix", terms: ["riv"] },
      "text:riv*",
      'text : "riv"*',
      "riv:*",
      "@text riv*",
    ],
    [
      { name: "", kind: "range", terms: ["river"], range: { from: 1, to: 9 } },
      "text:river AND size:[1 TO 9]",
      'text : "river"',
      "river",
      "@text river",
    ],
  ];
  for (const [query, cameo, fts5, pg, sphinx] of cases) {
    assert.equal(cameoQuery(query), cameo);
    assert.equal(fts5Match(query), fts5);
    assert.equal(tsQuery(query), pg);
    assert.equal(sphinxMatch(query), sphinx);
  }
});

Deno.test("compare: dictd offsets and ratios", () => {
  assert.equal(dictdNumber("A"), 0);
  assert.equal(dictdNumber("BA"), 64);
  assert.equal(dictdNumber("5I"), 57 * 64 + 8);
  assert.equal(ratio(200, 100, true), "2.0× better");
  assert.equal(ratio(100, 200, true), "2.0× worse");
  assert.equal(ratio(3, 1, false), "3.0× worse");
});

Deno.test({
  name: "compare: the --quick comparison runs every system end to end",
  ignore: Deno.uid() !== 0,
  async fn() {
    // Installing dict-gcide, postgresql, redis-server and sphinxsearch with apt and running
    // PostgreSQL as its own user need root; without it this test is ignored (CI runs as root).
    const output = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--v8-flags=--expose-gc",
        new URL("./compare.ts", import.meta.url).pathname,
        "--quick",
      ],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stderr = new TextDecoder().decode(output.stderr);
    assert.ok(output.success, stderr);
    const result = JSON.parse(new TextDecoder().decode(output.stdout)) as CompareResult;
    assert.deepEqual(result.systems.map((s) => s.name), [
      "CameoDB (fts5)",
      "CameoDB (orama)",
      "Orama (raw, in process)",
      "SQLite FTS5 (in process)",
      "PostgreSQL 15 (tsvector + GIN)",
      "Lucene 8.7 (library)",
      "Xapian 1.4 (library)",
      "Redis 7 (AOF always)",
      "Redis 7 (AOF everysec)",
      "Sphinx 2.2 (RT index)",
    ]);
    for (const system of result.systems) {
      const redis = system.name.startsWith("Redis");
      const sphinx = system.name.startsWith("Sphinx");
      assert.ok(system.documents > 4_000, `${system.name} stored ${system.documents}`);
      assert.ok((system.ingest["bulk 5000"] ?? 0) > 0);
      assert.equal(system.queries.length, redis ? 0 : 7);
      for (const query of system.queries) assert.ok(query.byConcurrency["c=32"]!.qps > 0);
      assert.equal(system.pointRead === null, sphinx, `${system.name} point reads`);
      assert.equal(system.c64.pointRead === null, sphinx);
      assert.equal(system.c64.midTerm === null, redis);
      assert.ok(system.mixed.overall.qps > 0 && system.mixed.worst.p99 > 0, system.name);
      const inMemory = system.name.startsWith("Orama");
      assert.equal(system.diskPer100kMb === null, inMemory, `${system.name} disk`);
      if (!inMemory) assert.ok(system.diskPer100kMb!.allocated > 0, `${system.name} disk`);
    }
    for (const i of [0, 4, 7, 8, 9]) {
      const system = result.systems[i]!;
      assert.equal(typeof system.recoveryMs, "number", `${system.name} was killed and came back`);
    }
  },
});
