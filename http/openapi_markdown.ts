/**
 * `docs/http-api.md`, the HTTP API reference, written from the OpenAPI description (so it says what
 * the route table says). Run `deno task docs:http-api` after changing a route;
 * `openapi_markdown_test.ts` fails while the file is out of date.
 *
 * @module
 */

import { createHandler } from "./handler.ts";
import type { Database } from "../node/database.ts";
import type { JsonSchema } from "./openapi.ts";

type Operation = {
  summary: string;
  parameters?: Array<{ name: string; in: string; required: boolean; description: string }>;
  requestBody?: { content: Record<string, { schema: JsonSchema; example?: unknown }> };
  responses: Record<
    string,
    { description: string; content?: Record<string, { schema: JsonSchema }> }
  >;
};

/** A JSON Schema as a short TypeScript-like type: `{id: string, doc?: object}`. */
export function typeOf(schema: JsonSchema): string {
  if (Array.isArray(schema.enum)) return schema.enum.map((v) => JSON.stringify(v)).join(" | ");
  if (Array.isArray(schema.oneOf)) return (schema.oneOf as JsonSchema[]).map(typeOf).join(" | ");
  if (typeof schema.$ref === "string") return schema.$ref.split("/").at(-1)!;
  if (schema.type === "array") return `${wrap(typeOf(schema.items as JsonSchema))}[]`;
  if (schema.type === "object" && schema.properties !== undefined) {
    const required = new Set(schema.required as string[] ?? []);
    const fields = Object.entries(schema.properties as Record<string, JsonSchema>).map(
      ([name, value]) => `${name}${required.has(name) ? "" : "?"}: ${typeOf(value)}`,
    );
    return `{${fields.join(", ")}${schema.additionalProperties === true ? ", …" : ""}}`;
  }
  if (schema.type === "object" && typeof schema.additionalProperties === "object") {
    return `{[name]: ${typeOf(schema.additionalProperties as JsonSchema)}}`;
  }
  return typeof schema.type === "string" ? schema.type : "any";
}

function wrap(type: string): string {
  return type.includes("|") ? `(${type})` : type;
}

function section(method: string, path: string, operation: Operation): string[] {
  const lines = [`### \`${method.toUpperCase()} ${path}\``, "", `${operation.summary}.`, ""];
  for (const p of operation.parameters ?? []) {
    lines.push(`- ${p.in} \`${p.name}\`${p.required ? "" : " (optional)"}: ${p.description}`);
  }
  if ((operation.parameters ?? []).length > 0) lines.push("");
  const [type, body] = Object.entries(operation.requestBody?.content ?? {})[0] ?? [];
  if (type !== undefined && body !== undefined) {
    lines.push(`Body (\`${type}\`): \`${typeOf(body.schema)}\``, "");
    if (body.example !== undefined) {
      const example = typeof body.example === "string"
        ? body.example.trimEnd()
        : JSON.stringify(body.example);
      lines.push("```json", example, "```", "");
    }
  }
  const [answerType, answer] = Object.entries(operation.responses["200"]?.content ?? {})[0] ?? [];
  if (answerType !== undefined && answer !== undefined) {
    lines.push(`Answer (\`${answerType}\`): \`${typeOf(answer.schema)}\``, "");
  }
  const errors = Object.keys(operation.responses).filter((status) => status !== "200");
  lines.push(`Errors: ${errors.join(", ")} (\`{error, details}\`).`, "");
  return lines;
}

/** The reference of an OpenAPI document, as Markdown. */
export function openApiMarkdown(
  spec: { info: { version: string }; paths: Record<string, Record<string, Operation>> },
): string {
  const lines = [
    "# HTTP API reference",
    "",
    `CameoDB ${spec.info.version}. Written by \`deno task docs:http-api\` from \`/openapi.json\`, ` +
    "which the server generates from its route table. Every error answer is " +
    '`{"error": "...", "details": "..."}`; a 503 carries `Retry-After`.',
    "",
  ];
  for (const [path, methods] of Object.entries(spec.paths)) {
    for (const [method, operation] of Object.entries(methods)) {
      lines.push(...section(method, path, operation));
    }
  }
  return lines.join("\n");
}

/** The OpenAPI document of the full route table (the database is never called). */
export async function currentSpec(): Promise<Parameters<typeof openApiMarkdown>[0]> {
  const handler = createHandler({
    health: () => {
      throw new Error("not called");
    },
    database: { shardCount: 0 } as unknown as Database,
    metrics: () => Promise.resolve(""),
  });
  return await (await handler(new Request("http://localhost/openapi.json"))).json();
}

/** Where the reference lives. */
export const HTTP_API_DOC = new URL("../docs/http-api.md", import.meta.url);

if (import.meta.main) {
  await Deno.writeTextFile(HTTP_API_DOC, openApiMarkdown(await currentSpec()));
  console.log(`wrote ${HTTP_API_DOC.pathname}`);
}
