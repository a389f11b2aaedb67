/**
 * PostgreSQL 15 full-text search, as Debian ships it: a throwaway cluster (`initdb` in a
 * temporary directory, run as the `postgres` user) listening on loopback, documents as
 * `jsonb` with a stored `tsvector` over title and text (`simple` configuration, like the
 * other systems' tokenizers: no stemming, no stop words) and a GIN index; results ranked
 * by `ts_rank`. The suite installs `postgresql` with apt when it is missing.
 *
 * @module
 */

import postgres from "postgres";
import type { CompareQuery, CorpusDoc } from "./corpus.ts";
import { dirBytes, type DiskBytes, processRss, type System } from "./system.ts";

/** Where Debian puts PostgreSQL 15's programs. */
export const BIN = "/usr/lib/postgresql/15/bin";

async function run(command: string, args: string[], options: { user?: string } = {}) {
  const [cmd, cmdArgs] = options.user === undefined
    ? [command, args]
    : ["runuser", ["-u", options.user, "--", command, ...args]];
  const output = await new Deno.Command(cmd, { args: cmdArgs, stdout: "piped", stderr: "piped" })
    .output();
  if (!output.success) {
    throw new Error(
      `${command} ${args.join(" ")} failed: ${new TextDecoder().decode(output.stderr)}`,
    );
  }
  return new TextDecoder().decode(output.stdout);
}

/** Installs PostgreSQL 15 with apt when it is missing; says so. */
export async function ensurePostgres(log: (line: string) => void): Promise<void> {
  try {
    await Deno.stat(`${BIN}/initdb`);
    return;
  } catch {
    log("installing postgresql (PostgreSQL 15) with apt-get …");
  }
  await run("apt-get", ["update"]);
  await run("apt-get", ["install", "-y", "--no-install-recommends", "postgresql-15"]);
}

/** The query as a `tsquery` in the `simple` configuration. */
export function tsQuery(query: CompareQuery): string {
  const [first, second] = query.terms;
  switch (query.kind) {
    case "term":
    case "range":
      return first!;
    case "or":
      return `${first} | ${second}`;
    case "phrase":
      return query.terms.join(" <-> ");
    case "prefix":
      return `${first}:*`;
  }
}

/** PostgreSQL 15. */
export class PostgresSystem implements System {
  readonly name = "PostgreSQL 15 (tsvector + GIN)";
  readonly how =
    "Debian's postgresql-15, a separate server on loopback, jsonb documents, stored tsvector, GIN index; the npm `postgres` client";
  readonly #port: number;
  #dir = "";
  // deno-lint-ignore no-explicit-any
  #sql: any;

  constructor(port = 55432) {
    this.#port = port;
  }

  async start(): Promise<void> {
    this.#dir = await Deno.makeTempDir({ prefix: "compare-pg-" });
    await Deno.chmod(this.#dir, 0o777);
    await run("chown", ["postgres:postgres", this.#dir]);
    await run(`${BIN}/initdb`, ["-D", `${this.#dir}/data`, "-U", "bench", "--auth=trust"], {
      user: "postgres",
    });
    await this.#startServer();
    const sql = this.#sql;
    await sql.unsafe(`
      CREATE TABLE docs (
        id text PRIMARY KEY,
        doc jsonb NOT NULL,
        size integer NOT NULL,
        tsv tsvector GENERATED ALWAYS AS (
          to_tsvector('simple', coalesce(doc->>'title', '') || ' ' || coalesce(doc->>'text', ''))
        ) STORED
      );
      CREATE INDEX docs_tsv ON docs USING gin (tsv);
      CREATE INDEX docs_size ON docs (size);
    `);
  }

  async #startServer(): Promise<void> {
    await run(`${BIN}/pg_ctl`, [
      "-D",
      `${this.#dir}/data`,
      "-l",
      `${this.#dir}/server.log`,
      "-w",
      "-o",
      `-p ${this.#port} -c listen_addresses=127.0.0.1 -k ${this.#dir} -c shared_buffers=256MB`,
      "start",
    ], { user: "postgres" });
    this.#sql = postgres({
      host: "127.0.0.1",
      port: this.#port,
      user: "bench",
      database: "postgres",
      max: 64,
      onnotice: () => {},
    });
  }

