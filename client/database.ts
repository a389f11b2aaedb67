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
  status: "green" | "yellow" | "red";
  node_id: string;
  node_name: string;
  cluster_name: string;
  cluster_enabled: boolean;
  total_nodes: number;
  connected_nodes: number;
  active_shards: number;
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
  id: string;
  result: "created" | "updated" | "deleted" | "not_found";
  version: number;
  shard_id?: number;
}

/** A document as stored. */
export interface StoredDocument<T> {
  id: string;
  version: number;
  doc: T;
}

/** One refused item of a bulk request. */
export interface BulkItemError {
  /** Its position in the request, from 0. */
  item: number;
  id: string;
  error: string;
  /** The status it would have answered alone. */
  status: number;
}

/** The answer of a bulk write. */
export interface BulkResult {
  items_written: number;
  items_received: number;
  errors: BulkItemError[];
  duration_ms: number;
}

/** The answer of a bulk delete. */
export interface BulkDeleteResult {
  items_received: number;
  items_deleted: number;
  errors: BulkItemError[];
  duration_ms: number;
}

/** The answer of a streamed (NDJSON) ingest. */
export interface StreamResult {
  status: "ok" | "partial";
  items_written: number;
  lines_received: number;
  batches: number;
  /** `line N: …`, at most 1,000 of them. */
  errors: string[];
  /** The number of errors when more than listed. */
  errors_total?: number;
}

/** A sort key. */
export interface SortKey<T> {
  field: (keyof T & string) | (string & {});
  order?: "asc" | "desc";
}

/** A facet: value counts (no options) or range buckets. */
export interface FacetRequest {
  ranges?: Array<{ from?: number | string; to?: number | string }>;
}

/** A search request: the query language, plus what the JSON fields override. */
export interface SearchRequest<T, F extends keyof T & string = keyof T & string> {
  query: string;
  /** At most 10,000; 0 only counts. */
  limit?: number;
  offset?: number;
  sort?: SortKey<T> | Array<SortKey<T>>;
  /** The fields to return (the hits are typed with only these). */
  fields?: F[];
  facets?: Record<string, FacetRequest>;
  /** Ask for `_highlights` per hit (where the server supports it). */
  highlight?: boolean | { fields?: string[] };
}

/** One hit: the document's id, score, optional highlights and its (chosen) fields. */
export type Hit<T> = {
  id: string;
  _score: number;
  _highlights?: Record<string, string[]>;
} & T;

/** A facet's answer. */
export interface FacetAnswer {
  buckets: Array<{ value?: unknown; from?: unknown; to?: unknown; count: number }>;
}

/** Everything about a search but its hits. */
export interface SearchFooter {
  hits_returned: number;
  total_hits: number;
  limit: number;
  offset: number;
  total_shards: number;
  failed_shards: number;
  nodes_contacted?: number;
  nodes_failed?: number;
  took_ms: number;
  facets?: Record<string, FacetAnswer>;
}

/** A search's answer. */
export interface SearchAnswer<T> extends SearchFooter {
  hits: Array<Hit<T>>;
}

/** Hits as they arrive; `footer` is set once the last hit has been read. */
export interface HitStream<T> extends AsyncIterable<Hit<T>> {
  readonly footer: SearchFooter | undefined;
}

/** A field declaration. */
export interface FieldDeclaration {
  name: string;
  /** `text`, `string`, `i64`, `f64`, `boolean`, `date`, `json`, or `array<…>` of these. */
  type: string;
}

/** What `configure()` declares. */
export interface IndexConfiguration {
  fields?: FieldDeclaration[];
  /** Chosen when the index is created. */
  engine?: "fts5" | "orama";
  description?: string;
}

/** The answer of `configure()`. */
export interface ConfigureResult {
  acknowledged: boolean;
  index: string;
  shard_count: number;
  field_names: string[];
}

/** An index's schema. */
export interface IndexSchema {
  name: string;
  engine: string;
  version: number;
  thumbprint: string;
  field_count: number;
  fields: Array<{ name: string; type: string; indexed: boolean; sortable: boolean }>;
}

/** The answer of `drop()`. */
export interface DropResult {
  success: boolean;
  index: string;
  deleted_from_shards: number;
  total_shards: number;
}

/** One index in a listing. */
export interface IndexSummary {
  name: string;
  engine?: string;
  document_count: number;
  shard_count: number;
  field_count: number;
  fields: string[];
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
