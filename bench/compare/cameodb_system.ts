/**
 * This server over HTTP, with one of its engines, as a user would run it: a real process,
 * documents through `/_bulk`, `PUT /document` and the NDJSON stream, queries in its own
 * language.
 *
 * @module
 */

import { call } from "../../testing/http.ts";
import { type ServerProcess, startServerProcess } from "../../testing/server_process.ts";
import type { CompareQuery, CorpusDoc } from "./corpus.ts";
import { dirBytes, type DiskBytes, processRss, type System } from "./system.ts";

const INDEX = "corpus";

/** The query in CameoDB's language. */
export function cameoQuery(query: CompareQuery): string {
  const [first, second] = query.terms;
  switch (query.kind) {
    case "term":
      return `text:${first}`;
    case "or":
      return `text:${first} OR text:${second}`;
    case "phrase":
      return `text:"${query.terms.join(" ")}"`;
    case "prefix":
      return `text:${first}*`;
    case "range":
      return `text:${first} AND size:[${query.range!.from} TO ${query.range!.to}]`;
  }
}

/** Declares the corpus index's engine and fields on the server at `url`. */
export async function configureCorpusIndex(
  url: string,
  engine: "fts5" | "orama",
  index = INDEX,
): Promise<void> {
  const answer = await call(url, "PUT", `/api/${index}/_config`, {
    engine,
    fields: [
      { name: "title", type: "text" },
      { name: "text", type: "text" },
      { name: "size", type: "i64" },
      { name: "kind", type: "string" },
    ],
  });
  if (answer.status !== 200) throw new Error(`configure: ${JSON.stringify(answer.body)}`);
}

/** Writes `docs` to `index` in bulks of `bulkDocs`; throws on any refused bulk or item. */
export async function bulkLoad(
  url: string,
  index: string,
  docs: readonly CorpusDoc[],
  bulkDocs: number,
): Promise<void> {
  for (let at = 0; at < docs.length; at += bulkDocs) {
    const answer = await call(url, "POST", `/api/${index}/_bulk`, docs.slice(at, at + bulkDocs));
    const errors = (answer.body as { errors?: unknown[] }).errors ?? [];
    if (answer.status !== 200 || errors.length > 0) {
      throw new Error(`bulk: ${answer.status} ${JSON.stringify(answer.body).slice(0, 500)}`);
    }
  }
}

/** The server with the `fts5` or `orama` engine. */
export class CameoSystem implements System {
  readonly name: string;
  readonly how = "this server over HTTP (a separate process, 4 shard workers)";
  readonly #engine: "fts5" | "orama";
  #server: ServerProcess | undefined;
  #dir = "";

  constructor(engine: "fts5" | "orama") {
    this.#engine = engine;
    this.name = `CameoDB (${engine})`;
  }

  get #url(): string {
    return this.#server!.url;
  }

  async start(): Promise<void> {
    this.#dir = await Deno.makeTempDir({ prefix: `compare-cameo-${this.#engine}-` });
    this.#server = await this.#spawn();
    await configureCorpusIndex(this.#url, this.#engine);
  }

  #spawn(): Promise<ServerProcess> {
    return startServerProcess({
      dataDir: this.#dir,
      env: { CAMEODB_LOG: "warn", CAMEODB_SEARCH_TOTAL_MEMORY_LIMIT_MB: "8192" },
      startTimeoutMs: 600_000,
    });
  }

  async put(doc: CorpusDoc): Promise<void> {
    const answer = await call(this.#url, "PUT", `/api/${INDEX}/document`, doc);
    if (answer.status !== 200) throw new Error(`put: ${JSON.stringify(answer.body)}`);
  }

  async bulk(docs: readonly CorpusDoc[]): Promise<void> {
    const answer = await call(this.#url, "POST", `/api/${INDEX}/_bulk`, docs);
    const errors = (answer.body as { errors?: unknown[] }).errors ?? [];
    if (answer.status !== 200 || errors.length > 0) {
      throw new Error(`bulk: ${JSON.stringify(answer.body).slice(0, 500)}`);
    }
  }

  async ndjson(docs: readonly CorpusDoc[]): Promise<void> {
    const body = docs.map((doc) => JSON.stringify(doc)).join("\n") + "\n";
    const answer = await call(this.#url, "POST", `/api/${INDEX}/document/stream`, undefined, {
      raw: body,
      contentType: "application/x-ndjson",
    });
    if (answer.status !== 200) throw new Error(`ndjson: ${JSON.stringify(answer.body)}`);
  }

  async search(query: CompareQuery): Promise<string[]> {
    const answer = await call(this.#url, "POST", `/api/${INDEX}/search`, {
      query: cameoQuery(query),
      limit: 10,
      fields: ["title"],
    });
    if (answer.status !== 200) throw new Error(`search: ${JSON.stringify(answer.body)}`);
    return (answer.body as { hits: Array<{ id: string }> }).hits.map((hit) => hit.id);
  }

  async get(id: string): Promise<boolean> {
    const answer = await call(this.#url, "GET", `/api/${INDEX}/document/${encodeURIComponent(id)}`);
    return answer.status === 200;
  }

  rssBytes(): Promise<number> {
    return processRss(this.#server!.child.pid);
  }

  diskBytes(): Promise<DiskBytes> {
    return dirBytes(this.#dir);
  }

  async killAndRecover(): Promise<number> {
    await this.#server!.stop("SIGKILL");
    const started = performance.now();
    this.#server = await this.#spawn();
    return performance.now() - started;
  }

  async stop(): Promise<void> {
    await this.#server?.stop();
    await Deno.remove(this.#dir, { recursive: true }).catch(() => {});
  }
}
