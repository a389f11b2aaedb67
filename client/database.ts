/**
 * The database as an application sees it: one interface for the HTTP client
 * ({@linkcode connect}) and for an embedded database, checked by one conformance suite
 * (`database_conformance.ts`). Answers keep the HTTP API's field names (snake_case), so the same
 * code reads a JSON answer, a client answer and an embedded answer alike.
 *
 * @module
 */

/** A database's health. */
export interface DatabaseHealth {
  /** Overall state (database) or whether every line was written (stream). */
  status: "green" | "yellow" | "red";
  /** The answering node's id. */
  node_id: string;
  /** The answering node's name. */
  node_name: string;
  /** The cluster's name. */
  cluster_name: string;
  /** Whether the node runs in a cluster. */
  cluster_enabled: boolean;
  /** Members of the cluster (1 alone). */
  total_nodes: number;
  /** Members connected now. */
  connected_nodes: number;
  /** Microshards running on the node. */
  active_shards: number;
  /** Indexes known. */
  total_indexes: number;
  /** In a cluster: every member and whether it is connected. */
  nodes?: Array<
    { node_id: string; name: string; connected: boolean; http: string; peer_id: string }
  >;
}

/** A document as written: its id, an optional routing key, and the document. */
export interface DocumentInput<T> {
  /** 1–512 bytes, no control characters. */
  id: string;
  /** Places the document instead of its id (documents with one key share a shard). */
  routing_key?: string;
  /** The JSON document; fields starting with `_` are reserved. */
  doc: T;
}

/** The outcome of one write. */
export interface WriteResult {
  /** The document id. */
  id: string;
  /** What the write did. */
  result: "created" | "updated" | "deleted" | "not_found";
  /** The document's (or schema's) version, +1 per change. */
  version: number;
  /** The node-local shard that holds it. */
  shard_id?: number;
}

/** A document as stored. */
export interface StoredDocument<T> {
  /** The document id. */
  id: string;
  /** The document's (or schema's) version, +1 per change. */
  version: number;
  /** The document. */
  doc: T;
}

/** One refused item of a bulk request. */
export interface BulkItemError {
  /** Its position in the request, from 0. */
  item: number;
  /** The document id. */
  id: string;
  /** Why it was refused. */
  error: string;
  /** The status it would have answered alone. */
  status: number;
}

/** The answer of a bulk write. */
export interface BulkResult {
  /** Documents written. */
  items_written: number;
  /** Items in the request. */
  items_received: number;
  /** The refused items. */
  errors: BulkItemError[];
  /** Time the server took, in milliseconds. */
  duration_ms: number;
}

/** The answer of a bulk delete. */
export interface BulkDeleteResult {
  /** Items in the request. */
  items_received: number;
  /** Documents that existed and were deleted. */
  items_deleted: number;
  /** The refused items. */
  errors: BulkItemError[];
  /** Time the server took, in milliseconds. */
  duration_ms: number;
}

/** The answer of a streamed (NDJSON) ingest. */
export interface StreamResult {
  /** Overall state (database) or whether every line was written (stream). */
  status: "ok" | "partial";
  /** Documents written. */
  items_written: number;
  /** Non-blank lines read. */
  lines_received: number;
  /** Batches written. */
  batches: number;
  /** `line N: …`, at most 1,000 of them. */
  errors: string[];
  /** The number of errors when more than listed. */
  errors_total?: number;
}

/** A sort key. */
export interface SortKey<T> {
  /** The field to sort on. */
  field: (keyof T & string) | (string & Record<never, never>);
  /** `asc` (default) or `desc`. */
  order?: "asc" | "desc";
}

/** A facet: value counts (no options) or range buckets. */
export interface FacetRequest {
  /** Range buckets for a number or date field; omit for value counts. */
  ranges?: Array<{ from?: number | string; to?: number | string }>;
}

