/**
 * The document, index and search endpoints of BRIEF §4 over a node (`RoutedDatabase`, the
 * RouterActor's front, satisfies {@linkcode Database}). Bodies are JSON (415 otherwise), at most
 * `maxBodyBytes` (413), and errors map by name to statuses:
 *
 * | error | status |
 * | --- | --- |
 * | `InvalidInputError`, `QueryError`, `SchemaError` | 400 |
 * | `IndexNotFoundError` | 404 |
 * | `DocumentTooLargeError` | 413 |
 * | `MemoryLimitError`, `MailboxFullError`, `AskTimeoutError`, `ActorStoppedError`, `ActorCrashedError`, `NodeUnavailableError` | 503 + `Retry-After` |
 * | `StorageUnavailableError` | 507 |
 *
 * @module
 */

import { HttpError, json } from "./errors.ts";
import { type Route, route } from "./router.ts";
import { API_DOCS } from "./api_docs.ts";
import { ingestStream, searchStream } from "./ndjson.ts";
import { describeFields, type Schema, thumbprint } from "../storage/schema.ts";
import type { EngineName } from "../storage/search_index.ts";
import type { SerializedError } from "../actors/errors.ts";

/** What the API needs of a node. */
export interface Database {
  readonly shardCount: number;
  configure(
    index: string,
    config: {
      fields?: Array<{ name: string; type: string }>;
      engine?: string;
      description?: string;
    },
  ): Promise<{ schema: Schema; engine: EngineName }>;
  schema(index: string): { schema: Schema; engine: EngineName } | undefined;
  write(
    writes: ReadonlyArray<
      | { op: "put"; index: string; id: unknown; routing_key?: unknown; doc: unknown }
      | { op: "delete"; index: string; id: unknown; routing_key?: unknown }
    >,
  ): Promise<
    Array<
      | { ok: true; id: string; result: string; version: number; shard_id?: number }
      | { ok: false; id: string; error: SerializedError }
    >
  >;
  get(
    index: string,
    id: string,
    routingKey?: string,
  ): Promise<{ id: string; version: number; doc: unknown } | null>;
  search(index: string, body: unknown): Promise<unknown>;
  /** A search whose hits are produced as they are merged; the footer comes last. */
  searchStream(
    index: string,
    body: unknown,
  ): Promise<{ hits: Iterable<unknown>; footer(): Record<string, unknown> }>;
  dropIndex(index: string): Promise<{ deleted_from_shards: number; total_shards: number }>;
  indexes(): Promise<Array<{ name: string }>>;
  /** Every node's indexes merged by name, with `nodes_contacted` and `nodes_failed`. */
  clusterIndexes(): Promise<object>;
}

const STATUS_BY_NAME: Record<string, number> = {
  InvalidInputError: 400,
  QueryError: 400,
  SchemaError: 400,
  IndexNotFoundError: 404,
  DocumentTooLargeError: 413,
  MemoryLimitError: 503,
  MailboxFullError: 503,
  AskTimeoutError: 503,
  ActorStoppedError: 503,
  ActorCrashedError: 503,
  NodeUnavailableError: 503,
  StorageUnavailableError: 507,
};

/** Turns a known error (by name) into an `HttpError`; others pass through (500). */
export function toHttpError(error: { name: string; message: string }): Error {
  const status = STATUS_BY_NAME[error.name];
  if (status === undefined) return error as Error;
  const headers: Record<string, string> = status === 503 ? { "retry-after": "1" } : {};
  const title = status === 400
    ? "Bad request"
    : status === 404
    ? "Not found"
    : status === 413
    ? "Payload too large"
    : status === 507
    ? "Insufficient storage"
    : "Service unavailable";
  return new HttpError(status, title, error.message, headers);
}

/** Reads a JSON body of at most `maxBodyBytes`. */
export async function readJson(request: Request, maxBodyBytes: number): Promise<unknown> {
  const type = request.headers.get("content-type") ?? "";
  if (!/^application\/json\b/i.test(type)) {
    throw new HttpError(
      415,
      "Unsupported media type",
      `expected Content-Type: application/json, got "${type}"`,
    );
  }
  const declared = Number(request.headers.get("content-length") ?? "0");
  if (declared > maxBodyBytes) {
    throw new HttpError(
      413,
      "Payload too large",
      `the body is ${declared} bytes; at most ${maxBodyBytes} are allowed`,
    );
  }
  const chunks: Uint8Array[] = [];
  let size = 0;
  if (request.body !== null) {
    for await (const chunk of request.body) {
      size += chunk.length;
      if (size > maxBodyBytes) {
        throw new HttpError(413, "Payload too large", `the body is over ${maxBodyBytes} bytes`);
      }
      chunks.push(chunk);
    }
  }
  const bytes = new Uint8Array(size);
  let at = 0;
  for (const chunk of chunks) {
    bytes.set(chunk, at);
    at += chunk.length;
  }
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    throw new HttpError(400, "Bad request", "the body is not valid UTF-8");
  }
  try {
    return JSON.parse(text);
  } catch (error) {
    throw new HttpError(
      400,
      "Bad request",
      `the body is not valid JSON: ${(error as Error).message}`,
    );
  }
}

