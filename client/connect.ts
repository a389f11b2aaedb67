/**
 * `connect(url)`: the {@linkcode Database} of a CameoDB server, over `fetch` alone, so it runs in
 * Deno, Node and browsers. Failed answers are rebuilt as the closed set of `errors.ts`.
 *
 * @example Write, read and search
 * ```ts ignore
 * import { connect } from "./mod.ts";
 *
 * interface Book { title: string; year: number }
 * const db = connect("http://127.0.0.1:9480");
 * const books = db.index<Book>("books");
 * await books.put({ id: "b1", doc: { title: "Rust Programming", year: 2019 } });
 * const { hits } = await books.search({ query: "title:rust", fields: ["title"] });
 * console.log(hits[0]?.title); // typed: string
 * await db.close();
 * ```
 *
 * @module
 */

import { ndjsonBody, ndjsonValues } from "./_ndjson.ts";
import type {
  BulkDeleteResult,
  BulkResult,
  ConfigureResult,
  Database,
  DatabaseHealth,
  DocumentInput,
  DropResult,
  HitStream,
  IndexConfiguration,
  IndexHandle,
  IndexSchema,
  IndexSummary,
  SearchAnswer,
  SearchFooter,
  SearchRequest,
  StoredDocument,
  StreamResult,
  WriteResult,
} from "./database.ts";
import { ConnectionError, DatabaseClosedError, errorFromAnswer, NotFoundError } from "./errors.ts";

/** Default time a request may take before its answer starts, in milliseconds. */
export const DEFAULT_REQUEST_TIMEOUT_MS = 30_000;

/** How to reach the server. */
export interface ConnectOptions {
  /** Sent as `Authorization: Bearer <apiKey>`. */
  apiKey?: string;
  /** A PEM file of certificate authorities to trust for `https:` (Deno only). */
  caFile?: string;
  /** How long a request may wait for its answer to start (default 30 s). */
  requestTimeoutMs?: number;
  /** The `fetch` to use (default: the global one). */
  fetch?: typeof fetch;
}

interface RequestInit2 {
  json?: unknown;
  body?: BodyInit;
  contentType?: string;
  /** The answer is read as a stream: the timeout covers only its start. */
  streamed?: boolean;
}

/** The `Database` of the server at `url`. */
export function connect(url: string | URL, options: ConnectOptions = {}): Database {
  return new HttpDatabase(new URL(url), options);
}

class HttpDatabase implements Database {
  readonly #base: URL;
  readonly #headers: Record<string, string>;
  readonly #timeoutMs: number;
  readonly #fetch: typeof fetch;
  readonly #client: { close(): void } | undefined;
  readonly #inFlight = new Set<AbortController>();
  #closed = false;

  constructor(base: URL, options: ConnectOptions) {
    this.#base = base;
    this.#headers = options.apiKey === undefined
      ? {}
      : { authorization: `Bearer ${options.apiKey}` };
    this.#timeoutMs = options.requestTimeoutMs ?? DEFAULT_REQUEST_TIMEOUT_MS;
    this.#client = options.caFile === undefined ? undefined : tlsClient(options.caFile);
    const fetchFn = options.fetch ?? globalThis.fetch.bind(globalThis);
    const client = this.#client;
    this.#fetch = client === undefined
      ? fetchFn
      : ((input, init) =>
        fetchFn(input, { ...init, client } as unknown as RequestInit)) as typeof fetch;
  }

  index<T extends object = Record<string, unknown>>(name: string): IndexHandle<T> {
    return new HttpIndex<T>(this, name);
  }

  async indexes(): Promise<IndexSummary[]> {
    const answer = await this.json<{ indexes: IndexSummary[] }>("GET", "/_indexes");
    return answer.indexes;
  }

  health(): Promise<DatabaseHealth> {
    return this.json<DatabaseHealth>("GET", "/_cluster/health");
  }

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    this.#closed = true;
    for (const controller of this.#inFlight) {
      controller.abort(new DatabaseClosedError("closed", { status: 0 }));
    }
    this.#client?.close();
    return Promise.resolve();
  }

  /** Sends a request and answers its parsed JSON. */
  async json<T>(method: string, path: string, init: RequestInit2 = {}): Promise<T> {
    const response = await this.send(method, path, init);
    return await response.json() as T;
  }

  /** Sends a request; a failed answer throws its error class. */
  async send(method: string, path: string, init: RequestInit2 = {}): Promise<Response> {
    if (this.#closed) throw new DatabaseClosedError("The database is closed", { status: 0 });
    const controller = new AbortController();
    const timer = setTimeout(
      () =>
        controller.abort(
          new ConnectionError(`No answer within ${this.#timeoutMs} ms`, { status: 0 }),
        ),
      this.#timeoutMs,
    );
    this.#inFlight.add(controller);
    const settle = () => {
      clearTimeout(timer);
      this.#inFlight.delete(controller);
    };
    try {
      const response = await this.#fetch(new URL(path, this.#base), {
        method,
        headers: headersFor(this.#headers, init),
        ...bodyFor(init),
        signal: controller.signal,
      });
      if (!response.ok) throw await failure(response);
      if (!init.streamed) {
        const text = await response.text();
        return new Response(text, { status: response.status, headers: response.headers });
      }
      return response;
    } catch (error) {
      throw asDatabaseError(error, controller.signal, this.#base);
    } finally {
      settle();
    }
  }
}

function headersFor(base: Record<string, string>, init: RequestInit2): Record<string, string> {
  const type = init.json !== undefined ? "application/json" : init.contentType;
  return type === undefined ? base : { ...base, "content-type": type };
}

