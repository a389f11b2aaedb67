/**
 * Sphinx 2.2 as Debian ships it (`sphinxsearch`; Debian 12 has Sphinx, not Manticore), a
 * standalone full-text server on loopback started by the suite: one real-time index over
 * title and text (`dict = keywords`, `min_prefix_len = 2` for the prefix query), `size` as
 * an integer attribute for the range filter and the document's id as a string attribute.
 * Documents go in with SphinxQL `INSERT`/`REPLACE` (multi-row for bulks) and queries are
 * SphinxQL `MATCH()` ranked by its default BM25 + proximity ranker, over the MySQL protocol
 * with the npm `mysql2` client. The binary log is fsynced at every transaction
 * (`binlog_flush = 1`), so an answered write survives a crash. It serves searches only: the
 * report has no point reads for it.
 *
 * @module
 */

import mysql from "mysql2/promise";
import type { CompareQuery, CorpusDoc } from "./corpus.ts";
import { dirBytes, type DiskBytes, processRss, type System } from "./system.ts";
import { waitUntil } from "../../testing/wait.ts";

/** Where Debian puts the server. */
export const SEARCHD = "/usr/bin/searchd";

/** The query as a SphinxQL MATCH() expression on the `text` field. */
export function sphinxMatch(query: CompareQuery): string {
  const [first, second] = query.terms;
  switch (query.kind) {
    case "term":
    case "range":
      return `@text ${first}`;
    case "or":
      return `@text (${first} | ${second})`;
    case "phrase":
      return `@text "${query.terms.join(" ")}"`;
    case "prefix":
      return `@text ${first}*`;
  }
}

function config(dir: string, port: number): string {
  return `
index corpus {
  type = rt
  path = ${dir}/corpus
  rt_field = title
  rt_field = text
  rt_attr_uint = size
  rt_attr_string = key
  dict = keywords
  min_prefix_len = 2
  rt_mem_limit = 256M
}
searchd {
  listen = 127.0.0.1:${port}:mysql41
  log = ${dir}/searchd.log
  query_log = ${dir}/query.log
  pid_file = ${dir}/searchd.pid
  binlog_path = ${dir}
  binlog_flush = 1
  workers = threads
  watchdog = 0
  # The default backlog of 5 drops connections when the client's pool opens 64 at once.
  listen_backlog = 256
  max_packet_size = 128M
}
`;
}

/** Rows per multi-row INSERT. */
const ROWS_PER_INSERT = 1_000;

/** Sphinx. */
export class SphinxSystem implements System {
  readonly name = "Sphinx 2.2 (RT index)";
  readonly how =
    "Debian's sphinxsearch 2.2.11, a separate searchd on loopback, a real-time index filled with SphinxQL INSERT, binlog fsynced per transaction (the newest documents live in its RAM chunk, up to 256 MB, and on disk in the binlog until a flush); the npm `mysql2` client; searches only";
  readonly #port: number;
  readonly #numbers = new Map<string, number>();
  #dir = "";
  #child: Deno.ChildProcess | undefined;
  #pool: mysql.Pool | undefined;

  constructor(port = 59306) {
    this.#port = port;
  }

  async start(): Promise<void> {
    this.#dir = await Deno.makeTempDir({ prefix: "compare-sphinx-" });
    await Deno.writeTextFile(`${this.#dir}/sphinx.conf`, config(this.#dir, this.#port));
    await this.#startServer();
  }

  async #startServer(): Promise<void> {
    this.#child = new Deno.Command(SEARCHD, {
      args: ["--config", `${this.#dir}/sphinx.conf`, "--nodetach"],
      stdout: "null",
      stderr: "inherit",
    }).spawn();
    this.#pool = mysql.createPool({ host: "127.0.0.1", port: this.#port, connectionLimit: 64 });
    await waitUntil(
      async () => {
        await this.#pool!.query("SELECT id FROM corpus LIMIT 1");
        return true;
      },
      600_000,
      "searchd answers SphinxQL",
    );
  }

  /** Sphinx ids are positive integers: each string id gets one, the same on every write. */
  #number(id: string): number {
    let number = this.#numbers.get(id);
    if (number === undefined) this.#numbers.set(id, number = this.#numbers.size + 1);
    return number;
  }

  #row(doc: CorpusDoc): unknown[] {
    return [this.#number(doc.id), doc.doc.title, doc.doc.text, doc.doc.size, doc.id];
  }

  async put(doc: CorpusDoc): Promise<void> {
    await this.#pool!.query(
      "REPLACE INTO corpus (id, title, text, size, key) VALUES (?, ?, ?, ?, ?)",
      this.#row(doc),
    );
  }

  async bulk(docs: readonly CorpusDoc[]): Promise<void> {
    for (let at = 0; at < docs.length; at += ROWS_PER_INSERT) {
      const rows = docs.slice(at, at + ROWS_PER_INSERT);
      await this.#pool!.query(
        `REPLACE INTO corpus (id, title, text, size, key) VALUES ${
          rows.map(() => "(?, ?, ?, ?, ?)").join(", ")
        }`,
        rows.flatMap((doc) => this.#row(doc)),
      );
    }
  }

  async search(query: CompareQuery): Promise<string[]> {
    const [rows] = query.range === undefined
      ? await this.#pool!.query("SELECT key FROM corpus WHERE MATCH(?) LIMIT 10", [
        sphinxMatch(query),
      ])
      : await this.#pool!.query(
        "SELECT key FROM corpus WHERE MATCH(?) AND size BETWEEN ? AND ? LIMIT 10",
        [sphinxMatch(query), query.range.from, query.range.to],
      );
    return (rows as Array<{ key: string }>).map((row) => row.key);
  }

  rssBytes(): Promise<number> {
    return processRss(this.#child!.pid);
  }

  diskBytes(): Promise<DiskBytes> {
    return dirBytes(this.#dir);
  }

  async killAndRecover(): Promise<number> {
    await this.#pool!.end().catch(() => {});
    this.#child!.kill("SIGKILL");
    await this.#child!.status;
    const started = performance.now();
    await this.#startServer();
    return performance.now() - started;
  }

  async stop(): Promise<void> {
    await this.#pool?.end().catch(() => {});
    try {
      this.#child?.kill("SIGKILL");
    } catch { /* already gone */ }
    await this.#child?.status;
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
