/**
 * A search request as the client sends it (`POST /api/{index}/search`), checked for shape
 * once, at the edge: known keys, a query string, non-negative integer limits, sort and field
 * lists of the right form. What needs the index's schema (fields, types, facets) is checked
 * when the request is compiled (`compileSearch`).
 *
 * @module
 */

import { InvalidInputError } from "../storage/errors.ts";

/** A sort key as the client gives it; `order` is checked against the schema later. */
export interface SortInput {
  readonly field: string;
  readonly order: string;
}

/** The body of a search request, checked for shape. */
export interface SearchRequest {
  readonly query: string;
  readonly limit?: number;
  readonly offset?: number;
  readonly fields?: readonly string[];
  readonly sort?: readonly SortInput[];
  /** Facet specs by field, checked against the schema at compile time. */
  readonly facets?: unknown;
  /** `{fields, pre_tag?, post_tag?, fragment_size?, encoder?}`, checked at compile time. */
  readonly highlight?: unknown;
}

const KEYS = ["query", "limit", "offset", "fields", "sort", "facets", "highlight"];

function integer(name: string, value: unknown): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value < 0) {
    throw new InvalidInputError(
      `"${name}" must be a non-negative integer, got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

function sortList(value: unknown): SortInput[] {
  const list = Array.isArray(value) ? value : [value];
  return list.map((item: unknown) => {
    const spec = item as { field?: unknown; order?: unknown };
    if (typeof item !== "object" || item === null || typeof spec.field !== "string") {
      throw new InvalidInputError(
        `"sort" takes {"field": "...", "order": "asc" | "desc"} or an array of them`,
      );
    }
    return { field: spec.field, order: spec.order === undefined ? "asc" : String(spec.order) };
  });
}

/**
 * Checks the shape of a search body; throws {@linkcode InvalidInputError} naming the key.
 *
 * @example
 * ```ts
 * import { parseSearchRequest } from "./request.ts";
 * const request = parseSearchRequest({ query: "rust", limit: 5 });
 * if (request.limit !== 5) throw new Error("parsed");
 * ```
 */
export function parseSearchRequest(body: unknown): SearchRequest {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new InvalidInputError(`A search request is a JSON object with a "query" string`);
  }
  const input = body as Record<string, unknown>;
  for (const key of Object.keys(input)) {
    if (!KEYS.includes(key)) throw new InvalidInputError(`Unknown search parameter "${key}"`);
  }
  if (typeof input.query !== "string") {
    throw new InvalidInputError(
      `"query" must be a string, got ${JSON.stringify(input.query ?? null)}`,
    );
  }
  if (
    input.fields !== undefined &&
    (!Array.isArray(input.fields) || !input.fields.every((field) => typeof field === "string"))
  ) {
    throw new InvalidInputError(`"fields" must be an array of field names`);
  }
  return {
    query: input.query,
    ...(input.limit === undefined ? {} : { limit: integer("limit", input.limit) }),
    ...(input.offset === undefined ? {} : { offset: integer("offset", input.offset) }),
    ...(input.fields === undefined ? {} : { fields: input.fields as string[] }),
    ...(input.sort === undefined ? {} : { sort: sortList(input.sort) }),
    ...(input.facets === undefined ? {} : { facets: input.facets }),
    ...(input.highlight === undefined ? {} : { highlight: input.highlight }),
  };
}
