/**
 * The node's part of `/_metrics`: documents per index, memory, the router's decisions and
 * failures, and (in a cluster) remote requests, retries and broadcast failures, read at
 * scrape time.
 *
 * @module
 */

import type { RoutedDatabase } from "../node/database.ts";
import type { Sample } from "./metrics.ts";

/** What the samples need of the cluster's health. */
export interface MembershipCounts {
  readonly total_nodes: number;
  readonly connected_nodes: number;
  /** The coordinator's counters (meetings, dials, and what peers sent that was refused). */
  readonly telemetry?: Readonly<Record<string, number>>;
}

/** Help texts of the coordinator's counters (`/_cluster/health` telemetry). */
const CLUSTER_COUNTERS: Readonly<Record<string, string>> = {
  malformed_frames: "Frames from peers that broke the protocol (their stream was closed).",
  slots_moved: "Slots this node handed to another node (streamed, then flipped).",
  documents_moved: "Documents this node streamed to the receivers of its moving slots.",
  moves_aborted:
    "Slot moves stopped midway (the receiver failed, a dual write failed) and retried.",
  oversized_frames: "Frames from peers over the frame size limit.",
  over_budget_frames: "Frames refused because unfinished frames were over their memory budget.",
  refused_requests: "Requests from peers refused (lifecycle, not exposed, not admitted).",
  refused_hellos: "Hellos refused (a node or peer id not matching its binding).",
  dial_failures: "Dials of members and seeds that failed.",
  view_changes: "Changes of the cluster view.",
};

/** Help texts of the executor's counters (in a cluster); others get a generic one. */
const EXECUTOR_COUNTERS: Readonly<Record<string, string>> = {
  remote_requests: "Requests sent to other nodes.",
  remote_retries: "Requests retried after the link to the owner broke.",
  remote_failures: "Requests to other nodes that failed.",
  broadcasts: "Scatter-gather operations.",
  broadcast_node_failures: "Nodes that failed or timed out in a broadcast.",
  refused_peer_stats: "Search statistics from other nodes refused (shape or ranges).",
  read_repairs: "Replicas brought up to date by a point read (read repair).",
  refused_unhealthy: "Calls not sent because their node was suspect or down.",
  refused_in_flight: "Calls not sent because too many were in flight to their node.",
  hints_stored: "Copies a replica missed, kept here as hints (hinted handoff).",
  hints_replayed: "Hints sent to their replica once it was live again.",
  hints_dropped: "Hints not kept because the hint bounds were reached.",
  hints_pending: "Hints kept here now, waiting for their replica.",
  anti_entropy_rounds: "Anti-entropy rounds (one replicated slot compared with its other owners).",
  anti_entropy_sweeps: "Anti-entropy passes over all 1,024 slots.",
  anti_entropy_slots_compared: "Slot digests compared with another owner, per index.",
  anti_entropy_buckets_differing: "Digest buckets that differed from another owner's.",
  anti_entropy_entries_pulled: "Documents and tombstones applied here from another owner's copy.",
  anti_entropy_entries_pushed: "Documents and tombstones another owner applied from this node.",
  anti_entropy_entries_repaired: "Documents and tombstones repaired by anti-entropy (both ways).",
  anti_entropy_buckets_skipped: "Digest buckets too large to exchange, skipped.",
  anti_entropy_failures: "Anti-entropy comparisons another owner did not answer.",
  anti_entropy_refused: "Malformed anti-entropy messages or answers from peers, refused.",
  move_bytes_streamed:
    "Bytes of documents this node streamed to the receivers of moving slots (bounded by move_bytes_per_sec).",
  anti_entropy_slots_rebuilt:
    "Slots of a node that started with an empty data directory, compared in full with their other live owners.",
};

/** Collects the node's samples. */
export async function nodeSamples(
  database: RoutedDatabase,
  cluster?: () => Promise<MembershipCounts>,
): Promise<Sample[]> {
  const [indexes, stats, health] = await Promise.all([
    database.indexes(),
    database.routerStats(),
    cluster?.(),
  ]);
  const memory = Deno.memoryUsage();
  const samples: Sample[] = [];
  for (const index of indexes) {
    samples.push({
      name: "cameodb_documents",
      help: "Documents stored on this node, by index.",
      type: "gauge",
      value: index.document_count,
      labels: { index: index.name },
    });
  }
  samples.push(
    {
      name: "cameodb_memory_bytes",
      help: "Memory of the main isolate's process, by kind.",
      type: "gauge",
      value: memory.rss,
      labels: { kind: "rss" },
    },
    {
      name: "cameodb_memory_bytes",
      help: "",
      type: "gauge",
      value: memory.heapUsed,
      labels: { kind: "heap_used" },
    },
  );
  for (const [kind, count] of Object.entries(stats.decisions)) {
    samples.push({
      name: "cameodb_router_decisions_total",
      help: "Routing decisions, by kind.",
      type: "counter",
      value: count,
      labels: { kind },
    });
  }
  samples.push(
    {
      name: "cameodb_router_failures_total",
      help: "Operations whose error reached the client.",
      type: "counter",
      value: stats.failures,
    },
    {
      name: "cameodb_router_in_flight",
      help: "Operations handed off and not yet answered.",
      type: "gauge",
      value: stats.inFlight,
    },
  );
  for (const [key, value] of Object.entries(stats.executor ?? {})) {
    const help = EXECUTOR_COUNTERS[key] ?? "Executor counter.";
    samples.push({ name: `cameodb_${key}_total`, help, type: "counter", value });
  }
  for (const [key, value] of Object.entries(health?.telemetry ?? {})) {
    samples.push({
      name: `cameodb_cluster_${key}_total`,
      help: CLUSTER_COUNTERS[key] ?? "Cluster counter.",
      type: "counter",
      value,
    });
  }
  if (health !== undefined) {
    samples.push(
      {
        name: "cameodb_cluster_nodes",
        help: "Members of the cluster, by state.",
        type: "gauge",
        value: health.connected_nodes,
        labels: { state: "connected" },
      },
      {
        name: "cameodb_cluster_nodes",
        help: "",
        type: "gauge",
        value: health.total_nodes - health.connected_nodes,
        labels: { state: "lost" },
      },
    );
  }
  return samples;
}
