/**
 * SQLite FTS5 in this process through `node:sqlite`: a documents table (JSON text, a size
 * column) and an FTS5 table over title and text, in WAL mode with `synchronous = FULL` so
 * a committed write is durable, as CameoDB's acknowledgement is. The FTS5 row shares the
 * document's rowid, so writing a document again replaces its index entry.
 *
 * @module
 */

import { DatabaseSync, type StatementSync } from "node:sqlite";
import type { CompareQuery, CorpusDoc } from "./corpus.ts";
import { dirBytes, type DiskBytes, processRss, type System } from "./system.ts";

/** The query as an FTS5 MATCH expression. */
export function fts5Match(query: CompareQuery): string {
  const quote = (word: string) => `"${word.replaceAll('"', '""')}"`;
  const [first, second] = query.terms;
  switch (query.kind) {
    case "term":
    case "range":
      return `text : ${quote(first!)}`;
    case "or":
      return `text : (${quote(first!)} OR ${quote(second!)})`;
    case "phrase":
      return `text : ${quote(query.terms.join(" "))}`;
    case "prefix":
      return `text : ${quote(first!)}*`;
  }
}

/** SQLite FTS5. */
export class SqliteSystem implements System {
  readonly name = "SQLite FTS5 (in process)";
  readonly how =
    "node:sqlite (SQLite 3 with FTS5) in the benchmark's process, WAL, synchronous=FULL";
  #dir = "";
  #db: DatabaseSync | undefined;
  #insertDoc: StatementSync | undefined;
  #insertFts: StatementSync | undefined;
  #getDoc: StatementSync | undefined;

  async start(): Promise<void> {
    this.#dir = await Deno.makeTempDir({ prefix: "compare-sqlite-" });
    const db = new DatabaseSync(`${this.#dir}/corpus.db`);
    db.exec(`
      PRAGMA journal_mode = WAL;
      PRAGMA synchronous = FULL;
      CREATE TABLE docs (id TEXT PRIMARY KEY, body TEXT NOT NULL, size INTEGER NOT NULL);
      CREATE INDEX docs_size ON docs (size);
      CREATE VIRTUAL TABLE fts USING fts5 (id UNINDEXED, title, text);
    `);
    this.#db = db;
    this.#insertDoc = db.prepare(
      "INSERT INTO docs (id, body, size) VALUES (?, ?, ?) ON CONFLICT (id) DO UPDATE " +
        "SET body = excluded.body, size = excluded.size RETURNING rowid",
    );
    this.#insertFts = db.prepare(
      "INSERT OR REPLACE INTO fts (rowid, id, title, text) VALUES (?, ?, ?, ?)",
    );
    this.#getDoc = db.prepare("SELECT body FROM docs WHERE id = ?");
  }

  #write(doc: CorpusDoc): void {
    const { rowid } = this.#insertDoc!.get(doc.id, JSON.stringify(doc.doc), doc.doc.size) as {
      rowid: number;
    };
    this.#insertFts!.run(rowid, doc.id, doc.doc.title, doc.doc.text);
  }

  put(doc: CorpusDoc): Promise<void> {
    this.#db!.exec("BEGIN");
    this.#write(doc);
    this.#db!.exec("COMMIT");
    return Promise.resolve();
  }

  bulk(docs: readonly CorpusDoc[]): Promise<void> {
    this.#db!.exec("BEGIN");
    for (const doc of docs) this.#write(doc);
    this.#db!.exec("COMMIT");
    return Promise.resolve();
  }

  search(query: CompareQuery): Promise<string[]> {
    const rows = query.range === undefined
      ? this.#db!.prepare("SELECT id FROM fts WHERE fts MATCH ? ORDER BY rank LIMIT 10").all(
        fts5Match(query),
      )
      : this.#db!.prepare(
        "SELECT fts.id AS id FROM fts JOIN docs ON docs.rowid = fts.rowid " +
          "WHERE fts MATCH ? AND docs.size BETWEEN ? AND ? ORDER BY rank LIMIT 10",
      ).all(fts5Match(query), query.range.from, query.range.to);
    return Promise.resolve(rows.map((row) => String((row as { id: string }).id)));
  }

  get(id: string): Promise<boolean> {
    const row = this.#getDoc!.get(id) as { body: string } | undefined;
    if (row !== undefined) JSON.parse(row.body);
    return Promise.resolve(row !== undefined);
  }

  rssBytes(): Promise<number> {
    return processRss(Deno.pid);
  }

  diskBytes(): Promise<DiskBytes> {
    return dirBytes(this.#dir);
  }

  async stop(): Promise<void> {
    this.#db?.close();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
