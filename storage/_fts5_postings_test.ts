import assert from "node:assert/strict";
import { DatabaseSync } from "node:sqlite";
import { allPostings, Fts5Postings } from "./_fts5_postings.ts";
import { POSTINGS_PER_BLOCK } from "./_posting_blocks.ts";
import { TABLES_SQL } from "./_fts5_sql.ts";

Deno.test("fts5 postings: a rid not above a term's last is refused, an empty open block after a full one included", () => {
  const db = new DatabaseSync(":memory:");
  db.exec(TABLES_SQL);
  const postings = new Fts5Postings(db);
  // Exactly one full block: the open block is left empty.
  for (let i = 0; i < POSTINGS_PER_BLOCK; i++) postings.post(100 + i, new Map([[0, ["w"]]]));
  postings.flush();
  postings.fold();
  postings.post(50, new Map([[0, ["w"]]]));
  assert.throws(() => postings.flush(), RangeError);
  postings.discard();
  // The list is as it was, in rid order; a growing rid is taken.
  postings.post(100 + POSTINGS_PER_BLOCK, new Map([[0, ["w"]]]));
  postings.flush();
  postings.fold();
  const rids = allPostings(db).map((row) => row.rid);
  assert.deepEqual(rids, Array.from({ length: POSTINGS_PER_BLOCK + 1 }, (_, i) => 100 + i));
  db.close();
});
