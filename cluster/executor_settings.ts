/**
 * What the cluster's executor is configured with and counts: its settings (from `[search]`
 * and `[network]`), the counters `/_metrics` shows, how it finds a node's service, and the
 * named defaults its parts share.
 *
 * @module
 */

import type { RebuildingSlots } from "./rebuilding.ts";
import type { IndexDrops } from "./index_drops.ts";
import type { ActorRef } from "../actors/types.ts";
import type { SearchLimits } from "../query/search.ts";
import type { HintStore } from "./hints.ts";
import type { NodeBreaker } from "./node_breaker.ts";
import type { NodeServiceMsg, NodeServiceReplies } from "./node_service.ts";

/** Settings of remote execution (from `[search]` and `[network]`). */
export interface ClusterExecutorSettings {
  /** Time a remote node has to answer one operation of a broadcast, in ms. */
  readonly broadcastTimeoutMs: number;
  /** Time an owner node has to answer a write or point read, in ms. */
  readonly requestTimeoutMs: number;
  /** Extra attempts when the link to the owner broke before it answered. */
  readonly retryAttempts: number;
  /** Remote requests of one broadcast in flight at once. */
  readonly fanoutLimit: number;
  /** Limits of searches compiled here. */
  readonly limits?: SearchLimits;
  /** Time an owner has for a bulk of writes, in ms (point operations: `requestTimeoutMs`). */
  readonly bulkTimeoutMs?: number;
  /** Refuses calls to suspect or down nodes and caps calls in flight per node. */
  readonly breaker?: NodeBreaker;
  /** Documents (and tombstones) per page of a moving slot's stream; 500 by default. */
  readonly movePageDocs?: number;
  /** Bytes per second moving slots are streamed at most (`move_bytes_per_sec`); 0: no bound. */
  readonly moveBytesPerSec?: number;
  /** Owners per slot; 1 when absent (the server passes `replication_factor`, default 3). */
  readonly replicationFactor?: number;
  /** Replicas a write must reach (`write_quorum`); 0 or absent: a majority of the owners. */
  readonly writeQuorum?: number;
  /** Replicas a point read asks (`read_quorum`); 1 by default. */
  readonly readQuorum?: number;
  /** Where copies a replica missed are kept until it is back (hinted handoff). */
  readonly hints?: HintStore;
  /** Wait between two anti-entropy rounds (`anti_entropy_interval_ms`), in ms; 0: none. */
  readonly antiEntropyIntervalMs?: number;
  /**
   * The tombstone horizons reach the shards at most this often, in ms
   * (`storage.tombstone_collect_interval_ms`; an hour by default).
   */
  readonly tombstoneCollectIntervalMs?: number;
  /** Where this node keeps the indexes dropped in the cluster (`index_drops.ts`). */
  readonly indexDrops?: IndexDrops;
  /** The slots this node is rebuilding after it started with an empty data directory. */
  readonly rebuilding?: RebuildingSlots;
}

/** Default documents per page of a moving slot's stream. */
export const DEFAULT_MOVE_PAGE_DOCS = 500;

/** Counters for `/_metrics`. */
export type ClusterExecutorStats = {
  remote_requests: number;
  remote_retries: number;
  remote_failures: number;
  broadcasts: number;
  broadcast_node_failures: number;
  /** First-phase statistics from other nodes refused (`stats_schema.ts`). */
  refused_peer_stats: number;
  /** Replicas brought up to date by a point read (read repair). */
  read_repairs: number;
};

/** Every counter at zero: one object the executor's parts count into. */
export function zeroStats(): ClusterExecutorStats {
  return {
    remote_requests: 0,
    remote_retries: 0,
    remote_failures: 0,
    broadcasts: 0,
    broadcast_node_failures: 0,
    refused_peer_stats: 0,
    read_repairs: 0,
  };
}

/** Finds the node service of a node (a cached remote ref). */
export type ServiceLookup = (
  node: string,
) => Promise<ActorRef<NodeServiceMsg, NodeServiceReplies>>;
