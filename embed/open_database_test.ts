import assert from "node:assert/strict";
import { runDatabaseConformance } from "../client/database_conformance.ts";
import { DatabaseClosedError } from "../client/errors.ts";
import type { Database } from "../client/database.ts";
import { openDatabase } from "./open_database.ts";

let path: string | undefined;
let opened: Database | undefined;

runDatabaseConformance("openDatabase() in process", {
  async open() {
    path = await Deno.makeTempDir();
    opened = await openDatabase({ path, shards: 2 });
    return opened;
  },
  async close() {
    await opened?.close();
    if (path !== undefined) await Deno.remove(path, { recursive: true });
  },
});

Deno.test("openDatabase(): documents are durable across close and reopen; the directory is locked while open", async () => {
  const dir = await Deno.makeTempDir();
  try {
    const db = await openDatabase({ path: dir, shards: 3, engine: "orama" });
    const books = db.index<{ title: string }>("books");
    await books.bulk([{ id: "a", doc: { title: "Rust in Action" } }, {
      id: "b",
      doc: { title: "Go in Action" },
    }]);
    await assert.rejects(openDatabase({ path: dir }), /in use by process/);
    assert.equal((await books.config()).engine, "orama");
    await db.close();
    await assert.rejects(books.get("a"), DatabaseClosedError);
    const again = await openDatabase({ path: dir, shards: 5 });
    const health = await again.health();
    assert.equal(health.active_shards, 3, "the shard count is kept from the first open");
    assert.equal((await again.index("books").get("a"))?.doc.title, "Rust in Action");
    const found = await again.index<{ title: string }>("books").search({ query: "title:action" });
    assert.equal(found.total_hits, 2);
    await again.close();
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
});
