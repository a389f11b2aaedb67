/**
 * The profile behind the fix of `term AND range` in the FTS5 engine: the two SQL forms a
 * value filter can take inside an AND, timed on one shard's share of the comparison corpus
 * (25,000 documents) in the engine's own table layout, with SQLite's query plans.
 *
 *   deno run -A bench/compare/range_filter_profile.ts
 *
 * @module
 */

import { DatabaseSync } from "node:sqlite";
import { chooseQueries, loadCorpus, words } from "./corpus.ts";

const docs = await loadCorpus(25_000);
const term = chooseQueries(docs).find((q) => q.name.startsWith("mid term"))!.terms[0]!;
const db = new DatabaseSync(":memory:");
db.exec(`
  CREATE TABLE docs(rid INTEGER PRIMARY KEY, id TEXT NOT NULL UNIQUE);
  CREATE TABLE vals(rid INTEGER NOT NULL, field TEXT NOT NULL, num REAL, str TEXT);
  CREATE INDEX vals_num ON vals(field, num) WHERE num IS NOT NULL;
  CREATE INDEX vals_doc ON vals(rid, field, num, str);
  CREATE VIRTUAL TABLE fts USING fts5(text, content='', contentless_delete=1);
`);
db.exec("BEGIN");
const insertDoc = db.prepare("INSERT INTO docs(rid, id) VALUES (?, ?)");
const insertVal = db.prepare("INSERT INTO vals(rid, field, num, str) VALUES (?, ?, ?, NULL)");
const insertText = db.prepare("INSERT INTO fts(rowid, text) VALUES (?, ?)");
docs.forEach((doc, i) => {
  insertDoc.run(i + 1, doc.id);
  insertVal.run(i + 1, "size", doc.doc.size);
  insertText.run(i + 1, words(doc.doc.text).join(" "));
});
db.exec("COMMIT");

function time(label: string, sql: string, ...params: Array<string | number>) {
  const statement = db.prepare(sql);
  let rows = statement.all(...params);
  const started = performance.now();
  for (let i = 0; i < 20; i++) rows = statement.all(...params);
  const plan = db.prepare(`EXPLAIN QUERY PLAN ${sql}`).all(...params) as Array<{ detail: string }>;
  console.log(
    `${label}: ${((performance.now() - started) / 20).toFixed(2)} ms, ${JSON.stringify(rows)}\n` +
      `  plan: ${plan.map((step) => step.detail).join(" | ")}`,
  );
}

const match = "d.rid IN (SELECT rowid FROM fts WHERE fts MATCH ?)";
const range = ["size", 100, 5_000] as const;
console.log(`${docs.length} documents, term "${term}", size in [100, 5000]`);
time("term only", `SELECT count(*) n FROM docs d WHERE ${match}`, term);
time(
  "term AND range as a list (IN)",
  `SELECT count(*) n FROM docs d WHERE (${match} AND ` +
    `d.rid IN (SELECT rid FROM vals WHERE field = ? AND num >= ? AND num <= ?))`,
  term,
  ...range,
);
time(
  "term AND range as a probe (EXISTS)",
  `SELECT count(*) n FROM docs d WHERE (${match} AND ` +
    `EXISTS (SELECT 1 FROM vals v WHERE v.rid = d.rid AND field = ? AND num >= ? AND num <= ?))`,
  term,
  ...range,
);
