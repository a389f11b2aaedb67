import assert from "node:assert/strict";
import { Fts5Index, IndexCorruptError } from "./fts5_index.ts";
import { EMPTY_SCHEMA, flatten, planSchema } from "./schema.ts";
import type { IndexOp, Plan } from "./search_index.ts";
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
