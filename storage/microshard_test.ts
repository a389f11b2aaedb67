import assert from "node:assert/strict";
import { Microshard } from "./microshard.ts";
import { withDeadline } from "../testing/deadline.ts";
import type { Schema } from "./schema.ts";
import type { EngineName, Plan } from "./search_index.ts";

async function withShard(
  fn: (dir: string, open: () => Promise<Microshard>) => Promise<void>,
  options: { memoryLimitBytes?: number; defaultEngine?: EngineName } = {},
): Promise<void> {
  const dir = await Deno.makeTempDir();
  const opened: Microshard[] = [];
  try {
    await fn(dir, async () => {
      const shard = await Microshard.open({ dir, ...options });
      opened.push(shard);
      return shard;
    });
  } finally {
    for (const shard of opened) await shard.close().catch(() => {});
    await Deno.remove(dir, { recursive: true });
  }
}

const term = (field: string | null, t: string): Plan => ({ kind: "term", field, term: t });

async function ids(shard: Microshard, index: string, plan: Plan): Promise<string[]> {
  const result = await shard.search(index, plan, { limit: 1000, offset: 0 });
  return result.hits.map((hit) => hit.id).sort();
}

for (const engine of ["fts5", "orama"] as const) {
  Deno.test(`microshard (${engine}): a write is readable by id and searchable once answered`, async () => {
    await withShard(async (_dir, open) => {
      const shard = await open();
      const [created] = await shard.write([{
        op: "put",
        index: "books",
        id: "b1",
        doc: { title: "Rust Programming", year: 2019 },
      }]);
      assert.deepEqual(created, { ok: true, id: "b1", result: "created", version: 1 });
      assert.deepEqual(await shard.get("books", "b1"), {
        id: "b1",
        version: 1,
        doc: { title: "Rust Programming", year: 2019 },
      });
      assert.deepEqual(await ids(shard, "books", term("title", "rust")), ["b1"]);
      const [updated] = await shard.write([{
        op: "put",
        index: "books",
        id: "b1",
        doc: { title: "Go Programming", year: 2020 },
      }]);
      assert.deepEqual(updated, { ok: true, id: "b1", result: "updated", version: 2 });
      assert.deepEqual(await ids(shard, "books", term("title", "rust")), []);
      assert.deepEqual(await ids(shard, "books", term("title", "go")), ["b1"]);
      const [deleted] = await shard.write([{ op: "delete", index: "books", id: "b1" }]);
      assert.deepEqual(deleted, { ok: true, id: "b1", result: "deleted", version: 3 });
      const [again] = await shard.write([{ op: "delete", index: "books", id: "b1" }]);
      assert.deepEqual(again, { ok: true, id: "b1", result: "not_found", version: 0 });
      assert.equal(await shard.get("books", "b1"), undefined);
      assert.deepEqual(await ids(shard, "books", { kind: "all" }), []);
    }, { defaultEngine: engine });
  });

  Deno.test(`microshard (${engine}): documents survive a reopen, found by id and search`, async () => {
    await withShard(async (_dir, open) => {
      const shard = await open();
      const docs = Array.from({ length: 1_200 }, (_, i) => ({
        op: "put" as const,
        index: "words",
        id: `w${i}`,
        doc: { word: `word${i}`, n: i, even: i % 2 === 0 },
      }));
      const outcomes = await shard.write(docs);
      assert.ok(outcomes.every((outcome) => outcome.ok));
      await shard.write([{ op: "delete", index: "words", id: "w7" }]);
      await shard.close();
      const reopened = await open();
      assert.equal((await reopened.get("words", "w1199"))?.doc.n, 1199);
      assert.equal(await reopened.get("words", "w7"), undefined);
      assert.deepEqual(await ids(reopened, "words", term("word", "word42")), ["w42"]);
      const evens = await reopened.search("words", { kind: "eq", field: "even", value: true }, {
        limit: 0,
        offset: 0,
      });
      assert.equal(evens.total, 600);
      assert.equal(reopened.indexes()[0]?.documentCount, 1_199);
      if (engine === "orama") assert.deepEqual(reopened.recovery.rebuiltIndexes, ["words"]);
      else assert.deepEqual(reopened.recovery.rebuiltIndexes, []);
    }, { defaultEngine: engine });
  });
}