/** A search request: the query language, plus what the JSON fields override. */
export interface SearchRequest<T, F extends keyof T & string = keyof T & string> {
  /** A query in the query language (`title:rust sort year:desc`). */
  query: string;
  /** At most 10,000; 0 only counts. */
  limit?: number;
  /** Hits skipped before the first returned. */
  offset?: number;
  /** Sort keys; override an inline `sort`. */
  sort?: SortKey<T> | Array<SortKey<T>>;
  /** The fields to return (the hits are typed with only these). */
  fields?: F[];
  /** Facets by field name. */
  facets?: Record<string, FacetRequest>;
  /** Ask for `_highlights` per hit: the fields to mark, and optionally the tags around matches. */
  highlight?: HighlightRequest;
}

/** What `highlight` asks: fields to mark, tags, fragment length, and whether text is escaped. */
export interface HighlightRequest {
  /** Text or string fields whose matched words are marked (1 to 32). */
  fields: string[];
  /** Put before a matched word; `<em>` by default. */
  pre_tag?: string;
  /** Put after a matched word; `</em>` by default. */
  post_tag?: string;
  /** Characters per fragment (1 to 10,000); 150 by default. */
  fragment_size?: number;
  /** `html` (default) escapes the stored text around the tags; `none` returns it as stored. */
  encoder?: "html" | "none";
}

/** One hit: the document's id, score, optional highlights and its (chosen) fields. */
export type Hit<T> = {
  /** The document id. */
  id: string;
  /** _score */
  _score: number;
  /** _highlights */
  _highlights?: Record<string, string[]>;
} & T;

/** A facet's answer. */
export interface FacetAnswer {
  /** The counts, largest first (values) or in the order asked (ranges). */
  buckets: Array<{ value?: unknown; from?: unknown; to?: unknown; count: number }>;
}

/** Everything about a search but its hits. */
export interface SearchFooter {
  /** Hits in this answer. */
  hits_returned: number;
  /** Every matching document (exact). */
  total_hits: number;
  /** The limit applied. */
  limit: number;
  /** Hits skipped before the first returned. */
  offset: number;
  /** Shards asked. */
  total_shards: number;
  /** Shards that did not answer. */
  failed_shards: number;
  /** Nodes asked (in a cluster). */
  nodes_contacted?: number;
  /** Nodes that did not answer. */
  nodes_failed?: number;
  /** Time the search took, in milliseconds. */
  took_ms: number;
  /** Facets by field name. */
  facets?: Record<string, FacetAnswer>;
}

/** A search's answer. */
export interface SearchAnswer<T> extends SearchFooter {
  /** The hits, best first (or in sort order). */
  hits: Array<Hit<T>>;
}

/** Hits as they arrive; `footer` is set once the last hit has been read. */
export interface HitStream<T> extends AsyncIterable<Hit<T>> {
  /** The totals, once the last hit has been read. */
  readonly footer: SearchFooter | undefined;
}

/** A field declaration. */
export interface FieldDeclaration {
  /** The name. */
  name: string;
  /** `text`, `string`, `i64`, `f64`, `boolean`, `date`, `json`, or `array<…>` of these. */
  type: string;
}

/** What `configure()` declares. */
export interface IndexConfiguration {
  /** The fields. */
  fields?: FieldDeclaration[];
  /** Chosen when the index is created. */
  engine?: "fts5" | "orama";
  /** A free-text description of the index. */
  description?: string;
  /** BM25's `k1` (0–10) and `b` (0–1), and a boost per text field; replaces the index's. */
  ranking?: RankingSettings;
}

/** An index's ranking: BM25's parameters and per text field a boost (its BM25F weight). */
export interface RankingSettings {
  /** Term-frequency saturation, 1.2 by default. */
  k1?: number;
  /** Length normalization, 0.75 by default. */
  b?: number;
  /** Per text field, its weight (above 0, at most 1,000; 1 when absent). */
  boosts?: Record<string, number>;
}