/** The failed items of a bulk, by position. */
/** The errors of a bulk answer; `status` is what the item would have answered alone. */
function bulkErrors(outcomes: Awaited<ReturnType<Database["write"]>>) {
  return outcomes.flatMap((outcome, item) =>
    outcome.ok ? [] : [{
      item,
      id: outcome.id,
      error: outcome.error.message,
      status: STATUS_BY_NAME[outcome.error.name] ?? 500,
    }]
  );
}

async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw error instanceof HttpError ? error : toHttpError(error as Error);
  }
}

/** Decodes a percent-encoded path segment; a malformed one is the client's error. */
function decodePathPart(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    throw new HttpError(400, "Bad request", `malformed percent-encoding in "${part}"`);
  }
}

function object(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    throw new HttpError(400, "Bad request", `${what} must be a JSON object`);
  }
  return value as Record<string, unknown>;
}

/** The routes of the document, index and search API. */
export function apiRoutes(
  db: Database,
  options: { maxBodyBytes: number; nodeId: string; batchSize?: number },
): Route[] {
  const body = (request: Request) => readJson(request, options.maxBodyBytes);
  const single = async (writes: Parameters<Database["write"]>[0]) => {
    const [outcome] = await call(() => db.write(writes));
    if (outcome === undefined) throw new Error("no outcome");
    if (!outcome.ok) throw toHttpError(outcome.error);
    return outcome;
  };
  return [
    route("GET", "/_indexes", async () => {
      const started = performance.now();
      const indexes = await call(() => db.indexes());
      return json({
        indexes,
        total_indexes: indexes.length,
        total_shards: db.shardCount,
        node_id: options.nodeId,
        took_ms: Math.round((performance.now() - started) * 100) / 100,
      });
    }, API_DOCS["GET /_indexes"]),
    route("GET", "/_cluster/_indexes", async () => {
      const started = performance.now();
      const gathered = await call(() => db.clusterIndexes());
      return json({
        ...gathered,
        node_id: options.nodeId,
        took_ms: Math.round((performance.now() - started) * 100) / 100,
      });
    }, API_DOCS["GET /_cluster/_indexes"]),
    route("PUT", "/api/:index/_config", async (request, params) => {
      const config = object(await body(request), "the configuration");
      const fields = config.fields;
      if (
        fields !== undefined &&
        (!Array.isArray(fields) ||
          !fields.every((f) => typeof f?.name === "string" && typeof f?.type === "string"))
      ) {
        throw new HttpError(
          400,
          "Bad request",
          `"fields" must be a list of {"name": "...", "type": "..."}`,
        );
      }
      for (const key of ["engine", "description"]) {
        if (config[key] !== undefined && typeof config[key] !== "string") {
          throw new HttpError(400, "Bad request", `"${key}" must be a string`);
        }
      }
      const index = params.index!;
      const { schema } = await call(() =>
        db.configure(index, config as Parameters<Database["configure"]>[1])
      );
      return json({
        acknowledged: true,
        index,
        shard_count: db.shardCount,
        field_names: Object.keys(schema.fields).sort(),
      });
    }, API_DOCS["PUT /api/:index/_config"]),
    route("GET", "/api/:index/_config", (_request, params) => {
      const index = params.index!;
      const entry = db.schema(index);
      if (entry === undefined) {
        throw new HttpError(404, "Not found", `Index "${index}" does not exist`);
      }
      const fields = describeFields(entry.schema);
      return json({
        name: index,
        engine: entry.engine,
        version: entry.schema.version,
        thumbprint: thumbprint(entry.schema),
        field_count: fields.length,
        fields,
      });
    }, API_DOCS["GET /api/:index/_config"]),
    route("DELETE", "/api/:index", async (_request, params) => {
      const index = params.index!;
      const result = await call(() => db.dropIndex(index));
      return json({ success: true, index, ...result });
    }, API_DOCS["DELETE /api/:index"]),
    route("PUT", "/api/:index/document", async (request, params) => {
      const input = object(await body(request), "the document request");
      const outcome = await single([{
        op: "put",
        index: params.index!,
        id: input.id,
        ...(input.routing_key === undefined ? {} : { routing_key: input.routing_key }),
        doc: input.doc,
      }]);
      return json({
        id: outcome.id,
        result: outcome.result,
        version: outcome.version,
        shard_id: outcome.shard_id,
      });
    }, API_DOCS["PUT /api/:index/document"]),
    route("GET", "/api/:index/document/:id", async (request, params) => {
      const routingKey = new URL(request.url).searchParams.get("routing_key") ?? undefined;
      const id = decodePathPart(params.id!);
      const found = await call(() => db.get(params.index!, id, routingKey));
      if (found === null) {
        throw new HttpError(
          404,
          "Not found",
          `Document "${id}" does not exist in index "${params.index}"`,
        );
      }
      return json({ id: found.id, version: found.version, doc: found.doc });
    }, API_DOCS["GET /api/:index/document/:id"]),
    route("DELETE", "/api/:index/document", async (request, params) => {
      const query = new URL(request.url).searchParams;
      const routingKey = query.get("routing_key");
      const outcome = await single([{
        op: "delete",
        index: params.index!,
        id: query.get("id") ?? "",
        ...(routingKey === null ? {} : { routing_key: routingKey }),
      }]);
      return json({
        id: outcome.id,
        result: outcome.result,
        version: outcome.version,
        shard_id: outcome.shard_id,
      });
    }, API_DOCS["DELETE /api/:index/document"]),
    route("POST", "/api/:index/_bulk", async (request, params) => {
      const started = performance.now();
      const items = await body(request);
      if (!Array.isArray(items)) {
        throw new HttpError(
          400,
          "Bad request",
          "a bulk body is a JSON array of {id, routing_key?, doc}",
        );
      }
      const writes = items.map((item) => {
        const entry = (typeof item === "object" && item !== null ? item : {}) as Record<
          string,
          unknown
        >;
        return {
          op: "put" as const,
          index: params.index!,
          id: entry.id,
          ...(entry.routing_key === undefined ? {} : { routing_key: entry.routing_key }),
          doc: entry.doc,
        };
      });
      const outcomes = await call(() => db.write(writes));
      const errors = bulkErrors(outcomes);
      return json({
        items_written: outcomes.length - errors.length,
        items_received: items.length,
        errors,
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
      });
    }, API_DOCS["POST /api/:index/_bulk"]),
    route("POST", "/api/:index/_bulk/delete", async (request, params) => {
      const started = performance.now();
      const items = await body(request);
      if (!Array.isArray(items)) {
        throw new HttpError(
          400,
          "Bad request",
          "a bulk delete body is a JSON array of ids or {id, routing_key}",
        );
      }
      const writes = items.map((item) => {
        const entry: Record<string, unknown> = typeof item === "object" && item !== null
          ? item as Record<string, unknown>
          : { id: item };
        return {
          op: "delete" as const,
          index: params.index!,
          id: entry.id,
          ...(entry.routing_key === undefined ? {} : { routing_key: entry.routing_key }),
        };
      });
      const outcomes = await call(() => db.write(writes));
      const errors = bulkErrors(outcomes);
      return json({
        items_received: items.length,
        items_deleted: outcomes.filter((outcome) =>
          outcome.ok && outcome.result === "deleted"
        ).length,
        errors,
        duration_ms: Math.round((performance.now() - started) * 100) / 100,
      });
    }, API_DOCS["POST /api/:index/_bulk/delete"]),
    route("POST", "/api/:index/search", async (request, params) => {
      const input = await body(request);
      return json(await call(() => db.search(params.index!, input)));
    }, API_DOCS["POST /api/:index/search"]),
    route("POST", "/api/:index/search/stream", async (request, params) => {
      const input = await body(request);
      return searchStream(await call(() => db.searchStream(params.index!, input)));
    }, API_DOCS["POST /api/:index/search/stream"]),
    route("POST", "/api/:index/document/stream", async (request, params) => {
      const type = request.headers.get("content-type") ?? "";
      if (!/^application\/(x-ndjson|jsonl|json-seq|ndjson)\b/i.test(type)) {
        throw new HttpError(
          415,
          "Unsupported media type",
          `expected Content-Type: application/x-ndjson, got "${type}"`,
        );
      }
      return json(
        await call(() => ingestStream(db, params.index!, request, options.batchSize ?? 1_000)),
      );
    }, API_DOCS["POST /api/:index/document/stream"]),
  ];
}
