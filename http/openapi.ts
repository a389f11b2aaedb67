/**
 * The OpenAPI 3.1 description of the HTTP API, generated from the route table: every route that
 * carries a {@linkcode RouteDoc} (its summary, parameters, request and answer schemas) becomes an
 * operation; `:name` path parts become `{name}` parameters; every operation documents the one
 * error shape.
 *
 * @module
 */

import type { Route } from "./router.ts";

/** A JSON Schema (2020-12), as plain data. */
export type JsonSchema = { [key: string]: unknown };

/** A path or query parameter. */
export interface ParameterDoc {
  /** Its name. */
  name: string;
  /** What it is. */
  description: string;
  /** Whether it must be given (path parameters always are). */
  required?: boolean;
}

/** What the description says of one route. */
export interface RouteDoc {
  /** One line: what the route does. */
  summary: string;
  /** Groups in the description. */
  tags?: string[];
  /** The path's parameters, in order. */
  params?: ParameterDoc[];
  /** The query's parameters. */
  query?: ParameterDoc[];
  /** The body: its content type (default JSON), schema (for NDJSON: of one line), an example. */
  request?: { contentType?: string; schema: JsonSchema; example?: unknown };
  /** The 200 answer: content type (default JSON) and schema (for NDJSON: of one line). */
  response: { contentType?: string; schema: JsonSchema };
  /** The error statuses it answers besides 500. */
  errors?: number[];
  /** When it may answer 202 (not finished yet) with the same schema as the 200 answer: why. */
  accepted?: string;
}

const STATUS_TEXT: Record<number, string> = {
  400: "Bad request: malformed or invalid input",
  401: "No valid API key",
  403: "The key may not do this",
  404: "No such index or document",
  405: "Another method is expected",
  408: "The request took too long",
  413: "The body is too large",
  415: "The body has the wrong content type",
  500: "Unexpected failure (details masked)",
  503: "Overloaded or a node is down; retry after Retry-After",
  507: "The disk is full",
};

/** The OpenAPI path of a `URLPattern` pathname: `/api/:index` → `/api/{index}`. */
export function openApiPath(pathname: string): string {
  return pathname.replace(/:([A-Za-z_][A-Za-z0-9_]*)/g, "{$1}");
}

function operation(route: Route, doc: RouteDoc): Record<string, unknown> {
  const parameters = [
    ...(doc.params ?? []).map((p) => ({
      name: p.name,
      in: "path",
      required: true,
      description: p.description,
      schema: { type: "string" },
    })),
    ...(doc.query ?? []).map((p) => ({
      name: p.name,
      in: "query",
      required: p.required === true,
      description: p.description,
      schema: { type: "string" },
    })),
  ];
  const errors = [...new Set([...(doc.errors ?? []), 500])].sort();
  return {
    operationId: `${route.method.toLowerCase()}${openApiPath(route.pattern.pathname)}`,
    summary: doc.summary,
    ...(doc.tags === undefined ? {} : { tags: doc.tags }),
    ...(parameters.length === 0 ? {} : { parameters }),
    ...(doc.request === undefined ? {} : {
      requestBody: {
        required: true,
        content: {
          [doc.request.contentType ?? "application/json"]: {
            schema: doc.request.schema,
            ...(doc.request.example === undefined ? {} : { example: doc.request.example }),
          },
        },
      },
    }),
    responses: {
      "200": {
        description: "Done",
        content: {
          [doc.response.contentType ?? "application/json"]: { schema: doc.response.schema },
        },
      },
      ...(doc.accepted === undefined ? {} : {
        "202": {
          description: doc.accepted,
          content: {
            [doc.response.contentType ?? "application/json"]: { schema: doc.response.schema },
          },
        },
      }),
      ...Object.fromEntries(errors.map((status) => [String(status), {
        description: STATUS_TEXT[status] ?? "Error",
        content: { "application/json": { schema: { $ref: "#/components/schemas/Error" } } },
      }])),
    },
  };
}

/** The OpenAPI 3.1 document of `routes` (those without a doc are left out). */
export function openApiDocument(
  routes: readonly Route[],
  options: { version: string; errorSchema: JsonSchema },
): Record<string, unknown> {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of routes) {
    if (route.doc === undefined) continue;
    const path = openApiPath(route.pattern.pathname);
    paths[path] = { ...paths[path], [route.method.toLowerCase()]: operation(route, route.doc) };
  }
  return {
    openapi: "3.1.0",
    info: {
      title: "CameoDB",
      version: options.version,
      description:
        "Documents, bulk writes, streaming and search over HTTP. Errors are {error, details}.",
    },
    paths,
    components: { schemas: { Error: options.errorSchema } },
  };
}
