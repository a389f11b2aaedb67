import { slotOf } from "./slot.ts";
import assert from "node:assert/strict";
import type { WriteRequest } from "./_shard_types.ts";
import {
  BLOB_CHUNKS_PER_ATOMIC,
  changeOutcome,
  documentKey,
  refuseOverMemory,
  stageChanges,
  validateRequests,
  withoutFailures,
} from "./_write_plan.ts";
import { checkCarried, evolveIndex, planIndexes } from "./_index_plan.ts";
import { CHUNK_BYTES, type IndexMeta, INLINE_MAX_BYTES, keys } from "./kv_layout.ts";
import type { Schema } from "./schema.ts";

const v1: Schema = { version: 1, fields: { title: { type: "text" } } };
const v2: Schema = { version: 2, fields: { title: { type: "text" }, n: { type: "i64" } } };
const books: IndexMeta = { name: "books", engine: "fts5", schema: v1 };

const put = (id: string, doc: unknown, index = "books"): WriteRequest => ({
  op: "put",
  index,
  id,
  doc,
});
const del = (id: string, index = "books"): WriteRequest => ({ op: "delete", index, id });

Deno.test("write plan: validation groups valid requests per index and refuses the others", () => {
  const requests = [put("a", { t: 1 }), put("", {}), put("b", {}, "Bad"), del("c", "other")];
  const valid = validateRequests(requests, { maxDocumentBytes: 100 });
  assert.deepEqual([...valid.groups], [["books", [0]], ["other", [3]]]);
  assert.deepEqual([...valid.bodies.keys()], [0]);
  assert.deepEqual(valid.failures.map((f) => [f.request, f.error.name]), [
    [1, "InvalidInputError"],
    [2, "InvalidInputError"],
  ]);
  const big = validateRequests([put("a", { t: "x".repeat(200) })], { maxDocumentBytes: 100 });
  assert.equal(big.failures[0]?.error.name, "DocumentTooLargeError");
  assert.deepEqual(
    withoutFailures(valid.groups, [{ request: 3, error: new Error() }]),
    new Map([["books", [0]]]),
  );
});

Deno.test("write plan: puts are refused once the memory limit is passed, deletes are not", () => {
  const bodies = new Map([[0, new Uint8Array(1)], [2, new Uint8Array(1)]]);
  assert.deepEqual(refuseOverMemory(bodies, { usedBytes: 10, limitBytes: undefined }), []);
  assert.deepEqual(refuseOverMemory(bodies, { usedBytes: 10, limitBytes: 10 }), []);
  const refused = refuseOverMemory(bodies, { usedBytes: 11, limitBytes: 10 });
  assert.deepEqual(refused.map((f) => [f.request, f.error.name]), [
    [0, "MemoryLimitError"],
    [2, "MemoryLimitError"],
  ]);
});

Deno.test("write plan: without a carried schema the index is evolved once, refusals add nothing", () => {
  const requests = [put("a", { title: "x", n: 1 }), put("b", { title: 7 }), put("c", { m: true })];
  const input = {
    requests,
    groups: new Map([["books", [0, 1, 2]]]),
    current: () => books,
    defaultEngine: "fts5" as const,
  };
  const planned = evolveIndex(input, "books", [0, 1, 2]);
  assert.deepEqual(planned.meta?.schema, {
    version: 2,
    fields: { title: { type: "text" }, n: { type: "i64" }, m: { type: "boolean" } },
  });
  assert.deepEqual(planned.failures.map((f) => [f.request, f.error.name]), [
    [1, "InvalidInputError"],
  ]);
  // Nothing new: the current metadata object itself (no commit needed).
  const fitting = { ...input, requests: [put("a", { title: "fits v1" })] };
  assert.equal(evolveIndex(fitting, "books", [0]).meta, books);
  // A missing index with only deletes is not created.
  const missing = { ...input, requests: [del("a")], current: () => undefined };
  assert.deepEqual(evolveIndex(missing, "books", [0]), { failures: [] });
});

