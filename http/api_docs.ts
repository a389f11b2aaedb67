/**
 * What the OpenAPI description says of each route: a summary, the request's and the answer's
 * JSON Schemas (2020-12, as OpenAPI 3.1 takes them), the query parameters, and the error statuses.
 * Each route of `api.ts` and `handler.ts` names its entry here (`route(method, path, handler,
 * API_DOCS["METHOD path"])`), and `openapi_test.ts` checks real answers against these schemas.
 *
 * @module
 */

import type { JsonSchema, RouteDoc } from "./openapi.ts";

const string: JsonSchema = { type: "string" };
const integer: JsonSchema = { type: "integer" };
const number: JsonSchema = { type: "number" };
const boolean: JsonSchema = { type: "boolean" };

function object(properties: Record<string, JsonSchema>, optional: string[] = []): JsonSchema {
  return {
    type: "object",
    required: Object.keys(properties).filter((key) => !optional.includes(key)),
    properties,
  };
}

/** An index's ranking settings: BM25's k1 and b, and a boost per text field. */
const RANKING: JsonSchema = {
  ...object({
    k1: { type: "number", minimum: 0, maximum: 10 },
    b: { type: "number", minimum: 0, maximum: 1 },
    boosts: {
      type: "object",
      additionalProperties: { type: "number", exclusiveMinimum: 0, maximum: 1_000 },
    },
  }, ["k1", "b", "boosts"]),
};

/** The error answer of every route. */
export const ERROR_SCHEMA: JsonSchema = object({ error: string, details: string });

const documentInput = object({ id: string, routing_key: string, doc: { type: "object" } }, [
  "routing_key",
]);
const writeResult = object({
  id: string,
  result: { enum: ["created", "updated", "deleted", "not_found"] },
  version: integer,
  shard_id: integer,
  replicas_acknowledged: integer,
}, ["shard_id", "replicas_acknowledged"]);
const bulkErrors = {
  type: "array",
  items: object({ item: integer, id: string, error: string, status: integer }),
};
const sortKey = object({ field: string, order: { enum: ["asc", "desc"] } }, ["order"]);
const searchRequest: JsonSchema = {
  ...object({
    query: string,
    limit: { type: "integer", minimum: 0, maximum: 10_000 },
    offset: { type: "integer", minimum: 0 },
    fields: { type: "array", items: string },
    sort: { oneOf: [sortKey, { type: "array", items: sortKey }] },
    facets: {
      type: "object",
      additionalProperties: object({
        ranges: { type: "array", items: object({ from: {}, to: {} }, ["from", "to"]) },
      }, ["ranges"]),
    },
    highlight: {
      ...object({
        fields: { type: "array", items: string, minItems: 1, maxItems: 32 },
        pre_tag: string,
        post_tag: string,
        fragment_size: { type: "integer", minimum: 1, maximum: 10_000 },
        encoder: { enum: ["html", "none"] },
      }, ["pre_tag", "post_tag", "fragment_size", "encoder"]),
      additionalProperties: false,
    },
  }, ["limit", "offset", "fields", "sort", "facets", "highlight"]),
  additionalProperties: false,
};
const hit: JsonSchema = {
  ...object({ _score: number, id: string }),
  additionalProperties: true,
};
const footer = {
  hits_returned: integer,
  total_hits: integer,
  limit: integer,
  offset: integer,
  total_shards: integer,
  failed_shards: integer,
  nodes_contacted: integer,
  nodes_failed: integer,
  took_ms: number,
  facets: {
    type: "object",
    additionalProperties: object({
      buckets: { type: "array", items: object({ count: integer }) },
    }),
  },
};
const footerOptional = ["nodes_contacted", "nodes_failed", "facets"];
const indexSummary = object({
  name: string,
  engine: string,
  document_count: integer,
  shard_count: integer,
  field_count: integer,
  fields: { type: "array", items: string },
  memory_bytes: integer,
}, ["engine", "memory_bytes"]);
const indexList = {
  indexes: { type: "array", items: indexSummary },
  node_id: string,
  took_ms: number,
};
const index = { name: "index", description: "the index name (lowercase letters, digits, - and _)" };
const health = object({
  status: { enum: ["green", "yellow", "red"] },
  node_id: string,
  node_name: string,
  cluster_name: string,
  cluster_enabled: boolean,
  total_nodes: integer,
  connected_nodes: integer,
  active_shards: integer,
  total_indexes: integer,
});

