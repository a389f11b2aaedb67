/**
 * The bad-input catalogue: every kind of malformed request a client can send, against the
 * real server process. For each: the status and message it answers, that the server is
 * still up, and that the existing data is unchanged (a fingerprint of every index's
 * documents and schemas, taken before and after). Then thousands of queries from a random
 * generator (grammar pieces and raw noise): none may answer 500.
 *
 * ```sh
 * deno task reliability:bad-input                  # prints the catalogue as a markdown table
 * deno task reliability:bad-input --queries=20000
 * ```
 *
 * @module
 */

import { call } from "../testing/http.ts";
import { SeededRandom } from "../testing/random.ts";
import { type ServerProcess, startServerProcess } from "../testing/server_process.ts";

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

/** What one case answered. */
export interface CaseResult {
  name: string;
  status: number;
  message: string;
  ok: boolean;
  why?: string;
}

/** What a run found. */
export interface BadInputReport {
  cases: CaseResult[];
  randomQueries: { sent: number; byStatus: Record<string, number>; seed: number };
  problems: string[];
}

/** Largest body the catalogue's server accepts (small, so the 413 case is cheap). */
const MAX_BODY_MB = 20;
/** Longest NDJSON line the catalogue's server accepts. */
const MAX_LINE_MB = 1;

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

const put = (id: unknown, doc: unknown) => ({ id, doc });
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

/** A fingerprint of what the server holds: every index, schema and document. */
async function fingerprint(base: string): Promise<string> {
  const indexes = await call(base, "GET", "/_indexes");
  // Memory figures move by themselves; names, counts and fields may not.
  const parts = [
    JSON.stringify(
      indexes.body,
      (key, value) => key.startsWith("memory") || key === "took_ms" ? undefined : value,
    ),
  ];
  for (const index of ["books"]) {
    const response = await fetch(`${base}/api/${index}/search/stream`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ query: "*", limit: 10_000 }),
    });
    const lines = (await response.text()).trim().split("\n");
    lines.pop();
    parts.push(lines.sort().join("\n"));
    parts.push(JSON.stringify((await call(base, "GET", `/api/${index}/_config`)).body));
  }
  return parts.join("\n--\n");
}

/** Random query strings: pieces of the grammar glued at random, plus raw noise. */
export function randomQuery(random: SeededRandom): string {
  const pieces = [
    "title:",
    "year:",
    "tags:",
    "meta.pages:",
    "rust",
    '"',
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    " TO ",
    "*",
    "?",
    "~",
    "~2",
    "^",
    "^3",
    " AND ",
    " OR ",
    " NOT ",
    "+",
    "-",
    "2019",
    "1e400",
    "-0",
    "2024-01-01",
    " sort ",
    " limit ",
    " offset ",
    " return ",
    ":asc",
    ":desc",
    "\\",
    ",",
    " IN ",
    "id:",
    "constructor:",
    "toString:",
    "__proto__:",
    "valueOf:",
    "\u0000",
    "é",
    "😀",
    " ",
  ];
  const length = random.int(0, 12);
  let query = "";
  for (let i = 0; i < length; i++) {
    query += random.next() < 0.9 ? random.pick(pieces) : String.fromCharCode(random.int(0, 0xffff));
  }
  return query;
}