Deno.test("write plan: a carried schema is adopted when newer, the shard's kept when newer, and only checked", () => {
  const requests = [put("a", { title: "x", n: 1 }), put("b", { title: "y", extra: "z" }), del("c")];
  const input = {
    requests,
    groups: new Map([["books", [0, 1, 2]]]),
    current: (): IndexMeta | undefined => books,
    defaultEngine: "fts5" as const,
  };
  const adopted = checkCarried(input, "books", [0, 1, 2], { schema: v2, engine: "orama" });
  assert.deepEqual(adopted.meta, { ...books, schema: v2 }, "the engine of an existing index stays");
  assert.deepEqual(adopted.failures.map((f) => [f.request, f.error.name]), [[1, "AssertionError"]]);
  assert.match(adopted.failures[0]!.error.message, /"extra" \(text\) is not in the schema/);
  const newer = { ...input, current: (): IndexMeta => ({ ...books, schema: v2 }) };
  const kept = checkCarried(newer, "books", [0], { schema: v1, engine: "fts5" });
  assert.deepEqual(kept.meta?.schema, v2);
  assert.deepEqual(kept.failures, []);
  const created = checkCarried(
    { ...input, current: () => undefined },
    "books",
    [0],
    { schema: v2, engine: "orama" },
  );
  assert.deepEqual(created.meta, { name: "books", engine: "orama", schema: v2 });
  const allMisfit = checkCarried({ ...input, current: () => undefined }, "books", [1], {
    schema: v2,
    engine: "fts5",
  });
  assert.equal(allMisfit.meta, undefined, "nothing is created when every write fails");
  // planIndexes routes per index: carried → checked, the others → evolved.
  const both = planIndexes({
    requests: [put("a", { title: "x", n: 1 }), put("b", { q: 1 }, "other")],
    groups: new Map([["books", [0]], ["other", [1]]]),
    current: () => undefined,
    defaultEngine: "fts5",
    schemas: { books: { schema: v2, engine: "fts5" } },
  });
  assert.deepEqual(both.metas.get("books")?.schema, v2);
  assert.deepEqual(both.metas.get("other")?.schema.fields, { q: { type: "i64" } });
});

Deno.test("write plan: staging gives sequence numbers and versions in request order", () => {
  const requests = [put("a", { title: "one" }), put("a", { title: "two" }), del("a"), del("z")];
  const bodies = validateRequests(requests, { maxDocumentBytes: 1_000 }).bodies;
  const staged = stageChanges({
    requests,
    groups: new Map([["books", [0, 1, 2, 3]]]),
    metas: new Map([["books", books]]),
    bodies,
    headers: new Map([[documentKey("books", "a"), { version: 4, seq: 9, body: new Uint8Array() }]]),
    seq: 10,
  });
  assert.deepEqual(staged.changes.map((c) => [c.request, c.seq, c.version]), [
    [0, 11, 5],
    [1, 12, 6],
    [2, 13, 7],
  ]);
  assert.deepEqual(staged.notFound, [3]);
  assert.deepEqual(staged.changes.map((c) => changeOutcome(c)), [
    { ok: true, id: "a", result: "updated", version: 5 },
    { ok: true, id: "a", result: "updated", version: 6 },
    { ok: true, id: "a", result: "deleted", version: 7 },
  ]);
  assert.deepEqual(staged.changes[0]!.mutations.map((m) => [m.type, m.key]), [
    ["set", keys.doc("books", "a")],
    ["set", keys.slot("books", slotOf("a"), "a")],
    ["set", keys.log(11)],
  ]);
  assert.equal(staged.changes[0]!.header?.slot, slotOf("a"));
  assert.deepEqual(staged.changes[2]!.mutations.map((m) => [m.type, m.key]), [
    ["delete", keys.doc("books", "a")],
    ["delete", keys.slot("books", slotOf("a"), "a")],
    ["set", keys.tomb("books", "a")],
    ["set", keys.tombSlot("books", slotOf("a"), "a")],
    ["set", keys.log(13)],
  ]);
  // Each change is stamped after the one before it.
  const stamps = staged.changes.map((c) => c.stamp);
  assert.ok(stamps[0]! < stamps[1]! && stamps[1]! < stamps[2]!);
  assert.equal(staged.changes[2]!.tombstone?.stamp, stamps[2]);
});

Deno.test("write plan: a large document is staged as pending blob chunks; its replacement marks it garbage", () => {
  const text = "x".repeat(INLINE_MAX_BYTES + CHUNK_BYTES * BLOB_CHUNKS_PER_ATOMIC);
  const requests = [put("big", { title: text }), put("big", { title: "small" })];
  const staged = stageChanges({
    requests,
    groups: new Map([["books", [0, 1]]]),
    metas: new Map([["books", books]]),
    bodies: validateRequests(requests, { maxDocumentBytes: 10_000_000 }).bodies,
    headers: new Map(),
    seq: 0,
    newBlobId: () => "blob-1",
  });
  const [first, second] = staged.changes;
  const chunks = first!.header!.blob!.chunks;
  assert.equal(chunks, BLOB_CHUNKS_PER_ATOMIC + 2);
  assert.deepEqual(first!.blobWrites.map((group) => group.length), [
    BLOB_CHUNKS_PER_ATOMIC + 1, // with the pending mark
    2,
  ]);
  assert.deepEqual(first!.blobWrites[0]!.at(-1)?.key, keys.pending("blob-1"));
  assert.deepEqual(first!.mutations[0], { type: "delete", key: keys.pending("blob-1") });
  assert.deepEqual(second!.garbageBlob, { id: "blob-1", chunks });
  assert.deepEqual(second!.mutations.at(-1)?.key, keys.garbage("blob-1"));
});
