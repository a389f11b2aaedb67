import assert from "node:assert/strict";
import { Fts5Index, IndexCorruptError } from "./fts5_index.ts";
import { EMPTY_SCHEMA, flatten, planSchema } from "./schema.ts";
import type { IndexOp, Plan } from "./search_index.ts";
import { DatabaseSync } from "node:sqlite";
import { runSearchIndexConformance } from "./search_index_conformance.ts";

runSearchIndexConformance("fts5", () => {
  const dir = Deno.makeTempDirSync();
  const path = `${dir}/books.fts5.sqlite`;
  return {
    create: (schema) => Fts5Index.open({ path, schema }),
    reopen: (schema) => Fts5Index.open({ path, schema }),
    cleanup: () => Deno.removeSync(dir, { recursive: true }),
  };
}, { durable: true });

Deno.test("fts5 engine: a file that is not an index is reported as corrupt", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/books.fts5.sqlite`;
    Deno.writeTextFileSync(path, "this is not a database ".repeat(100));
    assert.throws(() => Fts5Index.open({ path, schema: EMPTY_SCHEMA }), IndexCorruptError);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("fts5 engine: destroy removes its files", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const index = Fts5Index.open({ path: `${dir}/x.fts5.sqlite`, schema: EMPTY_SCHEMA });
    index.destroy();
    assert.deepEqual([...Deno.readDirSync(dir)], []);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("fts5 engine: one apply of many operations leaves the same statistics and scores as one apply each", () => {
  const docs = [
    { id: "a", doc: { title: "rust rust book", body: "systems language" } },
    { id: "b", doc: { title: "go book", body: "language of servers servers" } },
    { id: "a", doc: { title: "rust in action", body: "a systems book" } }, // replaces a
    { id: "c", doc: { title: "zig", body: "systems" } },
    { id: "b", doc: null }, // deletes b
    { id: "d", doc: { title: "book book book", body: "go rust zig" } },
  ];
  const plan = planSchema(EMPTY_SCHEMA, docs.flatMap((d) => d.doc === null ? [] : [d.doc]));
  const schema = plan.schema;
  const ops: IndexOp[] = docs.map(({ id, doc }) =>
    doc === null ? { op: "delete", id } : { op: "put", id, values: flatten(schema, doc) }
  );
  const together = Fts5Index.open({ path: ":memory:", schema });
  together.apply(ops, ops.length);
  const oneByOne = Fts5Index.open({ path: ":memory:", schema });
  ops.forEach((op, i) => oneByOne.apply([op], i + 1));
  const query: Plan = {
    kind: "or",
    children: ["rust", "book", "systems", "go", "zig", "language", "servers"].map((t) => ({
      kind: "term" as const,
      field: null,
      term: t,
    })),
  };
  assert.deepEqual(together.stats(query), oneByOne.stats(query));
  const page = { limit: 10, offset: 0 };
  const found = together.search(query, page);
  assert.deepEqual(found, oneByOne.search(query, page));
  assert.deepEqual(found.hits.map((hit) => hit.id).sort(), ["a", "c", "d"]);
  together.close();
  oneByOne.close();
});

Deno.test("fts5 engine: the term and field statistics, written once per batch, match the postings after puts, updates and deletes", () => {
  const dir = Deno.makeTempDirSync();
  try {
    const path = `${dir}/s.fts5.sqlite`;
    const schema = planSchema(EMPTY_SCHEMA, [{ title: "a b", body: "c d" }]).schema;
    const index = Fts5Index.open({ path, schema });
    let seed = 3;
    const random = () => (seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31) / 2 ** 31;
    const text = () =>
      Array.from({ length: Math.floor(random() * 6) }, () => "abcdef"[Math.floor(random() * 6)])
        .join(" ");
    let seq = 0;
    for (let batch = 0; batch < 30; batch++) {
      const ops = Array.from({ length: 1 + Math.floor(random() * 8) }, () => {
        const id = `d${Math.floor(random() * 12)}`;
        if (random() < 0.25) return { op: "delete" as const, id };
        const doc = { title: text(), body: text() };
        return { op: "put" as const, id, values: flatten(schema, doc) };
      });
      index.apply(ops, ++seq);
    }
    index.close();
    const db = new DatabaseSync(path);
    const expectedDf = db.prepare(
      "SELECT term, col, count(*) AS df, max(tf) AS max_tf, min(len) AS min_len FROM postings " +
        "GROUP BY term, col ORDER BY term, col",
    ).all();
    const kept = db.prepare(
      "SELECT term, col, df, max_tf, min_len FROM term_stats WHERE col >= 0 AND df > 0 " +
        "ORDER BY term, col",
    ).all() as Array<{ term: string; col: number; df: number; max_tf: number; min_len: number }>;
    assert.ok(expectedDf.length > 5, "too few terms compared");
    assert.deepEqual(
      kept.map(({ term, col, df }) => ({ term, col, df })),
      expectedDf.map((row) => {
        const { term, col, df } = row as { term: string; col: number; df: number };
        return { term, col, df };
      }),
    );
    // The bounds may be looser than the postings after deletes, never tighter.
    for (const [i, row] of (expectedDf as Array<{ max_tf: number; min_len: number }>).entries()) {
      assert.ok(kept[i]!.max_tf >= row.max_tf && kept[i]!.min_len <= row.min_len);
    }
    const anyColumn = db.prepare(
      "SELECT term, count(DISTINCT rid) AS df FROM postings GROUP BY term ORDER BY term",
    ).all();
    assert.deepEqual(
      db.prepare("SELECT term, df FROM term_stats WHERE col = -1 AND df > 0 ORDER BY term").all(),
      anyColumn,
    );
    assert.deepEqual(
      db.prepare("SELECT col, docs, tokens FROM field_stats WHERE docs > 0 ORDER BY col").all(),
      db.prepare(
        "SELECT col, count(*) AS docs, sum(len) AS tokens FROM " +
          "(SELECT DISTINCT rid, col, len FROM postings) GROUP BY col ORDER BY col",
      ).all(),
    );
    db.close();
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});
