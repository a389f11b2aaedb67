/**
 * The one conformance suite every {@linkcode Database} implementation passes: the HTTP client
 * (`connect_test.ts`, against a real server process) and an embedded database. Each case is one
 * behaviour, on an index of its own, so cases never see each other's documents.
 *
 * @module
 */

import assert from "node:assert/strict";
import type { Database } from "./database.ts";
import {
  BadRequestError,
  DatabaseClosedError,
  type DatabaseError,
  NotFoundError,
} from "./errors.ts";

/** What the suite asks of an implementation. */
export interface DatabaseHarness {
  /** Opens a database (empty or not: cases use index names of their own). */
  open(): Promise<Database>;
  /** Stops everything `open` started. */
  close(): Promise<void>;
}

interface Book {
  title: string;
  year: number;
  tags?: string[];
}

type Case = (db: Database, index: string) => Promise<void>;

async function assertRejects(
  promise: Promise<unknown>,
  kind: abstract new (...args: never[]) => DatabaseError,
  details?: RegExp,
): Promise<DatabaseError> {
  try {
    await promise;
  } catch (error) {
    assert.ok(
      error instanceof kind,
      `expected ${kind.name}, got ${(error as Error).name}: ${error}`,
    );
    if (details !== undefined) assert.match(error.details, details);
    return error;
  }
  assert.fail(`expected ${kind.name}, but it resolved`);
}