Deno.test("microshard: invalid documents are refused per item; valid ones are written", async () => {
  await withShard(async (_dir, open) => {
    const shard = await open();
    await shard.write([{ op: "put", index: "books", id: "b0", doc: { year: 2000 } }]);
    const outcomes = await shard.write([
      { op: "put", index: "books", id: "b1", doc: { year: 2001 } },
      { op: "put", index: "books", id: "b2", doc: { year: "abc" } },
      { op: "put", index: "books", id: "", doc: { year: 1 } },
      { op: "put", index: "Bad Name", id: "b3", doc: { year: 1 } },
      { op: "put", index: "books", id: "b4", doc: { _secret: 1 } },
      { op: "put", index: "books", id: "b0", doc: "not an object" },
    ]);
    assert.equal(outcomes[0]?.ok, true);
    const errors = outcomes.slice(1).map((outcome) => outcome.ok ? "ok" : outcome.error.message);
    assert.match(
      errors[0]!,
      /Cannot write document "b2" to index "books": field "year" expects i64, got "abc"/,
    );
    assert.match(errors[1]!, /Invalid document id/);
    assert.match(errors[2]!, /Invalid index name "Bad Name"/);
    assert.match(errors[3]!, /reserved/);
    assert.match(errors[4]!, /must be a JSON object/);
    assert.equal(await shard.get("books", "b2"), undefined);
    assert.deepEqual(
      (await shard.get("books", "b0"))?.doc,
      { year: 2000 },
      "existing data unchanged",
    );
    assert.deepEqual(shard.indexes().map((info) => info.name), ["books"]);
  });
});

Deno.test("microshard: new fields become searchable without a rebuild step; schema version grows", async () => {
  await withShard(async (_dir, open) => {
    const shard = await open();
    await shard.write([{ op: "put", index: "books", id: "b1", doc: { title: "Rust" } }]);
    const v1 = shard.indexes()[0]!.schema.version;
    await shard.write([
      {
        op: "put",
        index: "books",
        id: "b2",
        doc: { title: "Go", summary: "concurrency made simple" },
      },
      { op: "put", index: "books", id: "b3", doc: { title: "Zig", author: { name: "Kelley" } } },
    ]);
    assert.equal(shard.indexes()[0]!.schema.version, v1 + 1, "one version step per batch");
    assert.deepEqual(await ids(shard, "books", term("summary", "concurrency")), ["b2"]);
    assert.deepEqual(await ids(shard, "books", term("author.name", "kelley")), ["b3"]);
  });
});

Deno.test("microshard: documents over 60 KB and up to 16 MiB round-trip and stay searchable", async () => {
  await withShard(async (_dir, open) => {
    const shard = await open();
    const big = { title: "big one", body: "lorem ipsum ".repeat(1_398_000) }; // ~16 MiB
    const medium = { title: "medium one", body: "x".repeat(200_000) };
    const outcomes = await shard.write([
      { op: "put", index: "docs", id: "big", doc: big },
      { op: "put", index: "docs", id: "medium", doc: medium },
    ]);
    assert.ok(outcomes.every((outcome) => outcome.ok), JSON.stringify(outcomes));
    assert.equal((await shard.get("docs", "big"))?.doc.body, big.body);
    assert.deepEqual(await ids(shard, "docs", term("title", "big")), ["big"]);
    // Replacing a big document by a small one frees its blob.
    await shard.write([{ op: "put", index: "docs", id: "big", doc: { title: "small now" } }]);
    assert.deepEqual((await shard.get("docs", "big"))?.doc, { title: "small now" });
    await shard.close();
    const reopened = await open();
    assert.equal((await reopened.get("docs", "medium"))?.doc.body, medium.body);
    assert.equal(reopened.recovery.removedBlobs, 0);
  });
});

Deno.test("microshard: a document over the size limit is refused with DocumentTooLargeError", async () => {
  await withShard(async (dir) => {
    const shard = await Microshard.open({ dir, maxDocumentBytes: 1_000 });
    try {
      const [outcome] = await shard.write([{
        op: "put",
        index: "x",
        id: "a",
        doc: { t: "y".repeat(2_000) },
      }]);
      assert.equal(outcome?.ok, false);
      assert.equal(!outcome!.ok && outcome!.error.name, "DocumentTooLargeError");
      assert.deepEqual(shard.indexes(), []);
    } finally {
      await shard.close();
    }
  });
});

