/**
 * `/openapi.json` of a real server: a standard validator accepts it, a real answer of every
 * operation conforms to its response schema (Ajv, JSON Schema 2020-12), and property-based requests
 * (fast-check) get no 500 and only answers that conform: the schema or the error shape.
 */
import assert from "node:assert/strict";
import { Validator } from "@seriousme/openapi-schema-validator";
import { Ajv2020 } from "ajv/dist/2020.js";
import fc from "fast-check";
import { startServerProcess } from "../testing/server_process.ts";

type Spec = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: { Error: object } };
};
type Operation = {
  operationId: string;
  parameters?: Array<{ name: string; in: string; required: boolean }>;
  requestBody?: { content: Record<string, { example?: unknown }> };
  responses: Record<string, { content: Record<string, { schema: object }> }>;
};

const PATH_VALUES: Record<string, string> = { index: "books", id: "b1", file: "console.js" };
/** Writes first, deletes last, so every read finds something. */
const ORDER = ["put /api/{index}/_config", "put /api/{index}/document"];
const LAST = ["delete /api/{index}/document", "delete /api/{index}"];

/** Membership changes need a cluster: a single node answers them 409 (with the error shape). */
const REFUSED_WITHOUT_CLUSTER = new Set([
  "delete /_cluster/nodes/{node_id}",
  "post /_cluster/nodes/{node_id}/_leave",
]);

function rank(key: string): number {
  if (ORDER.includes(key)) return ORDER.indexOf(key) - 10;
  if (LAST.includes(key)) return LAST.indexOf(key) + 10;
  return 0;
}

function checker(spec: Spec) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  const error = ajv.compile(spec.components.schemas.Error);
  return {
    /** Asserts `body` conforms to the operation's answer for `status`. */
    conforms(operation: Operation, status: number, type: string, text: string) {
      if (status !== 200) {
        assert.ok(error(JSON.parse(text)), `${operation.operationId} ${status}: ${text}`);
        return;
      }
      const content = operation.responses["200"]!.content;
      const [declared, { schema }] = Object.entries(content)[0]!;
      assert.ok(type.startsWith(declared), `${operation.operationId}: ${type} is not ${declared}`);
      const validate = ajv.compile(schema);
      const values = declared === "application/json"
        ? [JSON.parse(text)]
        : declared === "application/x-ndjson"
        ? text.split("\n").filter((line) => line !== "").map((line) => JSON.parse(line))
        : [text];
      for (const value of values) {
        assert.ok(
          validate(value),
          `${operation.operationId}: ${JSON.stringify(validate.errors)} in ${
            JSON.stringify(value)
          }`,
        );
      }
    },
  };
}

function requestFor(base: string, path: string, method: string, operation: Operation) {
  let url = path.replace(/\{(\w+)\}/g, (_, name) => PATH_VALUES[name] ?? name);
  const query = (operation.parameters ?? []).filter((p) => p.in === "query" && p.required);
  if (query.length > 0) url += `?${query.map((p) => `${p.name}=${PATH_VALUES[p.name]}`).join("&")}`;
  const body = Object.entries(operation.requestBody?.content ?? {})[0];
  return new Request(`${base}${url}`, {
    method: method.toUpperCase(),
    ...(body === undefined ? {} : {
      headers: { "content-type": body[0] },
      body: typeof body[1].example === "string" ? body[1].example : JSON.stringify(body[1].example),
    }),
  });
}

Deno.test({
  name: "/openapi.json is valid OpenAPI 3.1, and real answers of every operation conform to it",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const server = await startServerProcess({ dataDir: `${dir}/data` });
    try {
      const spec = await (await fetch(`${server.url}/openapi.json`)).json() as Spec;
      const validator = new Validator();
      const result = await validator.validate(spec);
      assert.equal(result.valid, true, JSON.stringify(result.errors));
      assert.equal((spec as unknown as { openapi: string }).openapi, "3.1.0");

      const { conforms } = checker(spec);
      const operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ path, method, operation }))
      ).sort((a, b) => rank(`${a.method} ${a.path}`) - rank(`${b.method} ${b.path}`));
      assert.ok(operations.length >= 18, `only ${operations.length} operations`);
      for (const { path, method, operation } of operations) {
        const response = await fetch(requestFor(server.url, path, method, operation));
        const text = await response.text();
        const expected = REFUSED_WITHOUT_CLUSTER.has(`${method} ${path}`) ? 409 : 200;
        assert.equal(response.status, expected, `${method} ${path}: ${text}`);
        conforms(operation, expected, response.headers.get("content-type") ?? "", text);
      }
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});

Deno.test({
  name: "property-based requests to every operation get no 500, only answers that conform",
  sanitizeResources: false,
  async fn() {
    const dir = await Deno.makeTempDir();
    const server = await startServerProcess({ dataDir: `${dir}/data` });
    try {
      const spec = await (await fetch(`${server.url}/openapi.json`)).json() as Spec;
      const { conforms } = checker(spec);
      const operations = Object.entries(spec.paths).flatMap(([path, methods]) =>
        Object.entries(methods).map(([method, operation]) => ({ path, method, operation }))
      );
      const segment = fc.oneof(
        fc.constantFrom("books", "b1", "_x", "A", "-a", "%", "%E0%A4%A", "a".repeat(70)),
        fc.stringMatching(/^[a-z0-9_-]{1,12}$/),
        fc.string({ maxLength: 8 }).map(encodeURIComponent),
      );
      const body = fc.oneof(
        fc.json({ maxDepth: 3 }),
        fc.jsonValue({ maxDepth: 3 }).map((value) => JSON.stringify({ query: "*", extra: value })),
        fc.record({ query: fc.string({ maxLength: 20 }), limit: fc.integer() }).map((v) =>
          JSON.stringify(v)
        ),
        fc.constantFrom("", "{", "[1,2", '{"id":"x","doc":{"_r":1}}', "\u0000"),
      );
      const type = fc.constantFrom(
        "application/json",
        "application/x-ndjson",
        "text/plain",
        undefined,
      );
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...operations),
          fc.dictionary(fc.constantFrom("index", "id", "file"), segment),
          body,
          type,
          async ({ path, method, operation }, values, text, contentType) => {
            if (method === "delete" && path === "/api/{index}") return; // keep the data
            const url = path.replace(/\{(\w+)\}/g, (_, name) => values[name] ?? "books");
            const response = await fetch(`${server.url}${url}?id=${values.id ?? "b1"}`, {
              method: method.toUpperCase(),
              ...(method === "get" || method === "delete" ? {} : {
                body: text,
                headers: contentType === undefined ? {} : { "content-type": contentType },
              }),
            });
            const answer = await response.text();
            assert.notEqual(response.status, 500, `${method} ${url}: ${answer}`);
            const documented = response.status === 200 || response.status >= 400;
            assert.ok(documented, `${method} ${url}: ${response.status}`);
            conforms(
              operation,
              response.status,
              response.headers.get("content-type") ?? "",
              answer,
            );
          },
        ),
        { numRuns: 300 },
      );
    } finally {
      await server.stop();
      await Deno.remove(dir, { recursive: true });
    }
  },
});