/** Runs the catalogue and `queries` random queries against a fresh server. */
export async function runBadInput(
  options: { queries?: number; seed?: number; log?: (line: string) => void } = {},
): Promise<BadInputReport> {
  const seed = options.seed ?? Math.floor(Math.random() * 2 ** 31);
  const random = new SeededRandom(seed);
  const queries = options.queries ?? 5_000;
  const report: BadInputReport = {
    cases: [],
    randomQueries: { sent: 0, byStatus: {}, seed },
    problems: [],
  };
  const dataDir = await Deno.makeTempDir({ prefix: "cameodb-bad-input-" });
  let server: ServerProcess | undefined;
  try {
    server = await startServerProcess({
      dataDir,
      env: {
        CAMEODB_LOG: "error",
        CAMEODB_NETWORK_HTTP_MAX_BODY_SIZE_MB: String(MAX_BODY_MB),
        CAMEODB_NETWORK_HTTP_MAX_LINE_SIZE_MB: String(MAX_LINE_MB),
      },
    });
    const base = server.url;
    // `year` is declared: a fraction must be refused, not widen it to f64.
    const declared = await call(base, "PUT", "/api/books/_config", {
      fields: [{ name: "year", type: "i64" }],
    });
    if (declared.status !== 200) {
      throw new Error(`declaring failed: ${JSON.stringify(declared.body)}`);
    }
    const seeded = await call(base, "POST", "/api/books/_bulk", [
      put("b1", { title: "Rust Programming", year: 2019, tags: ["code"], meta: { pages: 300 } }),
      put("b2", {
        title: "Deno in Action",
        year: 2021,
        tags: ["code", "js"],
        meta: { pages: 250 },
      }),
      put("b3", { title: "Gardening", year: 2001, tags: ["home"], meta: { pages: 120 } }),
    ]);
    if (seeded.status !== 200) throw new Error(`seeding failed: ${JSON.stringify(seeded.body)}`);
    const before = await fingerprint(base);
    for (const entry of catalogue()) {
      const answer = await call(
        base,
        entry.method,
        entry.path,
        entry.json,
        {
          ...(entry.raw === undefined ? {} : { raw: entry.raw as BodyInit }),
          ...(entry.contentType === undefined ? {} : { contentType: entry.contentType }),
        },
      );
      const body = answer.body as { error?: string; details?: string } | string;
      const message = typeof body === "string"
        ? body
        : [body.error, body.details].filter(Boolean).join(": ");
      const why: string[] = [];
      if (!entry.status.includes(answer.status)) {
        why.push(`answered ${answer.status}, expected ${entry.status.join(" or ")}`);
      }
      if (entry.message !== undefined && !entry.message.test(message)) {
        why.push(`the message does not match ${entry.message}`);
      }
      if (typeof body === "string" || body.error === undefined) {
        why.push("the answer is not {error, details}");
      }
      const health = await call(base, "GET", "/_cluster/health").catch(() => undefined);
      if (health?.status !== 200) why.push("the server stopped answering health");
      const after = await fingerprint(base);
      if (after !== before) why.push("the existing data changed");
      report.cases.push({
        name: entry.name,
        status: answer.status,
        message: message.length > 160 ? `${message.slice(0, 157)}...` : message,
        ok: why.length === 0,
        ...(why.length === 0 ? {} : { why: why.join("; ") }),
      });
      if (why.length > 0) report.problems.push(`${entry.name}: ${why.join("; ")}`);
    }
    options.log?.(
      `catalogue: ${report.cases.filter((c) => c.ok).length}/${report.cases.length} held`,
    );

    // Random queries: any 4xx is fine, a 500 (or no answer) is not.
    for (let i = 0; i < queries; i++) {
      const q = randomQuery(random);
      const answer = await call(base, "POST", "/api/books/search", { query: q });
      report.randomQueries.sent++;
      const key = String(answer.status);
      report.randomQueries.byStatus[key] = (report.randomQueries.byStatus[key] ?? 0) + 1;
      if (answer.status >= 500) {
        report.problems.push(`query ${JSON.stringify(q)} answered ${answer.status}`);
      }
    }
    if (await fingerprint(base) !== before) {
      report.problems.push("the data changed during the random queries");
    }
    options.log?.(`random queries: ${JSON.stringify(report.randomQueries)}`);
  } finally {
    await server?.stop();
    await Deno.remove(dataDir, { recursive: true });
  }
  return report;
}

/** The catalogue as a markdown table. */
export function catalogueTable(report: BadInputReport): string {
  const rows = report.cases.map((c) =>
    `| ${c.name} | ${c.status} | ${c.message.replaceAll("|", "\\|").replaceAll("\n", " ")} | ${
      c.ok ? "yes" : `**no**: ${c.why}`
    } |`
  );
  return [
    "| input | status | message | server up, data unchanged |",
    "| --- | --- | --- | --- |",
    ...rows,
  ].join("\n");
}

if (import.meta.main) {
  const arg = (name: string) => Deno.args.find((a) => a.startsWith(`--${name}=`))?.split("=")[1];
  const report = await runBadInput({
    queries: Number(arg("queries") ?? 5_000),
    ...(arg("seed") === undefined ? {} : { seed: Number(arg("seed")) }),
    log: (line) => console.log(line),
  });
  console.log(catalogueTable(report));
  console.log(JSON.stringify({ randomQueries: report.randomQueries, problems: report.problems }));
  if (report.problems.length > 0) Deno.exit(1);
}
