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
import { catalogue, MAX_BODY_MB, MAX_LINE_MB, put } from "./bad_input_cases.ts";

export { type BadInputCase, catalogue } from "./bad_input_cases.ts";

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
