/**
 * The {@linkcode Executor}: what runs a client operation once the RouterActor has taken it.
 * Two implementations: {@linkcode LocalExecutor} (a node alone: everything on its own
 * shards) and the cluster's executor (`cluster/cluster_executor.ts`: the owner node, or every
 * node, by the cluster view). The router knows only this interface, so `node/` never
 * imports `cluster/`.
 *
 * @module
 */

import type { StoredDocument, WriteOutcome } from "../storage/microshard.ts";
import type { Bm25Params } from "../storage/bm25.ts";
import type { Schema } from "../storage/schema.ts";
import type { EngineName } from "../storage/search_index.ts";
import type { SearchPages } from "../query/pipeline.ts";
import type { SearchRequest } from "../query/request.ts";
import type { WriteCommand } from "./write_command.ts";

/** Index configuration as a client sends it (`PUT /api/{index}/_config`). */
export interface IndexConfig {
  readonly fields?: ReadonlyArray<{ readonly name: string; readonly type: string }>;
  readonly engine?: string;
  readonly description?: string;
  /**
   * BM25's `k1`, `b` and field boosts (boosts as `[field, boost]` pairs: see
   * `storage/ranking_config.ts`), replacing the index's; checked against its schema.
   */
  readonly ranking?: Bm25Params;
}

/** An index's schema and engine, as the node keeps them, and its ranking settings if set. */
export interface IndexSchema {
  readonly schema: Schema;
  readonly engine: EngineName;
  readonly ranking?: Bm25Params;
}

/** What `/_indexes` shows of one index. */
export interface IndexSummary {
  name: string;
  engine: EngineName;
  document_count: number;
  shard_count: number;
  field_count: number;
  fields: string[];
  memory_bytes: number;
}

/** What `/_cluster/_indexes` shows: every node's indexes, merged by name. */
export interface ClusterIndexes {
  indexes: Array<IndexSummary & { nodes: number }>;
  total_indexes: number;
  nodes_contacted: number;
  nodes_failed: number;
  failed_nodes: string[];
}

/** The outcome of one write, with the local shard that took it. */
export type WriteResult = WriteOutcome & {
  readonly shard_id?: number;
  /** Replicas that made the write durable and searchable (a cluster with replication). */
  readonly replicas_acknowledged?: number;
};

/** What dropping an index did. */
export interface DroppedIndex {
  readonly deleted_from_shards: number;
  readonly total_shards: number;
}

/** A client operation, as the router receives it. */
export type Operation =
  | { readonly type: "write"; readonly commands: readonly WriteCommand[] }
  | {
    readonly type: "get";
    readonly index: string;
    readonly id: string;
    readonly routingKey?: string;
  }
  | { readonly type: "search"; readonly index: string; readonly request: SearchRequest }
  | { readonly type: "searchPages"; readonly index: string; readonly request: SearchRequest }
  | { readonly type: "configure"; readonly index: string; readonly config: IndexConfig }
  | { readonly type: "dropIndex"; readonly index: string }
  | { readonly type: "indexes" }
  | { readonly type: "clusterIndexes" };

/** Where an operation runs. */
export type RoutingDecision =
  | { readonly kind: "local" }
  | { readonly kind: "remote"; readonly nodes: readonly string[] }
  | { readonly kind: "broadcast"; readonly nodes: readonly string[] };

/** Runs client operations: here, on their owner node, or on every node. */
export interface Executor {
  /** Where `op` runs (the router counts decisions; execution decides again, the same way). */
  decide(op: Operation): RoutingDecision;
  write(commands: readonly WriteCommand[]): Promise<WriteResult[]>;
  get(index: string, id: string, routingKey?: string): Promise<StoredDocument | null>;
  /** Every shard's page of a search, unmerged (merged by the caller, or streamed). */
  searchPages(index: string, request: SearchRequest): Promise<SearchPages>;
  configure(index: string, config: IndexConfig): Promise<IndexSchema>;
  dropIndex(index: string): Promise<DroppedIndex>;
  /** This node's indexes. */
  indexes(): Promise<IndexSummary[]>;
  /** Every node's indexes, merged by name. */
  clusterIndexes(): Promise<ClusterIndexes>;
  /** Counters of remote execution, if any, for `/_metrics`. */
  stats(): Readonly<Record<string, number>> | undefined;
}