/** The answer of `configure()`. */
export interface ConfigureResult {
  /** Always true: the schema is in force. */
  acknowledged: boolean;
  /** The index name. */
  index: string;
  /** Shards holding the index. */
  shard_count: number;
  /** Every field of the schema, sorted. */
  field_names: string[];
}

/** An index's schema. */
export interface IndexSchema {
  /** The name. */
  name: string;
  /** The search engine: `fts5` or `orama`. */
  engine: string;
  /** The document's (or schema's) version, +1 per change. */
  version: number;
  /** A hash of the normalized schema. */
  thumbprint: string;
  /** Number of fields. */
  field_count: number;
  /** The fields. */
  fields: Array<{ name: string; type: string; indexed: boolean; sortable: boolean }>;
  /** The ranking in force (the defaults unless the index sets its own). */
  ranking?: Required<RankingSettings>;
}

/** The answer of `drop()`. */
export interface DropResult {
  /** Whether the index was removed. */
  success: boolean;
  /** The index name. */
  index: string;
  /** Shards the index was removed from. */
  deleted_from_shards: number;
  /** Shards asked. */
  total_shards: number;
}

/** One index in a listing. */
export interface IndexSummary {
  /** The name. */
  name: string;
  /** The search engine: `fts5` or `orama`. */
  engine?: string;
  /** Documents in the index. */
  document_count: number;
  /** Shards holding the index. */
  shard_count: number;
  /** Number of fields. */
  field_count: number;
  /** The fields. */
  fields: string[];
  /** Memory the index's engines use, in bytes. */
  memory_bytes?: number;
}

/** One index of the database, its documents typed `T`. */
export interface IndexHandle<T extends object = Record<string, unknown>> {
  /** The index name. */
  readonly name: string;
  /** Creates or replaces a document; the index is created if missing. */
  put(input: DocumentInput<T>): Promise<WriteResult>;
  /** The document, or `null` when there is none. */
  get(id: string, options?: { routing_key?: string }): Promise<StoredDocument<T> | null>;
  /** Deletes a document (`result: "not_found"` when there was none). */
  delete(id: string, options?: { routing_key?: string }): Promise<WriteResult>;
  /** Writes many documents; refused items are listed, the others written. */
  bulk(items: ReadonlyArray<DocumentInput<T>>): Promise<BulkResult>;
  /** Deletes many documents by id (or id and routing key). */
  bulkDelete(
    ids: ReadonlyArray<string | { id: string; routing_key?: string }>,
  ): Promise<BulkDeleteResult>;
  /** Writes documents as they come, without holding them all. */
  stream(
    items: AsyncIterable<DocumentInput<T>> | Iterable<DocumentInput<T>>,
  ): Promise<StreamResult>;
  /** Searches the index. */
  search<const F extends keyof T & string = keyof T & string>(
    request: SearchRequest<T, F>,
  ): Promise<SearchAnswer<Pick<T, F>>>;
  /** Searches, yielding hits as the database merges them. */
  searchStream<const F extends keyof T & string = keyof T & string>(
    request: SearchRequest<T, F>,
  ): HitStream<Pick<T, F>>;
  /** The index's schema; `NotFoundError` when there is no such index. */
  config(): Promise<IndexSchema>;
  /** Declares or extends the schema (creating the index). */
  configure(configuration: IndexConfiguration): Promise<ConfigureResult>;
  /** Removes the index, its documents and files. */
  drop(): Promise<DropResult>;
}

/** A CameoDB database: over HTTP ({@linkcode connect}) or embedded. */
export interface Database {
  /** A handle on one index (nothing is asked of the server until it is used). */
  index<T extends object = Record<string, unknown>>(name: string): IndexHandle<T>;
  /** Every index. */
  indexes(): Promise<IndexSummary[]>;
  /** The database's health. */
  health(): Promise<DatabaseHealth>;
  /** Releases the database; later calls reject with `DatabaseClosedError`. */
  close(): Promise<void>;
}
