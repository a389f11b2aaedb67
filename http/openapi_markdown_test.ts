import assert from "node:assert/strict";
import { currentSpec, HTTP_API_DOC, openApiMarkdown, typeOf } from "./openapi_markdown.ts";

Deno.test("typeOf() writes a JSON Schema as a short type", () => {
  assert.equal(
    typeOf({
      type: "object",
      required: ["id"],
      properties: {
        id: { type: "string" },
        tags: { type: "array", items: { oneOf: [{ type: "string" }, { type: "integer" }] } },
        order: { enum: ["asc", "desc"] },
      },
    }),
    '{id: string, tags?: (string | integer)[], order?: "asc" | "desc"}',
  );
});

Deno.test("docs/http-api.md is what the route table says (run deno task docs:http-api)", async () => {
  const written = await Deno.readTextFile(HTTP_API_DOC);
  const expected = openApiMarkdown(await currentSpec());
  assert.ok(written === expected, "docs/http-api.md is out of date: run deno task docs:http-api");
  assert.match(written, /### `POST \/api\/\{index\}\/search`/);
});