Deno.test("microshard: indexes are isolated and dropping one removes its documents and files", async () => {
  await withShard(async (dir, open) => {
    const shard = await open();
    await shard.write([
      { op: "put", index: "a", id: "1", doc: { t: "apple" } },
      { op: "put", index: "b", id: "1", doc: { t: "banana", n: 1 } },
    ]);
    assert.deepEqual(await ids(shard, "a", term(null, "banana")), []);
    assert.equal(shard.indexes().find((i) => i.name === "a")?.schema.fields.n, undefined);
    assert.equal(await shard.dropIndex("b"), true);
    assert.equal(await shard.dropIndex("b"), false);
    assert.deepEqual(shard.indexes().map((info) => info.name), ["a"]);
    assert.equal(await shard.get("b", "1"), undefined);
    await assert.rejects(shard.search("b", { kind: "all" }, { limit: 1, offset: 0 }), {
      name: "IndexNotFoundError",
    });
    const files = [...Deno.readDirSync(`${dir}/indexes`)].map((entry) => entry.name);
    assert.ok(files.every((name) => !name.startsWith("b.")), files.join(","));
    // A new index with the old name starts empty.
    await shard.write([{ op: "put", index: "b", id: "2", doc: { t: "cherry" } }]);
    assert.deepEqual(await ids(shard, "b", { kind: "all" }), ["2"]);
  });
});

