import assert from "node:assert/strict";
import { Fts5Index, IndexCorruptError } from "./fts5_index.ts";
import { EMPTY_SCHEMA } from "./schema.ts";
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