const CASES: Record<string, Case> = {
  "put() creates a document and get() reads it back with its version": async (db, name) => {
    const books = db.index<Book>(name);
    const written = await books.put({ id: "b1", doc: { title: "Rust Programming", year: 2019 } });
    assert.equal(written.result, "created");
    assert.equal(written.version, 1);
    assert.deepEqual(await books.get("b1"), {
      id: "b1",
      version: 1,
      doc: { title: "Rust Programming", year: 2019 },
    });
  },
  "put() of an existing id replaces it and raises the version": async (db, name) => {
    const books = db.index<Book>(name);
    await books.put({ id: "b1", doc: { title: "Old", year: 1 } });
    const again = await books.put({ id: "b1", doc: { title: "New", year: 2 } });
    assert.equal(again.result, "updated");
    assert.equal(again.version, 2);
    assert.equal((await books.get("b1"))?.doc.title, "New");
  },
  "get() of a missing document resolves to null": async (db, name) => {
    await db.index<Book>(name).put({ id: "b1", doc: { title: "A", year: 1 } });
    assert.equal(await db.index<Book>(name).get("nope"), null);
  },
  "delete() removes a document; deleting it again answers not_found": async (db, name) => {
    const books = db.index<Book>(name);
    await books.put({ id: "b1", doc: { title: "A", year: 1 } });
    assert.equal((await books.delete("b1")).result, "deleted");
    assert.equal(await books.get("b1"), null);
    assert.equal((await books.delete("b1")).result, "not_found");
  },
  "a routing key places a document and reads it back": async (db, name) => {
    const books = db.index<Book>(name);
    await books.put({ id: "b1", routing_key: "shelf-9", doc: { title: "A", year: 1 } });
    assert.equal((await books.get("b1", { routing_key: "shelf-9" }))?.doc.title, "A");
    assert.equal((await books.delete("b1", { routing_key: "shelf-9" })).result, "deleted");
  },
  "bulk() writes the good items and lists each refused one by position": async (db, name) => {
    const books = db.index<Book>(name);
    const answer = await books.bulk([
      { id: "b1", doc: { title: "Dune", year: 1965 } },
      { id: "b2", doc: { title: "Solaris", year: "soon" as unknown as number } },
      { id: "b3", doc: { title: "Hyperion", year: 1989 } },
    ]);
    assert.equal(answer.items_received, 3);
    assert.equal(answer.items_written, 2);
    assert.equal(answer.errors.length, 1);
    assert.equal(answer.errors[0]?.item, 1);
    assert.equal(answer.errors[0]?.id, "b2");
    assert.equal(answer.errors[0]?.status, 400);
    assert.match(answer.errors[0]!.error, /year/);
    assert.equal(await books.get("b2"), null);
  },
  "bulkDelete() deletes by id and counts only what it deleted": async (db, name) => {
    const books = db.index<Book>(name);
    await books.bulk([
      { id: "b1", doc: { title: "A", year: 1 } },
      { id: "b2", doc: { title: "B", year: 2 } },
    ]);
    const answer = await books.bulkDelete(["b1", { id: "b2" }, "missing"]);
    assert.equal(answer.items_received, 3);
    assert.equal(answer.items_deleted, 2);
    assert.equal(await books.get("b1"), null);
  },
  "stream() writes an async iterable and reports every line": async (db, name) => {
    async function* generate() {
      for (let i = 0; i < 250; i++) yield { id: `w${i}`, doc: { title: `word ${i}`, year: i } };
    }
    const answer = await db.index<Book>(name).stream(generate());
    assert.equal(answer.status, "ok");
    assert.equal(answer.items_written, 250);
    assert.equal(answer.lines_received, 250);
    assert.equal((await db.index<Book>(name).get("w249"))?.doc.year, 249);
  },
  "search() answers typed hits with totals, sort, paging, fields and facets": async (db, name) => {
    const books = db.index<Book>(name);
    await books.bulk([
      { id: "b1", doc: { title: "Rust Programming", year: 2019, tags: ["rust"] } },
      { id: "b2", doc: { title: "Rust in Action", year: 2021, tags: ["rust", "systems"] } },
      { id: "b3", doc: { title: "Go in Action", year: 2016, tags: ["go"] } },
    ]);
    const page = await books.search({
      query: "title:rust OR title:go",
      sort: { field: "year", order: "desc" },
      limit: 2,
      offset: 1,
      fields: ["title"],
      facets: { tags: {} },
    });
    assert.equal(page.total_hits, 3);
    assert.equal(page.hits_returned, 2);
    const titles: string[] = page.hits.map((hit) => hit.title);
    assert.deepEqual(titles, ["Rust Programming", "Go in Action"]);
    assert.deepEqual(page.hits.map((hit) => hit.id), ["b1", "b3"]);
    assert.equal("year" in page.hits[0]!, false);
    assert.deepEqual(page.facets?.tags?.buckets[0], { value: "rust", count: 2 });
  },
  "searchStream() yields every hit, then sets the footer": async (db, name) => {
    const books = db.index<Book>(name);
    await books.bulk(
      Array.from({ length: 30 }, (_, i) => ({ id: `b${i}`, doc: { title: "same", year: i } })),
    );
    const stream = books.searchStream({ query: "* sort year:asc", limit: 25 });
    const years: number[] = [];
    for await (const hit of stream) years.push(hit.year);
    assert.deepEqual(years, Array.from({ length: 25 }, (_, i) => i));
    assert.equal(stream.footer?.total_hits, 30);
    assert.equal(stream.footer?.hits_returned, 25);
  },
  "a query error rejects with BadRequestError saying what and where": async (db, name) => {
    await db.index<Book>(name).put({ id: "b1", doc: { title: "A", year: 1 } });
    await assertRejects(
      db.index<Book>(name).search({ query: "year:abc" }),
      BadRequestError,
      /expects i64, got "abc" at position 6/,
    );
  },
  "a value the schema cannot hold rejects put() with BadRequestError and writes nothing": async (
    db,
    name,
  ) => {
    const books = db.index<Book>(name);
    await books.put({ id: "b1", doc: { title: "A", year: 1 } });
    await assertRejects(
      books.put({ id: "b2", doc: { title: "B", year: "x" as unknown as number } }),
      BadRequestError,
      /field "year" expects i64/,
    );
    assert.equal(await books.get("b2"), null);
  },
  "a search of an unknown index rejects with NotFoundError": async (db, name) => {
    await assertRejects(db.index(name).search({ query: "*" }), NotFoundError);
    await assertRejects(db.index(name).config(), NotFoundError);
  },
  "configure() declares fields that config() then shows typed": async (db, name) => {
    const answer = await db.index<Book>(name).configure({
      fields: [{ name: "title", type: "text" }, { name: "year", type: "i64" }],
      description: "books",
    });
    assert.equal(answer.acknowledged, true);
    assert.deepEqual(answer.field_names, ["title", "year"]);
    const config = await db.index<Book>(name).config();
    assert.equal(config.name, name);
    assert.deepEqual(
      config.fields.map((field) => [field.name, field.type]),
      [["title", "text"], ["year", "i64"]],
    );
  },
  "drop() removes the index, which indexes() then no longer lists": async (db, name) => {
    await db.index<Book>(name).put({ id: "b1", doc: { title: "A", year: 1 } });
    const listed = await db.indexes();
    assert.equal(listed.find((index) => index.name === name)?.document_count, 1);
    assert.equal((await db.index(name).drop()).success, true);
    assert.equal((await db.indexes()).some((index) => index.name === name), false);
    await assertRejects(db.index(name).config(), NotFoundError);
  },
  "health() answers the node's status and counts": async (db) => {
    const health = await db.health();
    assert.ok(["green", "yellow", "red"].includes(health.status));
    assert.equal(typeof health.node_id, "string");
    assert.ok(health.active_shards >= 1);
  },
};

const CLOSE_CASE = "after close(), every call rejects with DatabaseClosedError";

/** Registers the suite as one `Deno.test` named after `kind`, one step per behaviour. */
export function runDatabaseConformance(kind: string, harness: DatabaseHarness): void {
  Deno.test({
    name: `${kind} database conformance`,
    sanitizeResources: false,
    sanitizeOps: false,
    async fn(t) {
      const db = await harness.open();
      try {
        let n = 0;
        for (const [name, body] of Object.entries(CASES)) {
          const index = `conformance-${++n}`;
          await t.step(name, () => body(db, index));
        }
        await t.step(CLOSE_CASE, async () => {
          await db.close();
          await assertRejects(db.health(), DatabaseClosedError);
          await assertRejects(db.index("any").get("x"), DatabaseClosedError);
        });
      } finally {
        await db.close();
        await harness.close();
      }
    },
  });
}
