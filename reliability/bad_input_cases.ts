/**
 * The bad-input catalogue's cases: every kind of malformed request a client can send, each with
 * the statuses it may answer and what its message must say (run by `bad_input.ts`).
 *
 * @module
 */

/** One malformed request and what it must answer. */
export interface BadInputCase {
  name: string;
  method: string;
  path: string;
  /** A JSON value to send, or raw bytes / text. */
  json?: unknown;
  raw?: Uint8Array | string;
  contentType?: string;
  /** Statuses accepted (the first is the one we aim for). */
  status: number[];
  /** What the message must say. */
  message?: RegExp;
}

/** Largest body the catalogue's server accepts (small, so the 413 case is cheap). */
export const MAX_BODY_MB = 20;
/** Longest NDJSON line the catalogue's server accepts. */
export const MAX_LINE_MB = 1;

function nested(depth: number): unknown {
  let value: unknown = "bottom";
  for (let i = 0; i < depth; i++) value = { a: value };
  return value;
}

function manyFields(count: number): Record<string, number> {
  const doc: Record<string, number> = {};
  for (let i = 0; i < count; i++) doc[`f${i}`] = i;
  return doc;
}

/** A `{id, doc}` item, as a client sends it. */
export const put = (id: unknown, doc: unknown) => ({ id, doc });
const search = (body: unknown) => ({ method: "POST", path: "/api/books/search", json: body });

