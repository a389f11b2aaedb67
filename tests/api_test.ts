/**
 * The HTTP API end to end: a real `cameodb serve` process on a free loopback port, used the
 * way a client would, including bad input (which must leave the data untouched) and a
 * restart.
 */
import assert from "node:assert/strict";
import { startServerProcess } from "../testing/server_process.ts";

async function call(
  base: string,
  method: string,
  path: string,
  body?: unknown,
  headers: Record<string, string> = {},
) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers: body === undefined ? headers : { "content-type": "application/json", ...headers },
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text === "" ? null : JSON.parse(text),
  };
}

Deno.test({
  name:
    "api: documents, bulk, config, search, indexes and deletion over HTTP; data survives a restart",
  sanitizeResources: false,
  async fn() {
    const dataDir = await Deno.makeTempDir();
    const env = {
      CAMEODB_NETWORK_HTTP_MAX_BODY_SIZE_MB: "1",
      CAMEODB_STORAGE_NUM_SHARDS_INIT: "3",
    };
    let server = await startServerProcess({ dataDir, env });
    try {
      const base = server.url;
      const config = await call(base, "PUT", "/api/books/_config", {
        fields: [{ name: "status", type: "string" }],
      });
      assert.equal(config.status, 200);
      assert.deepEqual(config.body, {
        acknowledged: true,
        index: "books",
        shard_count: 3,
        field_names: ["status"],
      });

      const created = await call(base, "PUT", "/api/books/document", {
        id: "b1",
        doc: { title: "Rust Programming", year: 2019, status: "active", tags: ["rust"] },
      });
      assert.equal(created.status, 200);
      assert.equal(created.body.result, "created");
      assert.equal(created.body.version, 1);
      assert.equal(typeof created.body.shard_id, "number");
      const updated = await call(base, "PUT", "/api/books/document", {
        id: "b1",
        doc: { title: "Rust Programming", year: 2021, status: "active", tags: ["rust"] },
      });
      assert.deepEqual([updated.body.result, updated.body.version], ["updated", 2]);

      const bulk = await call(base, "POST", "/api/books/_bulk", [
        { id: "b2", doc: { title: "Go in Action", year: 2016, status: "active", tags: ["go"] } },
        {
          id: "b3",
          doc: { title: "Rustacean Handbook", year: 2024, status: "draft", tags: ["rust"] },
        },
        { id: "b4", doc: { title: "Bad", year: "twenty" } },
        { id: "", doc: { title: "no id" } },
      ]);
      assert.equal(bulk.status, 200);
      assert.equal(bulk.body.items_written, 2);
      assert.equal(bulk.body.items_received, 4);
      assert.deepEqual(bulk.body.errors.map((e: { item: number }) => e.item), [2, 3]);
      assert.match(bulk.body.errors[0].error, /field "year" expects i64, got "twenty"/);

      const got = await call(base, "GET", "/api/books/document/b1");
      assert.deepEqual(got.body, {
        id: "b1",
        version: 2,
        doc: { title: "Rust Programming", year: 2021, status: "active", tags: ["rust"] },
      });

      const search = await call(base, "POST", "/api/books/search", {
        query: "title:rust* sort year:desc",
        facets: { status: {} },
      });
      assert.equal(search.status, 200);
      assert.deepEqual(search.body.hits.map((hit: { id: string }) => hit.id), ["b3", "b1"]);
      assert.equal(search.body.total_hits, 2);
      assert.equal(search.body.total_shards, 3);
      assert.deepEqual(search.body.facets.status.buckets, [{ value: "active", count: 1 }, {
        value: "draft",
        count: 1,
      }]);

      const configShown = await call(base, "GET", "/api/books/_config");
      assert.equal(configShown.body.name, "books");
      assert.match(configShown.body.thumbprint, /^[0-9a-f]{16}$/);
      assert.ok(
        configShown.body.fields.some((f: { name: string; type: string }) =>
          f.name === "year" && f.type === "i64"
        ),
      );

      const listed = await call(base, "GET", "/_indexes");
      assert.equal(listed.body.total_indexes, 1);
      assert.equal(listed.body.indexes[0].document_count, 3);

      // Bad input: a clear 4xx, and nothing changes.
      const cases: Array<[string, string, unknown, Record<string, string>, number, RegExp]> = [
        ["PUT", "/api/books/document", '{"id": "b1", "doc": ', {}, 400, /not valid JSON/],
        [
          "PUT",
          "/api/books/document",
          "id=b1",
          { "content-type": "text/plain" },
          415,
          /application\/json/,
        ],
        [
          "PUT",
          "/api/books/document",
          { id: "b1", doc: { year: "x" } },
          {},
          400,
          /field "year" expects i64/,
        ],
        ["PUT", "/api/books/document", { id: "b1", doc: { _id: 1 } }, {}, 400, /reserved/],
        ["PUT", "/api/Bad/document", { id: "x", doc: {} }, {}, 400, /Invalid index name/],
        [
          "PUT",
          "/api/books/document",
          { id: "big", doc: { body: "x".repeat(2 * 1024 * 1024) } },
          {},
          413,
          /at most 1048576/,
        ],
        ["POST", "/api/books/search", { query: "title:(rust" }, {}, 400, /position/],
        ["POST", "/api/books/search", { query: "nosuch:x" }, {}, 400, /Unknown field "nosuch"/],
        [
          "POST",
          "/api/books/search",
          { query: "*", limit: -1 },
          {},
          400,
          /"limit" must be a non-negative integer/,
        ],
        ["POST", "/api/nosuch/search", { query: "*" }, {}, 404, /"nosuch" does not exist/],
        ["GET", "/api/books/document/nope", undefined, {}, 404, /"nope" does not exist/],
        ["PATCH", "/api/books/document", undefined, {}, 405, /PATCH/],
      ];
      for (const [method, path, body, headers, status, details] of cases) {
        const response = await fetch(`${base}${path}`, {
          method,
          headers: { "content-type": "application/json", ...headers },
          ...(body === undefined
            ? {}
            : { body: typeof body === "string" ? body : JSON.stringify(body) }),
        });
        const answer = await response.json();
        assert.equal(response.status, status, `${method} ${path}: ${JSON.stringify(answer)}`);
        assert.deepEqual(Object.keys(answer).sort(), ["details", "error"]);
        assert.match(answer.details, details, `${method} ${path}`);
      }
      assert.deepEqual(
        (await call(base, "GET", "/api/books/document/b1")).body.version,
        2,
        "bad input changed nothing",
      );

      const deleted = await call(base, "DELETE", "/api/books/document?id=b2");
      assert.equal(deleted.body.result, "deleted");
      const bulkDeleted = await call(base, "POST", "/api/books/_bulk/delete", ["b3", {
        id: "missing",
      }]);
      assert.deepEqual([bulkDeleted.body.items_received, bulkDeleted.body.items_deleted], [2, 1]);

      // Restart: the data is still there.
      assert.equal((await server.stop("SIGTERM")).code, 0);
      server = await startServerProcess({ dataDir, env });
      const after = await call(server.url, "POST", "/api/books/search", { query: "*" });
      assert.deepEqual(after.body.hits.map((hit: { id: string }) => hit.id), ["b1"]);
      const dropped = await call(server.url, "DELETE", "/api/books");
      assert.deepEqual(dropped.body, {
        success: true,
        index: "books",
        deleted_from_shards: 3,
        total_shards: 3,
      });
      assert.equal((await call(server.url, "GET", "/_indexes")).body.total_indexes, 0);
    } finally {
      await server.stop();
      await Deno.remove(dataDir, { recursive: true });
    }
  },
});