function bodyFor(init: RequestInit2): { body?: BodyInit; duplex?: "half" } {
  if (init.json !== undefined) return { body: JSON.stringify(init.json) };
  if (init.body === undefined) return {};
  // Node needs `duplex` to send a stream; Deno and browsers accept it.
  return init.body instanceof ReadableStream
    ? { body: init.body, duplex: "half" }
    : { body: init.body };
}

async function failure(response: Response): Promise<Error> {
  const text = await response.text().catch(() => "");
  let body: unknown = { error: text };
  try {
    body = JSON.parse(text);
  } catch { /* not JSON: keep the text */ }
  return errorFromAnswer(response.status, body, response.headers.get("retry-after"));
}

function asDatabaseError(error: unknown, signal: AbortSignal, base: URL): Error {
  if (signal.aborted && signal.reason instanceof Error) return signal.reason;
  if (error instanceof Error && "status" in error) return error;
  return new ConnectionError(`Cannot reach ${base.origin}`, {
    status: 0,
    details: (error as Error)?.message ?? String(error),
    cause: error,
  });
}

/** A Deno HTTP client trusting `caFile`; other runtimes cannot do this through `fetch`. */
function tlsClient(caFile: string): { close(): void } {
  // deno-lint-ignore no-explicit-any
  const deno = (globalThis as any).Deno;
  if (deno?.createHttpClient === undefined) {
    throw new TypeError("caFile is supported on Deno only; elsewhere trust the CA in the runtime");
  }
  return deno.createHttpClient({ caCerts: [deno.readTextFileSync(caFile)] });
}

function path(index: string, rest = ""): string {
  return `/api/${encodeURIComponent(index)}${rest}`;
}

function query(options: { routing_key?: string } | undefined): string {
  return options?.routing_key === undefined
    ? ""
    : `?routing_key=${encodeURIComponent(options.routing_key)}`;
}

/** Browsers send a stream only over HTTP/2; there the body is gathered first. */
function inBrowser(): boolean {
  return "document" in globalThis && !("Deno" in globalThis);
}

class HttpIndex<T extends object> implements IndexHandle<T> {
  readonly name: string;
  readonly #db: HttpDatabase;

  constructor(db: HttpDatabase, name: string) {
    this.#db = db;
    this.name = name;
  }

  put(input: DocumentInput<T>): Promise<WriteResult> {
    return this.#db.json("PUT", path(this.name, "/document"), { json: input });
  }

  async get(id: string, options?: { routing_key?: string }): Promise<StoredDocument<T> | null> {
    try {
      return await this.#db.json(
        "GET",
        path(this.name, `/document/${encodeURIComponent(id)}${query(options)}`),
      );
    } catch (error) {
      if (error instanceof NotFoundError) return null;
      throw error;
    }
  }

  delete(id: string, options?: { routing_key?: string }): Promise<WriteResult> {
    const params = new URLSearchParams({ id });
    if (options?.routing_key !== undefined) params.set("routing_key", options.routing_key);
    return this.#db.json("DELETE", path(this.name, `/document?${params}`));
  }

  bulk(items: ReadonlyArray<DocumentInput<T>>): Promise<BulkResult> {
    return this.#db.json("POST", path(this.name, "/_bulk"), { json: items });
  }

  bulkDelete(
    ids: ReadonlyArray<string | { id: string; routing_key?: string }>,
  ): Promise<BulkDeleteResult> {
    return this.#db.json("POST", path(this.name, "/_bulk/delete"), { json: ids });
  }

  async stream(
    items: AsyncIterable<DocumentInput<T>> | Iterable<DocumentInput<T>>,
  ): Promise<StreamResult> {
    const stream = ndjsonBody(items);
    const body = inBrowser() ? await new Response(stream).blob() : stream;
    return await this.#db.json("POST", path(this.name, "/document/stream"), {
      body,
      contentType: "application/x-ndjson",
    });
  }

  search<const F extends keyof T & string = keyof T & string>(
    request: SearchRequest<T, F>,
  ): Promise<SearchAnswer<Pick<T, F>>> {
    return this.#db.json("POST", path(this.name, "/search"), { json: request });
  }

  searchStream<const F extends keyof T & string = keyof T & string>(
    request: SearchRequest<T, F>,
  ): HitStream<Pick<T, F>> {
    return new HttpHitStream<Pick<T, F>>(() =>
      this.#db.send("POST", path(this.name, "/search/stream"), { json: request, streamed: true })
    );
  }

  config(): Promise<IndexSchema> {
    return this.#db.json("GET", path(this.name, "/_config"));
  }

  configure(configuration: IndexConfiguration): Promise<ConfigureResult> {
    return this.#db.json("PUT", path(this.name, "/_config"), { json: configuration });
  }

  drop(): Promise<DropResult> {
    return this.#db.json("DELETE", path(this.name));
  }
}

class HttpHitStream<H> implements HitStream<H> {
  readonly #open: () => Promise<Response>;
  #footer: SearchFooter | undefined;

  constructor(open: () => Promise<Response>) {
    this.#open = open;
  }

  get footer(): SearchFooter | undefined {
    return this.#footer;
  }

  async *[Symbol.asyncIterator](): AsyncIterator<SearchAnswer<H>["hits"][number]> {
    const response = await this.#open();
    if (response.body === null) return;
    for await (const value of ndjsonValues(response.body)) {
      const line = value as { _footer?: SearchFooter };
      if (line._footer !== undefined) this.#footer = line._footer;
      else yield value as SearchAnswer<H>["hits"][number];
    }
  }
}
