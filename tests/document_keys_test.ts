/**
 * Document keys are data, ids are well-formed, declared types are kept: what the issue's
 * reporter sent, against the real server process.
 */
import assert from "node:assert/strict";
import { startServerProcess } from "../testing/server_process.ts";
import { call } from "../testing/http.ts";

// deno-lint-ignore no-explicit-any
type Body = any;

async function withServer(fn: (base: string) => Promise<void>) {
  const dataDir = await Deno.makeTempDir();
  const server = await startServerProcess({ dataDir, env: { CAMEODB_LOG: "error" } });
  try {
    await fn(server.url);
  } finally {
    await server.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
}

for (const engine of ["fts5", "orama"]) {
  Deno.test(`document keys (${engine}): constructor, valueOf and toString are ordinary fields`, async () => {
    await withServer(async (base) => {
      const created = await call(base, "PUT", "/api/keys/_config", { engine });
      assert.equal(created.status, 200, JSON.stringify(created.body));
      await call(base, "PUT", "/api/keys/document", { id: "seed", doc: { title: "seed" } });
      // Before any document has it, a prototype name is an unknown field: 400, not 500.
      const unknown = await call(base, "POST", "/api/keys/search", { query: "constructor:x" });
      assert.equal(unknown.status, 400);
      assert.match((unknown.body as Body).details, /Unknown field "constructor"/);

      const doc = { constructor: "maker", valueOf: 7, toString: ["a", "b"], hasOwnProperty: true };
      const put = await call(base, "PUT", "/api/keys/document", { id: "p1", doc });
      assert.equal(put.status, 200, JSON.stringify(put.body));
      const bulk = await call(base, "POST", "/api/keys/_bulk", [
        { id: "p2", doc: { title: "plain" } },
        { id: "p3", doc: { toString: ["c"], constructor: "other" } },
      ]);
      assert.equal(bulk.status, 200, JSON.stringify(bulk.body));
      assert.equal((bulk.body as Body).items_written, 2);

      const got = await call(base, "GET", "/api/keys/document/p1");
      assert.deepEqual((got.body as Body).doc, doc);
      for (
        const [query, ids] of [["constructor:maker", ["p1"]], ["toString:c", ["p3"]], [
          "valueOf:7",
          [
            "p1",
          ],
        ]] as const
      ) {
        const answer = await call(base, "POST", "/api/keys/search", { query });
        assert.equal(answer.status, 200, `${query}: ${JSON.stringify(answer.body)}`);
        assert.deepEqual((answer.body as Body).hits.map((hit: Body) => hit.id), ids, query);
      }
      const facets = await call(base, "POST", "/api/keys/search", {
        query: "*",
        facets: { hasOwnProperty: {} },
      });
      assert.equal(facets.status, 200, JSON.stringify(facets.body));
      assert.deepEqual((facets.body as Body).facets.hasOwnProperty.buckets, [
        { value: true, count: 1 },
      ]);
      const unknownFacet = await call(base, "POST", "/api/keys/search", {
        query: "*",
        facets: { isPrototypeOf: {} },
      });
      assert.equal(unknownFacet.status, 400);
      assert.match((unknownFacet.body as Body).details, /unknown field "isPrototypeOf"/);
    });
  });
}

Deno.test("document keys: ids with lone surrogates, a field named id, out-of-range integers are 400", async () => {
  await withServer(async (base) => {
    const config = await call(base, "PUT", "/api/typed/_config", {
      fields: [{ name: "count", type: "i64" }],
    });
    assert.equal(config.status, 200);
    await call(base, "PUT", "/api/typed/document", { id: "a", doc: { count: 1 } });
    const before = await call(base, "GET", "/api/typed/_config");

    for (const id of ["\ud800", "x\udc00"]) {
      const answer = await call(base, "PUT", "/api/typed/document", { id, doc: { count: 2 } });
      assert.equal(answer.status, 400, JSON.stringify(answer.body));
      assert.match((answer.body as Body).details, /well-formed Unicode/);
    }
    const byPath = await call(base, "GET", "/api/typed/document/%ED%A0%80");
    assert.equal(byPath.status, 400);
    const fraction = await call(base, "PUT", "/api/typed/document", {
      id: "b",
      doc: { count: 1.5 },
    });
    assert.equal(fraction.status, 400);
    assert.match((fraction.body as Body).details, /field "count" expects i64, got 1\.5/);
    const big = await call(base, "PUT", "/api/typed/document", undefined, {
      raw: '{"id": "c", "doc": {"count": 12345678901234567890}}',
    });
    assert.equal(big.status, 400);
    assert.match((big.body as Body).details, /outside ±\(2\^53 - 1\)/);
    const named = await call(base, "PUT", "/api/typed/document", { id: "d", doc: { id: "d" } });
    assert.equal(named.status, 400);
    assert.match((named.body as Body).details, /field "id" is reserved/);

    assert.deepEqual((await call(base, "GET", "/api/typed/_config")).body, before.body);
    const ids = await call(base, "POST", "/api/typed/search", { query: "*" });
    assert.deepEqual((ids.body as Body).hits.map((hit: Body) => hit.id), ["a"]);
    const byId = await call(base, "POST", "/api/typed/search", { query: "id:a" });
    assert.deepEqual((byId.body as Body).hits.map((hit: Body) => hit.id), ["a"]);
  });
});

Deno.test("document keys: a declared i64 still refuses fractions after a restart", async () => {
  const dataDir = await Deno.makeTempDir();
  try {
    const first = await startServerProcess({ dataDir, env: { CAMEODB_LOG: "error" } });
    await call(first.url, "PUT", "/api/kept/_config", { fields: [{ name: "n", type: "i64" }] });
    // An inferred i64 beside it, which may widen.
    await call(first.url, "PUT", "/api/kept/document", { id: "a", doc: { n: 1, m: 1 } });
    await first.stop();
    const second = await startServerProcess({ dataDir, env: { CAMEODB_LOG: "error" } });
    try {
      const refused = await call(second.url, "PUT", "/api/kept/document", {
        id: "b",
        doc: { n: 2.5 },
      });
      assert.equal(refused.status, 400);
      assert.match((refused.body as Body).details, /field "n" expects i64, got 2\.5/);
      const widened = await call(second.url, "PUT", "/api/kept/document", {
        id: "c",
        doc: { m: 2.5 },
      });
      assert.equal(widened.status, 200, JSON.stringify(widened.body));
      const fields = (await call(second.url, "GET", "/api/kept/_config")).body as Body;
      assert.deepEqual(
        fields.fields.map((field: Body) => [field.name, field.type]),
        [["m", "f64"], ["n", "i64"]],
      );
    } finally {
      await second.stop();
    }
  } finally {
    await Deno.remove(dataDir, { recursive: true });
  }
});