/** Every route's description, by `"METHOD path"`. */
export const API_DOCS: Record<string, RouteDoc> = {
  "GET /_cluster/health": {
    summary: "The node's (and cluster's) health",
    tags: ["cluster"],
    response: { schema: health },
  },
  "GET /_cluster/nodes": {
    summary: "The cluster's members: membership state, health and the slots each owns",
    tags: ["cluster"],
    response: {
      schema: object({
        nodes: {
          type: "array",
          items: object({
            node_id: string,
            name: string,
            peer_id: string,
            http: string,
            state: { enum: ["joining", "up", "leaving", "left", "removed"] },
            health: { enum: ["up", "suspect", "down"] },
            version: { type: "array", items: { oneOf: [integer, string] } },
            slots: integer,
          }, ["name", "peer_id", "http", "health", "version"]),
        },
      }),
    },
  },
  "DELETE /_cluster/nodes/:node_id": {
    summary:
      "Forget a down node for good: its slots get new owners; slots_lost counts those it held alone (their documents are lost; a slot with other replicas keeps them)",
    tags: ["cluster"],
    params: [{ name: "node_id", description: "the node id of a member that is down" }],
    response: {
      schema: object({
        node_id: string,
        state: { enum: ["removed"] },
        already_removed: boolean,
        slots_lost: integer,
      }),
    },
    errors: [404, 409],
  },
  "POST /_cluster/nodes/:node_id/_leave": {
    summary:
      "A live node hands its slots off, then leaves: 200 once it is left, 202 (state leaving; poll GET /_cluster/nodes) when wait_ms (default 20000, 0 answers at once) ran out first",
    tags: ["cluster"],
    params: [{ name: "node_id", description: "the node id of a live member" }],
    query: [{
      name: "wait_ms",
      description: "how long to wait for the node to have left, in ms (0 to 600000)",
    }],
    response: { schema: object({ node_id: string, state: string, slots: integer }) },
    accepted: "Still leaving when wait_ms ran out: poll GET /_cluster/nodes",
    errors: [400, 404, 409],
  },
  "GET /_metrics": {
    summary: "Metrics in the Prometheus text format",
    tags: ["cluster"],
    response: { contentType: "text/plain", schema: string },
  },
  "GET /_indexes": {
    summary: "This node's indexes",
    tags: ["indexes"],
    response: {
      schema: object({ ...indexList, total_indexes: integer, total_shards: integer }),
    },
  },
  "GET /_cluster/_indexes": {
    summary: "Every node's indexes, merged by name",
    tags: ["indexes"],
    response: {
      schema: object({
        ...indexList,
        total_indexes: integer,
        nodes_contacted: integer,
        nodes_failed: integer,
      }),
    },
  },
  "PUT /api/:index/_config": {
    summary: "Declare or extend an index's schema (creating the index)",
    tags: ["indexes"],
    params: [index],
    request: {
      schema: {
        ...object({
          fields: { type: "array", items: object({ name: string, type: string }) },
          engine: { enum: ["fts5", "orama"] },
          description: string,
          ranking: RANKING,
        }, ["fields", "engine", "description", "ranking"]),
      },
      example: {
        fields: [{ name: "status", type: "string" }, { name: "title", type: "text" }],
        ranking: { k1: 1.2, b: 0.75, boosts: { title: 2 } },
      },
    },
    response: {
      schema: object({
        acknowledged: boolean,
        index: string,
        shard_count: integer,
        field_names: { type: "array", items: string },
      }),
    },
    errors: [400, 413, 415, 503],
  },
  "GET /api/:index/_config": {
    summary: "An index's schema",
    tags: ["indexes"],
    params: [index],
    response: {
      schema: object({
        name: string,
        engine: string,
        version: integer,
        thumbprint: string,
        field_count: integer,
        fields: {
          type: "array",
          items: object({ name: string, type: string, indexed: boolean, sortable: boolean }),
        },
        ranking: RANKING,
      }),
    },
    errors: [404],
  },
  "DELETE /api/:index": {
    summary: "Remove an index, its documents and its files",
    tags: ["indexes"],
    params: [index],
    response: {
      schema: object({
        success: boolean,
        index: string,
        deleted_from_shards: integer,
        total_shards: integer,
      }),
    },
    errors: [400, 503],
  },
  "PUT /api/:index/document": {
    summary: "Create or replace a document",
    tags: ["documents"],
    params: [index],
    request: {
      schema: documentInput,
      example: { id: "b1", doc: { title: "Rust Programming", year: 2019 } },
    },
    response: { schema: writeResult },
    errors: [400, 413, 415, 503, 507],
  },
  "GET /api/:index/document/:id": {
    summary: "Read a document",
    tags: ["documents"],
    params: [index, { name: "id", description: "the document id" }],
    query: [{ name: "routing_key", description: "the key the document was written with" }],
    response: { schema: object({ id: string, version: integer, doc: { type: "object" } }) },
    errors: [400, 404],
  },
  "DELETE /api/:index/document": {
    summary: "Delete a document",
    tags: ["documents"],
    params: [index],
    query: [
      { name: "id", description: "the document id", required: true },
      { name: "routing_key", description: "the key the document was written with" },
    ],
    response: { schema: writeResult },
    errors: [400, 503, 507],
  },
  "POST /api/:index/_bulk": {
    summary: "Write many documents; refused items are listed, the others written",
    tags: ["documents"],
    params: [index],
    request: {
      schema: { type: "array", items: documentInput },
      example: [{ id: "b2", doc: { title: "Go in Action", year: 2016 } }],
    },
    response: {
      schema: object({
        items_written: integer,
        items_received: integer,
        errors: bulkErrors,
        duration_ms: number,
      }),
    },
    errors: [400, 413, 415, 503, 507],
  },
  "POST /api/:index/_bulk/delete": {
    summary: "Delete many documents by id (or id and routing key)",
    tags: ["documents"],
    params: [index],
    request: {
      schema: {
        type: "array",
        items: { oneOf: [string, object({ id: string, routing_key: string }, ["routing_key"])] },
      },
      example: ["b2"],
    },
    response: {
      schema: object({
        items_received: integer,
        items_deleted: integer,
        errors: bulkErrors,
        duration_ms: number,
      }),
    },
    errors: [400, 413, 415, 503, 507],
  },
  "POST /api/:index/document/stream": {
    summary: "Write documents streamed as NDJSON, one {id, routing_key?, doc} a line",
    tags: ["documents"],
    params: [index],
    request: {
      contentType: "application/x-ndjson",
      schema: documentInput,
      example: '{"id":"w1","doc":{"word":"apple"}}\n',
    },
    response: {
      schema: object({
        status: { enum: ["ok", "partial"] },
        items_written: integer,
        lines_received: integer,
        batches: integer,
        errors: { type: "array", items: string },
        errors_total: integer,
      }, ["errors_total"]),
    },
    errors: [400, 413, 415, 503],
  },
  "POST /api/:index/search": {
    summary: "Search an index with the query language",
    tags: ["search"],
    params: [index],
    request: { schema: searchRequest, example: { query: "title:rust sort year:desc" } },
    response: {
      schema: object(
        { hits: { type: "array", items: hit }, ...footer },
        footerOptional,
      ),
    },
    errors: [400, 404, 413, 415, 503],
  },
  "POST /api/:index/search/stream": {
    summary: "Search, answered as NDJSON: one hit a line, then a {_footer} line",
    tags: ["search"],
    params: [index],
    request: { schema: searchRequest, example: { query: "*" } },
    response: {
      contentType: "application/x-ndjson",
      schema: { oneOf: [hit, object({ _footer: object(footer, footerOptional) })] },
    },
    errors: [400, 404, 413, 415, 503],
  },
  "GET /openapi.json": {
    summary: "This description",
    tags: ["meta"],
    response: { schema: { type: "object" } },
  },
  "GET /": {
    summary: "The web console",
    tags: ["meta"],
    response: { contentType: "text/html", schema: string },
  },
  "GET /console/:file": {
    summary: "The web console's script and style",
    tags: ["meta"],
    params: [{ name: "file", description: "console.js or console.css" }],
    response: { contentType: "text/javascript", schema: string },
    errors: [404],
  },
};