/** The catalogue. Index `books` holds the seed data; nothing may change it. */
export function catalogue(): BadInputCase[] {
  const query = (name: string, q: string, message: RegExp): BadInputCase => ({
    name: `query syntax: ${name} (\`${q}\`)`,
    ...search({ query: q }),
    status: [400],
    message,
  });
  return [
    {
      name: "malformed JSON",
      method: "PUT",
      path: "/api/books/document",
      raw: '{"id": "x", "doc": {',
      status: [400],
      message: /JSON/i,
    },
    {
      name: "wrong content type",
      method: "PUT",
      path: "/api/books/document",
      raw: JSON.stringify(put("x", { title: "t" })),
      contentType: "text/plain",
      status: [415],
      message: /application\/json/,
    },
    {
      name: `body over the limit (${MAX_BODY_MB + 1} MB)`,
      method: "POST",
      path: "/api/books/_bulk",
      raw: "[" + " ".repeat((MAX_BODY_MB + 1) * 1024 * 1024) + "]",
      status: [413],
      message: /at most|over/,
    },
    {
      name: "JSON nested 10,000 deep",
      method: "PUT",
      path: "/api/books/document",
      json: put("deep", nested(10_000)),
      status: [400],
      message: /deep|levels|nest/i,
    },
    {
      name: "a document with 100,000 fields",
      method: "PUT",
      path: "/api/books/document",
      json: put("wide", manyFields(100_000)),
      status: [400],
      message: /fields/,
    },
    {
      name: "invalid UTF-8",
      method: "PUT",
      path: "/api/books/document",
      raw: new Uint8Array([
        ...new TextEncoder().encode('{"id":"utf","doc":{"title":"'),
        0xc3,
        0x28,
        ...new TextEncoder().encode('"}}'),
      ]),
      status: [400],
      message: /UTF-8/,
    },
    {
      name: "a raw NUL byte inside a JSON string",
      method: "PUT",
      path: "/api/books/document",
      raw: '{"id":"nul","doc":{"title":"a\u0000b"}}',
      status: [400],
      message: /JSON/i,
    },
    {
      name: "a NUL character (escaped) in an id",
      method: "PUT",
      path: "/api/books/document",
      json: put("a\u0000b", { title: "t" }),
      status: [400],
      message: /id/i,
    },
    {
      name: "index name `../x` (encoded)",
      method: "PUT",
      path: "/api/..%2Fx/document",
      json: put("x", { title: "t" }),
      status: [400, 404],
      message: /index name|not found|No route/i,
    },
    {
      name: "index name `A` (upper case)",
      method: "PUT",
      path: "/api/A/document",
      json: put("x", { title: "t" }),
      status: [400],
      message: /index name/i,
    },
    {
      name: "empty index name",
      method: "PUT",
      path: "/api//document",
      json: put("x", { title: "t" }),
      status: [404, 400],
    },
    {
      name: "index name of 300 characters",
      method: "PUT",
      path: `/api/${"a".repeat(300)}/document`,
      json: put("x", { title: "t" }),
      status: [400],
      message: /index name/i,
    },
    {
      name: "empty id",
      method: "PUT",
      path: "/api/books/document",
      json: put("", { title: "t" }),
      status: [400],
      message: /id/i,
    },
    {
      name: "id of 1,000 bytes",
      method: "PUT",
      path: "/api/books/document",
      json: put("i".repeat(1_000), { title: "t" }),
      status: [400],
      message: /at most 512/,
    },
    {
      name: "id that is a number",
      method: "PUT",
      path: "/api/books/document",
      json: put(42, { title: "t" }),
      status: [400],
      message: /id/i,
    },
    {
      name: "malformed percent-encoding in a document path",
      method: "GET",
      path: "/api/books/document/%E0%A4%A",
      status: [400],
      message: /encod|URI/i,
    },
    {
      name: "document over 16 MiB",
      method: "PUT",
      path: "/api/books/document",
      json: put("huge", { title: "x".repeat(17 * 1024 * 1024) }),
      status: [413],
      message: /bytes/,
    },
    {
      name: "reserved field `_id`",
      method: "PUT",
      path: "/api/books/document",
      json: put("r1", { _id: "x", title: "t" }),
      status: [400],
      message: /reserved/,
    },
    {
      name: "reserved nested field `meta._secret`",
      method: "PUT",
      path: "/api/books/document",
      json: put("r2", { meta: { _secret: 1 } }),
      status: [400],
      message: /reserved/,
    },
    {
      name: "a field of the wrong type (`year` is i64)",
      method: "PUT",
      path: "/api/books/document",
      json: put("b1", { title: "changed", year: "soon" }),
      status: [400],
      message: /expects i64/,
    },
    {
      name: "a document that is not an object",
      method: "PUT",
      path: "/api/books/document",
      json: put("b1", [1, 2, 3]),
      status: [400],
      message: /object/i,
    },
    {
      name: "a bulk body that is not an array",
      method: "POST",
      path: "/api/books/_bulk",
      json: { id: "b1", doc: {} },
      status: [400],
      message: /array/,
    },
    {
      name: "an id with a lone surrogate (`\\ud800`)",
      method: "PUT",
      path: "/api/books/document",
      json: put("\ud800", { title: "t" }),
      status: [400],
      message: /well-formed Unicode/,
    },
    {
      name: "a lone surrogate in a document path (`%ED%A0%80`)",
      method: "GET",
      path: "/api/books/document/%ED%A0%80",
      status: [400],
      message: /encod/i,
    },
    {
      name: "a field named `id` inside the document",
      method: "PUT",
      path: "/api/books/document",
      json: put("b1", { id: "b1", title: "t" }),
      status: [400],
      message: /"id" is reserved/,
    },
    {
      name: "a fraction in a field declared i64 (`year: 1.5`)",
      method: "PUT",
      path: "/api/books/document",
      json: put("b1", { title: "t", year: 1.5 }),
      status: [400],
      message: /expects i64, got 1\.5/,
    },
    {
      name: "an integer over 2^53 (`12345678901234567890`)",
      method: "PUT",
      path: "/api/books/document",
      raw: '{"id": "big", "doc": {"pages_total": 12345678901234567890}}',
      status: [400],
      message: /outside ±\(2\^53 - 1\)/,
    },
    {
      name: "999 junk fields and one bad value: refused, no field added",
      method: "PUT",
      path: "/api/books/document",
      json: put("junk", { ...manyFields(999), year: "soon" }),
      status: [400],
      message: /expects i64/,
    },
    {
      name: "1,001 junk fields",
      method: "PUT",
      path: "/api/books/document",
      json: put("junk", manyFields(1_001)),
      status: [400],
      message: /at most 1000 fields/,
    },
    {
      name: `an NDJSON line over max_line_size_mb (${MAX_LINE_MB + 1} MB)`,
      method: "POST",
      path: "/api/books/document/stream",
      raw: JSON.stringify(put("long", { title: "x".repeat((MAX_LINE_MB + 1) * 1024 * 1024) })) +
        "\n",
      contentType: "application/x-ndjson",
      status: [413],
      message: /line 1 is longer than/,
    },
    query("a prototype name as a field (`constructor`)", "constructor:x", /Unknown field/),
    query("a prototype name as a field (`toString`)", "toString:x", /Unknown field/),
    query("a prototype name in a range (`valueOf`)", "valueOf:[1 TO 2]", /Unknown field/),
    query("`__proto__` as a field", "__proto__:x", /Unknown field/),
    query("sort on `constructor`", "title:rust sort constructor:asc", /unknown field/i),
    {
      name: "facets on `toString`",
      ...search({ query: "*", facets: { toString: {} } }),
      status: [400],
      message: /unknown field "toString"/,
    },
    {
      name: "returning `hasOwnProperty`",
      ...search({ query: "*", fields: ["hasOwnProperty"] }),
      status: [400],
      message: /unknown field "hasOwnProperty"/,
    },
    query("unbalanced parenthesis", "(title:rust", /\)|parenthes/i),
    query("unterminated phrase", 'title:"rust prog', /quote|phrase|"/i),
    query("dangling operator", "title:rust AND", /expected|end/i),
    query("empty query", "", /empty|expected/i),
    query("malformed range", "year:[2000 TO", /range|expected|\]/i),
    query("range with a missing bound", "year:[ TO 2000]", /bound|expected/i),
    query("unknown field", "colour:red", /unknown field|colour/i),
    query("range on text", "title:[a TO z]", /text|range/i),
    query("number for a text-only operation", "year:20*", /prefix|i64/i),
    query("fuzzy on a number", "year:2000~1", /fuzzy|i64/i),
    query("bad boost", "title:rust^x", /boost|number|expected/i),
    query("limit over the maximum", "title:rust limit 20000", /limit|at most/i),
    query(
      "too many fuzzy terms",
      Array.from({ length: 40 }, (_, i) => `w${i}~1`).join(" "),
      /fuzzy terms/i,
    ),
    query("sort on an unknown field", "title:rust sort nope:asc", /unknown field|nope/i),
    {
      name: "sort on a text field",
      ...search({ query: "*", sort: { field: "title", order: "asc" } }),
      status: [400],
      message: /text|sort/i,
    },
    {
      name: "unknown sort field (payload)",
      ...search({ query: "*", sort: { field: "nope" } }),
      status: [400],
      message: /nope/,
    },
    {
      name: "negative limit",
      ...search({ query: "*", limit: -1 }),
      status: [400],
      message: /limit/,
    },
    {
      name: "huge limit",
      ...search({ query: "*", limit: 1e12 }),
      status: [400],
      message: /limit/,
    },
    {
      name: "non-numeric limit",
      ...search({ query: "*", limit: "ten" }),
      status: [400],
      message: /limit/,
    },
    {
      name: "negative offset",
      ...search({ query: "*", offset: -5 }),
      status: [400],
      message: /offset/,
    },
    {
      name: "fractional offset",
      ...search({ query: "*", offset: 1.5 }),
      status: [400],
      message: /offset/,
    },
    {
      name: "query that is not a string",
      ...search({ query: 42 }),
      status: [400],
      message: /query/,
    },
    {
      name: "unknown search parameter",
      ...search({ query: "*", colour: "red" }),
      status: [400],
      message: /colour/,
    },
    {
      name: "search on an unknown index",
      method: "POST",
      path: "/api/nope/search",
      json: { query: "*" },
      status: [404],
      message: /nope/,
    },
    {
      name: "unknown route",
      method: "GET",
      path: "/api/books/whatever/else",
      status: [404],
    },
    {
      name: "wrong method",
      method: "PATCH",
      path: "/api/books/search",
      json: { query: "*" },
      status: [405],
    },
  ];
}
