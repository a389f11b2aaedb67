/**
 * The document, index and search endpoints over a node's {@linkcode Database}. Each
 * request is read and checked once, here, at the edge — bodies are JSON (415 otherwise), at
 * most `maxBodyBytes` (413); writes become checked `WriteCommand`s (`parseWrite`), searches
 * checked `SearchRequest`s — and errors map by name to statuses (`status.ts`).
 *
 * @module
 */

import { HttpError, json } from "./errors.ts";
import { type Route, route as undocumented, type RouteHandler } from "./router.ts";
import { API_DOCS } from "./api_docs.ts";
import { ingestStream, searchStream } from "./ndjson.ts";
import { decodePathPart, readJson, requireArray, requireObject } from "./body.ts";
import { statusOf, toHttpError } from "./status.ts";
import { describeFields, thumbprint } from "../storage/schema.ts";
import { rankingFromJson, rankingJson } from "../storage/ranking_config.ts";
import { type Database, writeBatch } from "../node/database.ts";
import type { IndexConfig, WriteResult } from "../node/executor.ts";
import { parseBatchItem, parseWrite, type WriteCommand } from "../node/write_command.ts";
import { parseSearchRequest } from "../query/request.ts";

export { readJson } from "./body.ts";
export { toHttpError } from "./status.ts";

/** Options of {@linkcode apiRoutes}. */
export interface ApiOptions {
  readonly maxBodyBytes: number;
  readonly nodeId: string;
  /** Documents per batch of an NDJSON stream. */
  readonly batchSize?: number;
  /** Longest NDJSON line accepted, in bytes. */
  readonly maxLineBytes?: number;
}

/** A route with its OpenAPI description (`api_docs.ts`, keyed by `METHOD pattern`). */
function route(method: string, pathname: string, handler: RouteHandler): Route {
  return undocumented(method, pathname, handler, API_DOCS[`${method} ${pathname}`]);
}

/** Default documents per batch of an NDJSON stream. */
const DEFAULT_STREAM_BATCH_SIZE = 1_000;

/** The errors of a bulk answer; `status` is what the item would have answered alone. */
function bulkErrors(outcomes: readonly WriteResult[]) {
  return outcomes.flatMap((outcome, item) =>
    outcome.ok ? [] : [{
      item,
      id: outcome.id,
      error: outcome.error.message,
      status: statusOf(outcome.error),
    }]
  );
}

/** Runs `fn`, turning known errors into their HTTP status. */
async function call<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (error) {
    throw error instanceof HttpError ? error : toHttpError(error as Error);
  }
}

/** Milliseconds since `started`, to two decimals. */
function tookMs(started: number): number {
  return Math.round((performance.now() - started) * 100) / 100;
}

/** Reads a `PUT /api/{index}/_config` body. */
function parseConfig(body: unknown): IndexConfig {
  const config = requireObject(body, "the configuration");
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
  if (config.ranking === undefined) return config as IndexConfig;
  let ranking;
  try {
    ranking = rankingFromJson(config.ranking);
  } catch (error) {
    throw toHttpError(error as Error);
  }
  return { ...(config as IndexConfig), ranking };
}

/** The routes of the document, index and search API. */
export function apiRoutes(db: Database, options: ApiOptions): Route[] {
  const body = (request: Request) => readJson(request, options.maxBodyBytes);
  const parse = <T>(fn: () => T) => {
    try {
      return fn();
    } catch (error) {
      throw toHttpError(error as Error);
    }
  };
  /** Writes one command and answers as a single-document endpoint does. */
  const writeOne = async (command: WriteCommand) => {
    const [outcome] = await call(() => db.write([command]));
    if (outcome === undefined) throw new Error("the node answered no outcome");
    if (!outcome.ok) throw toHttpError(outcome.error);
    return json({
      id: outcome.id,
      result: outcome.result,
      version: outcome.version,
      shard_id: outcome.shard_id,
      ...(outcome.ok && outcome.replicas_acknowledged !== undefined
        ? { replicas_acknowledged: outcome.replicas_acknowledged }
        : {}),
    });
  };
  return [
    ...indexRoutes(db, options, body),
    route("PUT", "/api/:index/document", async (request, params) => {
      const input = requireObject(await body(request), "the document request");
      return writeOne(parse(() => parseWrite("put", params.index!, input)));
    }),
    route("GET", "/api/:index/document/:id", async (request, params) => {
      const routingKey = new URL(request.url).searchParams.get("routing_key") ?? undefined;
      const index = params.index!;
      const command = parse(() =>
        parseWrite("delete", index, { id: decodePathPart(params.id!), routing_key: routingKey })
      );
      const found = await call(() => db.get(index, command.id, command.routingKey));
      if (found === null) {
        throw new HttpError(
          404,
          "Not found",
          `Document "${command.id}" does not exist in index "${index}"`,
        );
      }
      return json({ id: found.id, version: found.version, doc: found.doc });
    }),
    route("DELETE", "/api/:index/document", (request, params) => {
      const query = new URL(request.url).searchParams;
      const routingKey = query.get("routing_key");
      return writeOne(parse(() =>
        parseWrite("delete", params.index!, {
          id: query.get("id") ?? "",
          ...(routingKey === null ? {} : { routing_key: routingKey }),
        })
      ));
    }),
    ...bulkRoutes(db, body),
    ...searchRoutes(db, options, body, parse),
  ];
}