  async put(doc: CorpusDoc): Promise<void> {
    await this.#sql`INSERT INTO docs (id, doc, size) VALUES (${doc.id}, ${
      this.#sql.json(doc.doc)
    }, ${doc.doc.size})
      ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, size = EXCLUDED.size`;
  }

  async bulk(docs: readonly CorpusDoc[]): Promise<void> {
    // One multi-row INSERT per 1,000 documents (a statement holds at most 65,535 parameters).
    for (let at = 0; at < docs.length; at += 1_000) {
      const rows = docs.slice(at, at + 1_000).map((doc) => ({
        id: doc.id,
        doc: doc.doc,
        size: doc.doc.size,
      }));
      await this.#sql`INSERT INTO docs ${this.#sql(rows, "id", "doc", "size")}
        ON CONFLICT (id) DO UPDATE SET doc = EXCLUDED.doc, size = EXCLUDED.size`;
    }
  }

  async search(query: CompareQuery): Promise<string[]> {
    const q = tsQuery(query);
    const rows = query.range === undefined
      ? await this.#sql`SELECT id FROM docs, to_tsquery('simple', ${q}) query
          WHERE tsv @@ query ORDER BY ts_rank(tsv, query) DESC LIMIT 10`
      : await this.#sql`SELECT id FROM docs, to_tsquery('simple', ${q}) query
          WHERE tsv @@ query AND size BETWEEN ${query.range.from} AND ${query.range.to}
          ORDER BY ts_rank(tsv, query) DESC LIMIT 10`;
    return rows.map((row: { id: string }) => row.id);
  }

  async get(id: string): Promise<boolean> {
    const rows = await this.#sql`SELECT doc FROM docs WHERE id = ${id}`;
    return rows.length === 1;
  }

  async #pids(): Promise<number[]> {
    const main = Number(
      (await Deno.readTextFile(`${this.#dir}/data/postmaster.pid`)).split("\n")[0],
    );
    const pids = [main];
    for await (const entry of Deno.readDir("/proc")) {
      if (!/^\d+$/.test(entry.name)) continue;
      try {
        const stat = await Deno.readTextFile(`/proc/${entry.name}/stat`);
        const ppid = Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
        if (ppid === main) pids.push(Number(entry.name));
      } catch {
        // The process ended while we looked.
      }
    }
    return pids;
  }

  /** The server and its backends; shared memory is counted once per process that touched it. */
  async rssBytes(): Promise<number> {
    let total = 0;
    for (const pid of await this.#pids()) total += await processRss(pid).catch(() => 0);
    return total;
  }

  /** The cluster's data directory (tables, indexes, WAL). */
  diskBytes(): Promise<DiskBytes> {
    return dirBytes(`${this.#dir}/data`);
  }

  async killAndRecover(): Promise<number> {
    const pids = await this.#pids();
    await this.#sql.end({ timeout: 1 }).catch(() => {});
    for (const pid of pids) {
      try {
        Deno.kill(pid, "SIGKILL");
      } catch {
        // Already gone.
      }
    }
    // The postmaster must be gone before a restart (its pid file stays after SIGKILL).
    for (let i = 0; i < 200; i++) {
      try {
        await Deno.stat(`/proc/${pids[0]}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      } catch {
        break;
      }
    }
    const started = performance.now();
    await this.#startServer();
    await this.#sql`SELECT id FROM docs LIMIT 1`;
    return performance.now() - started;
  }

  caveat(query: CompareQuery): string | undefined {
    if (query.kind === "prefix") return "tsquery prefix (:*)";
    return undefined;
  }

  async stop(): Promise<void> {
    await this.#sql?.end({ timeout: 1 }).catch(() => {});
    await run(`${BIN}/pg_ctl`, ["-D", `${this.#dir}/data`, "-m", "immediate", "stop"], {
      user: "postgres",
    }).catch(() => {});
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