Deno.test("microshard: a corrupt or missing index file is rebuilt from KV", async () => {
  await withShard(async (dir, open) => {
    const shard = await open();
    await shard.write([
      { op: "put", index: "books", id: "b1", doc: { title: "Rust" } },
      { op: "put", index: "books", id: "b2", doc: { title: "Go" } },
    ]);
    await shard.close();
    const path = `${dir}/indexes/books.fts5.sqlite`;
    for (const suffix of ["-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
    await Deno.writeTextFile(path, "garbage".repeat(1000));
    const recovered = await open();
    assert.deepEqual(recovered.recovery.rebuiltIndexes, ["books"]);
    assert.deepEqual(await ids(recovered, "books", term("title", "rust")), ["b1"]);
    await recovered.close();
    await Deno.remove(path);
    const again = await open();
    assert.deepEqual(await ids(again, "books", { kind: "all" }), ["b1", "b2"]);
  });
});

Deno.test("microshard: a truncated index file is rebuilt from KV", async () => {
  await withShard(async (dir, open) => {
    const shard = await open();
    await shard.write(
      Array.from({ length: 2_000 }, (_, i) => ({
        op: "put" as const,
        index: "books",
        id: `b${i}`,
        doc: { title: `title ${i} common` },
      })),
    );
    await shard.close();
    const path = `${dir}/indexes/books.fts5.sqlite`;
    for (const suffix of ["-wal", "-shm"]) await Deno.remove(path + suffix).catch(() => {});
    const { size } = await Deno.stat(path);
    await Deno.truncate(path, Math.floor(size / 2));
    const recovered = await open();
    assert.deepEqual(recovered.recovery.rebuiltIndexes, ["books"]);
    const all = await recovered.search("books", term("title", "common"), { limit: 0, offset: 0 });
    assert.equal(all.total, 2_000);
  });
});

Deno.test("microshard: declared fields and the engine are set by configure", async () => {
  await withShard(async (_dir, open) => {
    const shard = await open();
    const info = await shard.configure("hot", {
      engine: "orama",
      fields: [{ name: "status", type: "string" }, { name: "n", type: "i64" }],
    });
    assert.equal(info.engine, "orama");
    assert.equal(info.schema.fields.status?.type, "string");
    await assert.rejects(
      shard.configure("hot", { engine: "fts5" }),
      /engine is chosen when an index is created/,
    );
    await assert.rejects(shard.configure("hot", { fields: [{ name: "n", type: "text" }] }), {
      name: "InvalidInputError",
    });
    const [outcome] = await shard.write([{
      op: "put",
      index: "hot",
      id: "x",
      doc: { n: "seven" },
    }]);
    assert.equal(outcome?.ok, false);
  });
});

Deno.test("microshard: writes are refused past the memory limit, reads go on", async () => {
  await withShard(async (_dir, open) => {
    const shard = await open();
    const first = await shard.write(
      Array.from(
        { length: 50 },
        (_, i) => ({ op: "put" as const, index: "m", id: `d${i}`, doc: { t: "word ".repeat(50) } }),
      ),
    );
    assert.ok(first.every((outcome) => outcome.ok));
    const [refused] = await shard.write([{ op: "put", index: "m", id: "more", doc: { t: "x" } }]);
    assert.equal(refused?.ok, false);
    assert.equal(!refused!.ok && refused!.error.name, "MemoryLimitError");
    assert.equal((await shard.get("m", "d0"))?.version, 1);
  }, { memoryLimitBytes: 10_000, defaultEngine: "orama" });
});

Deno.test("microshard: one batch writes the same id twice in order", async () => {
  await withShard(async (_dir, open) => {
    const shard = await open();
    const outcomes = await shard.write([
      { op: "put", index: "x", id: "a", doc: { v: "one" } },
      { op: "put", index: "x", id: "a", doc: { v: "two" } },
      { op: "delete", index: "x", id: "a" },
      { op: "put", index: "x", id: "a", doc: { v: "three" } },
    ]);
    assert.deepEqual(outcomes.map((outcome) => outcome.ok && [outcome.result, outcome.version]), [
      ["created", 1],
      ["updated", 2],
      ["deleted", 3],
      ["created", 1],
    ]);
    assert.deepEqual((await shard.get("x", "a"))?.doc, { v: "three" });
    assert.deepEqual(await ids(shard, "x", term("v", "three")), ["a"]);
    assert.deepEqual(await ids(shard, "x", term("v", "two")), []);
  });
});

Deno.test("microshard: reads run beside a write batch instead of waiting for it", async () => {
  const dir = await Deno.makeTempDir();
  // The gate holds a write batch inside the store's queue, after its KV commit and before
  // its index apply: reads that answered meanwhile did not wait for it.
  const gate = Promise.withResolvers<void>();
  const held = Promise.withResolvers<void>();
  let armed = false;
  const afterKvCommit = () => {
    if (!armed) return;
    armed = false;
    held.resolve();
    return gate.promise;
  };
  const shard = await Microshard.open({ dir, faults: { afterKvCommit } });
  try {
    await shard.write([{ op: "put", index: "books", id: "first", doc: { title: "early bird" } }]);
    armed = true;
    let answered = false;
    const batch = Array.from({ length: 100 }, (_, i) => ({
      op: "put" as const,
      index: "books",
      id: `d${i}`,
      doc: { title: `document number ${i}` },
    }));
    const writing = shard.write(batch).then((outcomes) => {
      answered = true;
      return outcomes;
    });
    await withDeadline(held.promise, 10_000, "the write batch reached the gate");
    const [doc, found] = await withDeadline(
      Promise.all([
        shard.get("books", "first"),
        shard.search("books", term("title", "bird"), { limit: 10, offset: 0 }),
      ]),
      10_000,
      "reads answered while a write batch is held",
    );
    assert.equal(doc?.doc.title, "early bird");
    assert.deepEqual(found.hits.map((hit) => hit.id), ["first"]);
    assert.equal(answered, false, "the write was still held when the reads answered");
    gate.resolve();
    assert.ok((await writing).every((outcome) => outcome.ok));
    const total = await shard.search("books", term("title", "number"), { limit: 0, offset: 0 });
    assert.equal(total.total, 100);
  } finally {
    gate.resolve();
    await shard.close();
    await Deno.remove(dir, { recursive: true });
  }
});

Deno.test("microshard: a read racing updates of a large document sees one whole version", async () => {
  await withShard(async (_dir, open) => {
    const shard = await open();
    // Over the inline limit: the body lives in a blob that each update replaces.
    const big = (v: number) => ({ v, text: `v${v} `.repeat(40_000) });
    await shard.write([{ op: "put", index: "big", id: "doc", doc: big(0) }]);
    const seen = new Set<number>();
    const waiting = new Map<number, () => void>();
    const seenVersion = (v: number) =>
      seen.has(v) ? Promise.resolve() : new Promise<void>((resolve) => waiting.set(v, resolve));
    let writing = true;
    // Each update waits until a reader has seen it, so every version is read while the next
    // update replaces its blob: the readers race the writer on every version.
    const writer = (async () => {
      try {
        for (let v = 1; v <= 40; v++) {
          const [outcome] = await shard.write([{
            op: "put",
            index: "big",
            id: "doc",
            doc: big(v),
          }]);
          assert.ok(outcome?.ok);
          await withDeadline(seenVersion(v), 10_000, `a reader saw version ${v}`);
        }
      } finally {
        writing = false;
      }
    })();
    const reader = async () => {
      while (writing) {
        const read = await shard.get("big", "doc");
        const doc = read!.doc as { v: number; text: string };
        assert.equal(doc.text, `v${doc.v} `.repeat(40_000), "a torn document");
        seen.add(doc.v);
        waiting.get(doc.v)?.();
      }
    };
    await Promise.all([writer, reader(), reader(), reader(), reader()]);
    for (let v = 1; v <= 40; v++) assert.ok(seen.has(v), `version ${v} was never read`);
  });
});

Deno.test("microshard: a read whose blob is replaced under it is retried and sees the new version", async () => {
  const dir = await Deno.makeTempDir();
  const gate = Promise.withResolvers<void>();
  const paused = Promise.withResolvers<void>();
  let armed = false;
  const beforeBlobRead = () => {
    if (!armed) return Promise.resolve();
    armed = false;
    paused.resolve();
    return gate.promise;
  };
  const shard = await Microshard.open({ dir, faults: { beforeBlobRead } });
  try {
    const big = (v: number) => ({ v, text: `v${v} `.repeat(40_000) });
    await shard.write([{ op: "put", index: "big", id: "doc", doc: big(1) }]);
    // The read finds version 1's header, then waits before reading its blob.
    armed = true;
    const reading = shard.get("big", "doc");
    await paused.promise;
    const [outcome] = await shard.write([{ op: "put", index: "big", id: "doc", doc: big(2) }]);
    assert.equal(outcome?.ok && outcome.version, 2);
    gate.resolve();
    const read = await reading;
    assert.equal(read?.version, 2);
    assert.deepEqual(read?.doc, big(2));
  } finally {
    await shard.close();
    await Deno.remove(dir, { recursive: true });
  }
});

for (const engine of ["fts5", "orama"] as const) {
  Deno.test(`microshard (${engine}): a batch the index cannot take fails with 507-class errors; the index catches up later`, async () => {
    const dir = await Deno.makeTempDir();
    let failures = 0;
    const faults = {
      beforeIndexApply: () => {
        if (failures > 0) {
          failures--;
          throw new Error("database or disk is full");
        }
      },
    };
    const put = (id: string, word: string) => ({
      op: "put" as const,
      index: "books",
      id,
      doc: { title: `${word} book` },
    });
    let shard = await Microshard.open({ dir, faults, defaultEngine: engine, pruneEveryEntries: 1 });
    try {
      assert.ok((await shard.write([put("a", "first")]))[0]?.ok);
      // The batch's apply and the immediate catch-up both fail.
      failures = 2;
      const [refused] = await shard.write([put("b", "second")]);
      assert.equal(refused?.ok, false);
      assert.equal(!refused?.ok && refused?.error.name, "StorageUnavailableError");
      assert.match(!refused?.ok ? refused!.error.message : "", /disk is full/);
      // In KV (not acknowledged, wholly present), not yet searchable.
      assert.equal((await shard.get("books", "b"))?.doc.title, "second book");
      assert.deepEqual(await ids(shard, "books", term("title", "second")), []);
      // Writes elsewhere prune the change log meanwhile: the entries the index missed stay.
      assert.ok(
        (await shard.write([{ op: "put", index: "other", id: "o", doc: { n: 1 } }]))[0]?.ok,
      );
      // The next batch catches the index up first, then it holds both.
      assert.ok((await shard.write([put("c", "third")]))[0]?.ok);
      assert.deepEqual(await ids(shard, "books", term("title", "book")), ["a", "b", "c"]);
      await shard.close();
      shard = await Microshard.open({ dir });
      assert.deepEqual(await ids(shard, "books", term("title", "book")), ["a", "b", "c"]);
    } finally {
      await shard.close();
    }
    // A failure the immediate catch-up repairs is acknowledged.
    shard = await Microshard.open({ dir, faults, defaultEngine: engine, pruneEveryEntries: 1 });
    try {
      failures = 1;
      const [outcome] = await shard.write([put("d", "fourth")]);
      assert.equal(outcome?.ok, true);
      assert.deepEqual(await ids(shard, "books", term("title", "fourth")), ["d"]);
    } finally {
      await shard.close();
      await Deno.remove(dir, { recursive: true });
    }
  });
}

const booksV1: Schema = { version: 1, fields: { title: { type: "text" } } };
const booksV2: Schema = {
  version: 2,
  fields: { title: { type: "text" }, tag: { type: "string" }, year: { type: "i64" } },
};

Deno.test("microshard: a carried schema creates the index with its engine; its fields are searchable at ack", async () => {
  await withShard(async (_dir, open) => {
    const shard = await open();
    const [created] = await shard.write(
      [{ op: "put", index: "books", id: "b1", doc: { title: "Rust in Action" } }],
      { schemas: { books: { schema: booksV1, engine: "orama" } } },
    );
    assert.equal(created?.ok, true);
    const [info] = shard.indexes();
    assert.equal(info?.engine, "orama");
    assert.deepEqual(info?.schema, booksV1, "the carried schema, not one planned by the shard");
    assert.deepEqual(await ids(shard, "books", term("title", "rust")), ["b1"]);
    // A newer carried schema with new fields extends the index in the same batch.
    const [extended] = await shard.write(
      [{ op: "put", index: "books", id: "b2", doc: { title: "Go", tag: "lang", year: 2015 } }],
      { schemas: { books: { schema: booksV2, engine: "orama" } } },
    );
    assert.equal(extended?.ok, true);
    assert.deepEqual(shard.indexes()[0]?.schema, booksV2);
    assert.deepEqual(await ids(shard, "books", { kind: "eq", field: "tag", value: "lang" }), [
      "b2",
    ]);
    assert.deepEqual(
      await ids(shard, "books", { kind: "range", field: "year", gte: 2000, lt: 2020 }),
      ["b2"],
    );
  });
});

Deno.test("microshard: an older carried schema does not downgrade the shard's newer one", async () => {
  await withShard(async (_dir, open) => {
    const shard = await open();
    await shard.write(
      [{ op: "put", index: "books", id: "b1", doc: { title: "Zig", tag: "lang", year: 2016 } }],
      { schemas: { books: { schema: booksV2, engine: "fts5" } } },
    );
    const outcomes = await shard.write(
      [
        { op: "put", index: "books", id: "b2", doc: { title: "Old client" } },
        // Fits the shard's own (newer) schema, though not the carried one.
        { op: "put", index: "books", id: "b3", doc: { title: "Newer", tag: "x" } },
      ],
      { schemas: { books: { schema: booksV1, engine: "fts5" } } },
    );
    assert.ok(outcomes.every((outcome) => outcome.ok), JSON.stringify(outcomes));
    assert.deepEqual(shard.indexes()[0]?.schema, booksV2);
    assert.deepEqual(await ids(shard, "books", { kind: "eq", field: "tag", value: "x" }), ["b3"]);
    await shard.close();
    const reopened = await open();
    assert.deepEqual(reopened.indexes()[0]?.schema, booksV2, "the KV metadata kept v2 too");
  });
});

Deno.test("microshard: a document that does not fit the carried schema fails with AssertionError and writes nothing", async () => {
  await withShard(async (_dir, open) => {
    const shard = await open();
    const carried = { schemas: { books: { schema: booksV1, engine: "fts5" as const } } };
    // Alone: nothing is written, not even the index.
    const [alone] = await shard.write(
      [{ op: "put", index: "books", id: "b1", doc: { title: "x", pages: 10 } }],
      carried,
    );
    assert.equal(!alone?.ok && alone?.error.name, "AssertionError");
    assert.match(!alone?.ok ? alone!.error.message : "", /"pages" \(i64\) is not in the schema/);
    assert.deepEqual(shard.indexes(), []);
    const seq = shard.seq;
    // Beside a fitting document: only the misfit fails; the shard evolves nothing.
    const outcomes = await shard.write([
      { op: "put", index: "books", id: "b2", doc: { title: "fits" } },
      { op: "put", index: "books", id: "b3", doc: { title: 42 } },
    ], carried);
    assert.equal(outcomes[0]?.ok, true);
    assert.equal(!outcomes[1]?.ok && outcomes[1]?.error.name, "AssertionError");
    assert.match(!outcomes[1]?.ok ? outcomes[1]!.error.message : "", /expects text, got 42/);
    assert.equal(shard.seq, seq + 1, "one change committed");
    assert.equal(await shard.get("books", "b1"), undefined);
    assert.equal(await shard.get("books", "b3"), undefined);
    assert.deepEqual(shard.indexes()[0]?.schema, booksV1);
    // Without a carried schema the shard plans and evolves as before.
    const [evolved] = await shard.write([
      { op: "put", index: "books", id: "b1", doc: { title: "x", pages: 10 } },
    ]);
    assert.equal(evolved?.ok, true);
    assert.equal(shard.indexes()[0]?.schema.fields.pages?.type, "i64");
  });
});