type ReadBody = (request: Request) => Promise<unknown>;
type Parse = <T>(fn: () => T) => T;

/** Listing, configuring and dropping indexes. */
function indexRoutes(db: Database, options: ApiOptions, body: ReadBody): Route[] {
  return [
    route("GET", "/_indexes", async () => {
      const started = performance.now();
      const indexes = await call(() => db.indexes());
      return json({
        indexes,
        total_indexes: indexes.length,
        total_shards: db.shardCount,
        node_id: options.nodeId,
        took_ms: tookMs(started),
      });
    }),
    route("GET", "/_cluster/_indexes", async () => {
      const started = performance.now();
      const gathered = await call(() => db.clusterIndexes());
      return json({ ...gathered, node_id: options.nodeId, took_ms: tookMs(started) });
    }),
    route("PUT", "/api/:index/_config", async (request, params) => {
      const config = parseConfig(await body(request));
      const index = params.index!;
      const { schema } = await call(() => db.configure(index, config));
      return json({
        acknowledged: true,
        index,
        shard_count: db.shardCount,
        field_names: Object.keys(schema.fields).sort(),
      });
    }),
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
        ranking: rankingJson(entry.ranking),
      });
    }),
    route("DELETE", "/api/:index", async (_request, params) => {
      const index = params.index!;
      const result = await call(() => db.dropIndex(index));
      return json({ success: true, index, ...result });
    }),
  ];
}

/** Bulk writes and deletes: every item parsed here, refused items answered per item. */
function bulkRoutes(db: Database, body: ReadBody): Route[] {
  return [
    route("POST", "/api/:index/_bulk", async (request, params) => {
      const started = performance.now();
      const items = requireArray(
        await body(request),
        "a bulk body is a JSON array of {id, routing_key?, doc}",
      );
      const parsed = items.map((item) => parseBatchItem("put", params.index!, item));
      const outcomes = await call(() => writeBatch(db, parsed));
      const errors = bulkErrors(outcomes);
      return json({
        items_written: outcomes.length - errors.length,
        items_received: items.length,
        errors,
        duration_ms: tookMs(started),
      });
    }),
    route("POST", "/api/:index/_bulk/delete", async (request, params) => {
      const started = performance.now();
      const items = requireArray(
        await body(request),
        "a bulk delete body is a JSON array of ids or {id, routing_key}",
      );
      const parsed = items.map((item) => parseBatchItem("delete", params.index!, item));
      const outcomes = await call(() => writeBatch(db, parsed));
      return json({
        items_received: items.length,
        items_deleted: outcomes.filter((o) => o.ok && o.result === "deleted").length,
        errors: bulkErrors(outcomes),
        duration_ms: tookMs(started),
      });
    }),
  ];
}

/** Searches (one answer, or NDJSON) and the NDJSON ingest stream. */
function searchRoutes(db: Database, options: ApiOptions, body: ReadBody, parse: Parse): Route[] {
  return [
    route("POST", "/api/:index/search", async (request, params) => {
      const input = await body(request);
      const checked = parse(() => parseSearchRequest(input));
      return json(await call(() => db.search(params.index!, checked)));
    }),
    route("POST", "/api/:index/search/stream", async (request, params) => {
      const input = await body(request);
      const checked = parse(() => parseSearchRequest(input));
      return searchStream(await call(() => db.searchStream(params.index!, checked)));
    }),
    route("POST", "/api/:index/document/stream", async (request, params) => {
      const type = request.headers.get("content-type") ?? "";
      if (!/^application\/(x-ndjson|jsonl|json-seq|ndjson)\b/i.test(type)) {
        throw new HttpError(
          415,
          "Unsupported media type",
          `expected Content-Type: application/x-ndjson, got "${type}"`,
        );
      }
      const batchSize = options.batchSize ?? DEFAULT_STREAM_BATCH_SIZE;
      const lines = options.maxLineBytes === undefined
        ? {}
        : { maxLineBytes: options.maxLineBytes };
      return json(await call(() => ingestStream(db, params.index!, request, batchSize, lines)));
    }),
  ];
}
