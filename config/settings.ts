/**
 * Every setting of `cameodb.toml`, in one table: its path, type, default, bounds and what
 * it means. The table drives defaults, validation, environment overrides
 * (`CAMEODB_<SECTION>_<KEY>`) and the commented file `cameodb generate-config` prints.
 *
 * @module
 */

/** A setting's type. */
export type SettingType = "string" | "integer" | "boolean" | "string[]";

/** One setting. */
export interface Setting {
  /** Section path and key, e.g. `["network", "http", "port"]`. */
  readonly path: readonly string[];
  readonly type: SettingType;
  readonly default: string | number | boolean | readonly string[];
  readonly min?: number;
  readonly max?: number;
  /** For a `string`: the values it may take (any string when absent). */
  readonly choices?: readonly string[];
  readonly doc: string;
}

/** The settings, in the order of the generated file. */
export const SETTINGS: readonly Setting[] = [
  {
    path: ["node", "label"],
    type: "string",
    default: "",
    doc: "this node's name (default: the host name)",
  },
  {
    path: ["node", "zone"],
    type: "string",
    default: "",
    doc: "availability zone: a slot's replicas go to different zones while there are zones left",
  },
  {
    path: ["network", "http", "bind_address"],
    type: "string",
    default: "127.0.0.1",
    doc: "address the HTTP API listens on",
  },
  {
    path: ["network", "http", "port"],
    type: "integer",
    default: 9480,
    min: 0,
    max: 65_535,
    doc: "HTTP port (0 picks a free one)",
  },
  {
    path: ["network", "http", "request_timeout_secs"],
    type: "integer",
    default: 30,
    min: 1,
    max: 3_600,
    doc: "a request still running after this is answered 408",
  },
  {
    path: ["network", "http", "max_body_size_mb"],
    type: "integer",
    default: 100,
    min: 1,
    max: 10_240,
    doc: "larger request bodies are answered 413 (NDJSON streams: see max_line_size_mb)",
  },
  {
    path: ["network", "http", "max_concurrent_requests"],
    type: "integer",
    default: 256,
    min: 1,
    max: 100_000,
    doc: "requests beyond this are answered 503 with Retry-After",
  },
  {
    path: ["network", "http", "reserved_concurrent_requests"],
    type: "integer",
    default: 16,
    min: 0,
    max: 50_000,
    doc: "of max_concurrent_requests, kept for health, metrics and small reads (at most half)",
  },
  {
    path: ["network", "http", "max_requests_per_client"],
    type: "integer",
    default: 128,
    min: 1,
    max: 100_000,
    doc: "requests one client address may run at once (health and metrics not counted)",
  },
  {
    path: ["network", "http", "max_connections_per_client"],
    type: "integer",
    default: 128,
    min: 1,
    max: 100_000,
    doc: "connections one client address may hold open; more are answered 503",
  },
  {
    path: ["network", "http", "max_connections"],
    type: "integer",
    default: 4_096,
    min: 1,
    max: 1_000_000,
    doc: "connections open at once in all; more are answered 503",
  },
  {
    path: ["network", "http", "header_timeout_secs"],
    type: "integer",
    default: 10,
    min: 1,
    max: 3_600,
    doc: "a request's headers must arrive within this (also closes idle keep-alive connections)",
  },
  {
    path: ["network", "http", "body_idle_timeout_secs"],
    type: "integer",
    default: 10,
    min: 1,
    max: 3_600,
    doc: "a request body that sends nothing for this long is answered 408",
  },
  {
    path: ["network", "http", "max_concurrent_bodies"],
    type: "integer",
    default: 4,
    min: 1,
    max: 10_000,
    doc: "whole bodies read at once may add up to max_body_size_mb times this; more get 503",
  },
  {
    path: ["network", "http", "max_line_size_mb"],
    type: "integer",
    default: 16,
    min: 1,
    max: 1_024,
    doc: "longest line of an NDJSON body; a longer one is answered 413",
  },
  {
    path: ["network", "http", "cors_allowed_origins"],
    type: "string[]",
    default: [],
    doc: 'origins allowed by CORS, e.g. ["https://app.example"]; ["*"] allows any',
  },
  {
    path: ["network", "http", "allowed_hosts"],
    type: "string[]",
    default: [],
    doc: "Host names served besides localhost, 127.0.0.1 and [::1] (a server without a master " +
      "key answers any other Host 403)",
  },
  {
    path: ["network", "http", "tls_cert_file"],
    type: "string",
    default: "",
    doc: "PEM certificate (chain) file: serve HTTPS (needs tls_key_file)",
  },
  {
    path: ["network", "http", "tls_key_file"],
    type: "string",
    default: "",
    doc: "PEM private key file of tls_cert_file",
  },
  {
    path: ["network", "cluster", "enabled"],
    type: "boolean",
    default: false,
    doc: "join a cluster over libp2p",
  },
  {
    path: ["network", "cluster", "bind_address"],
    type: "string",
    default: "127.0.0.1",
    doc: "address the cluster transport listens on",
  },
  {
    path: ["network", "cluster", "port"],
    type: "integer",
    default: 9580,
    min: 0,
    max: 65_535,
    doc: "cluster port",
  },
  {
    path: ["network", "cluster", "cluster_name"],
    type: "string",
    default: "cameodb",
    doc: "nodes join only a cluster of the same name",
  },
  {
    path: ["network", "cluster", "seed_nodes"],
    type: "string[]",
    default: [],
    doc: "multiaddrs of nodes to dial at start, e.g. /ip4/127.0.0.1/tcp/9580",
  },
  {
    path: ["network", "cluster", "psk"],
    type: "string",
    default: "",
    doc: "pre-shared key of the cluster's private swarm: required with --cluster, at least " +
      "16 characters, the same on every node (e.g. the output of `openssl rand -hex 24`)",
  },
  {
    path: ["network", "cluster", "heartbeat_interval_ms"],
    type: "integer",
    default: 500,
    min: 50,
    max: 60_000,
    doc: "how often coordinators send each other a heartbeat",
  },
  {
    path: ["network", "cluster", "suspect_after_ms"],
    type: "integer",
    default: 2_000,
    min: 100,
    max: 600_000,
    doc: "a node silent this long is suspect: no new point operations go to it",
  },
  {
    path: ["network", "cluster", "down_after_ms"],
    type: "integer",
    default: 5_000,
    min: 100,
    max: 3_600_000,
    doc: "a node silent this long is down",
  },
  {
    path: ["network", "cluster", "remote_timeout_ms"],
    type: "integer",
    default: 2_000,
    min: 10,
    max: 600_000,
    doc: "deadline of one point operation (read, write, delete) on another node",
  },
  {
    path: ["network", "cluster", "max_in_flight_per_node"],
    type: "integer",
    default: 64,
    min: 1,
    max: 100_000,
    doc: "requests to one node in flight at once; more fail fast with 503",
  },
  {
    path: ["network", "cluster", "max_slots_moving"],
    type: "integer",
    default: 4,
    min: 1,
    max: 1_024,
    doc: "slots one node streams to others at once when membership changes",
  },
  {
    path: ["network", "cluster", "replication_factor"],
    type: "integer",
    default: 3,
    min: 1,
    max: 16,
    doc:
      "nodes holding each slot (effectively min(this, members): 1 alone, 2 with two nodes): its first distinct nodes on the ring",
  },
  {
    path: ["network", "cluster", "write_quorum"],
    type: "integer",
    default: 0,
    min: 0,
    max: 16,
    doc:
      "replicas that must make a write durable before it is acknowledged; 0: a majority of the slot's owners (min(replication_factor, members): 2 of 3, 2 of 2, 1 of 1)",
  },
  {
    path: ["network", "cluster", "read_quorum"],
    type: "integer",
    default: 1,
    min: 1,
    max: 16,
    doc:
      "replicas whose answers a point read waits for (the newest stamp wins, older replicas are repaired); with read_quorum + write_quorum > replication_factor a read sees every acknowledged write",
  },
  {
    path: ["network", "cluster", "anti_entropy_interval_ms"],
    type: "integer",
    default: 100,
    min: 0,
    max: 3_600_000,
    doc:
      "wait between two anti-entropy rounds (each compares one replicated slot with its other owners); 0: none",
  },
  {
    path: ["network", "cluster", "move_page_docs"],
    type: "integer",
    default: 500,
    min: 1,
    max: 1_000,
    doc: "documents (or tombstones) per page of a moving slot's stream",
  },
  {
    path: ["network", "cluster", "move_bytes_per_sec"],
    type: "integer",
    default: 67_108_864,
    min: 0,
    max: 10_737_418_240,
    doc:
      "bytes per second this node streams moving slots at most, all moves together (64 MiB); 0: no bound",
  },
  {
    path: ["storage", "data_paths"],
    type: "string[]",
    default: ["./data/cameodb"],
    doc: "data directories (the first holds the node's data)",
  },
  {
    path: ["storage", "wal_sync"],
    type: "string",
    default: "always",
    choices: ["always", "batch"],
    doc: "a write is acknowledged once its commit is durable (fsynced); always: a shard " +
      "commits as soon as it holds a write; batch: it first waits wal_batch_window_ms for " +
      "more writers to share the fsync",
  },
  {
    path: ["storage", "wal_batch_window_ms"],
    type: "integer",
    default: 2,
    min: 1,
    max: 1_000,
    doc: "with wal_sync = batch, how long a shard holding a write waits for more before it commits",
  },
  {
    path: ["storage", "default_batch_size"],
    type: "integer",
    default: 1_000,
    min: 1,
    max: 100_000,
    doc: "documents per batch of an NDJSON stream",
  },
  {
    path: ["storage", "num_shards_init"],
    type: "integer",
    default: 4,
    min: 1,
    max: 1_024,
    doc: "microshards of a new node (fixed once the node has data)",
  },
  {
    path: ["storage", "point_reads"],
    type: "string",
    default: "main",
    choices: ["main", "workers", "shards"],
    doc: "who answers point reads: main, from the main isolate's own KV handles (no worker " +
      "hop); workers, reader_workers workers with KV handles of their own (both never wait " +
      "behind a write); shards, the shard workers (behind their write batches)",
  },
  {
    path: ["storage", "reader_workers"],
    type: "integer",
    default: 2,
    min: 0,
    max: 1_024,
    doc: "with point_reads = workers: workers answering point reads from their own KV " +
      "handles (at most one per shard; 0: the shard workers answer them)",
  },
  {
    path: ["storage", "shard_worker_niceness"],
    type: "integer",
    default: 10,
    min: 0,
    max: 19,
    doc: "the scheduling niceness of the shard worker threads (Linux): above 0, HTTP and " +
      "point reads get a core before a bulk's indexing does (0: equal)",
  },
  {
    path: ["storage", "max_shards_per_node"],
    type: "integer",
    default: 256,
    min: 1,
    max: 4_096,
    doc: "most microshards one node hosts",
  },
  {
    path: ["storage", "tombstone_grace_ms"],
    type: "integer",
    default: 10 * 24 * 60 * 60 * 1_000,
    min: 0,
    max: 365 * 24 * 60 * 60 * 1_000,
    doc: "a delete's tombstone is kept this long (10 days), never while its slot moves, and " +
      "with replicas until every replica of its slot holds it",
  },
  {
    path: ["storage", "tombstone_collect_interval_ms"],
    type: "integer",
    default: 60 * 60 * 1_000,
    min: 10,
    max: 24 * 60 * 60 * 1_000,
    doc: "tombstones past their grace are collected at most this often (an hour)",
  },
  {
    path: ["search", "indexer_memory_min_mb"],
    type: "integer",
    default: 16,
    min: 1,
    max: 65_536,
    doc: "memory an index writer starts with (accepted; not used by this engine yet: a shard " +
      "applies its writes in slices of 500 operations)",
  },
  {
    path: ["search", "indexer_memory_max_mb"],
    type: "integer",
    default: 256,
    min: 1,
    max: 65_536,
    doc: "memory an index writer may grow to (accepted; not used by this engine yet)",
  },
  {
    path: ["search", "total_memory_limit_mb"],
    type: "integer",
    default: 4_096,
    min: 16,
    max: 1_048_576,
    doc: "writes are refused (503) once the indexes hold more than this",
  },
  {
    path: ["search", "search_threads"],
    type: "integer",
    default: 0,
    min: 0,
    max: 1_024,
    doc: "threads answering searches, 0: the number of cores (accepted; not used yet: each " +
      "shard worker answers its own shard's searches)",
  },
  {
    path: ["search", "default_search_limit"],
    type: "integer",
    default: 10,
    min: 0,
    max: 1_000_000,
    doc: "hits returned when a search names no limit",
  },
  {
    path: ["search", "max_search_limit"],
    type: "integer",
    default: 10_000,
    min: 1,
    max: 1_000_000,
    doc: "largest limit (and offset + limit) a search may ask",
  },
  {
    path: ["search", "broadcast_timeout_secs"],
    type: "integer",
    default: 5,
    min: 1,
    max: 600,
    doc: "a node that does not answer a search within this counts as failed",
  },
  {
    path: ["search", "remote_retry_attempts"],
    type: "integer",
    default: 2,
    min: 0,
    max: 10,
    doc: "retries of a remote write or read",
  },
  {
    path: ["search", "broadcast_fanout_limit"],
    type: "integer",
    default: 16,
    min: 1,
    max: 1_024,
    doc: "nodes a search asks at once",
  },
  {
    path: ["security", "master_key"],
    type: "string",
    default: "",
    doc: "master key, at least 16 bytes: every request then needs an API key (required when " +
      "HTTP binds a non-loopback address); set it through the environment, not in this file",
  },
];

/** The environment variable that overrides a setting: `CAMEODB_NETWORK_HTTP_PORT`. */
export function envName(setting: Setting): string {
  return `CAMEODB_${setting.path.join("_").toUpperCase()}`;
}

/** The dotted name of a setting: `network.http.port`. */
export function settingName(setting: Setting): string {
  return setting.path.join(".");
}

/** Finds the setting at a path. */
export function findSetting(path: readonly string[]): Setting | undefined {
  return SETTINGS.find((s) =>
    s.path.length === path.length && s.path.every((p, i) => p === path[i])
  );
}
