/**
 * What the ClusterCoordinator speaks and needs: its messages and their replies, what
 * `GET /_cluster/nodes` and `DELETE /_cluster/nodes/{id}` answer, and the dependencies it is
 * built with (transport, pool, timers, log) — the coordinator's whole surface, apart from its
 * state, which lives in `coordinator.ts`.
 *
 * @module
 */

import type { ClusterHealth } from "./cluster_health.ts";
import type { MemberRecord, MembershipState } from "./membership.ts";
import type { TransportEvent } from "./transport.ts";
import type { TrustCounters } from "./trust_counters.ts";
import type { ClusterView, Hello, NodeInfo, SchemaInfo } from "./view.ts";

/** Messages of the ClusterCoordinator. */
export type CoordinatorMsg =
  | { type: "transport"; event: TransportEvent }
  | { type: "hello"; hello: Hello; /** The connection's peer, stamped by the host. */ peer: string }
  | { type: "welcomed"; peer: string; hello: Hello }
  | { type: "helloFailed"; peer: string; reason: string }
  | { type: "bootCheck" }
  | { type: "dialSeed"; seed: string }
  | { type: "adopted"; from: string }
  | { type: "tick" }
  | {
    type: "heartbeat";
    /** The connection's peer, stamped by the host. */ peer: string;
    /** The sender's membership records (unchecked until parsed). */ records?: unknown;
  }
  | { type: "heartbeatAnswered"; node: string; ok: boolean; records?: unknown }
  | { type: "nodes" }
  | { type: "remove"; nodeId: string }
  | { type: "seedDialed"; seed: string; error?: string }
  | { type: "view" }
  | { type: "health" };

/** Replies of the ClusterCoordinator. */
export type CoordinatorReplies = {
  transport: void;
  hello: Hello;
  welcomed: void;
  helloFailed: void;
  bootCheck: void;
  dialSeed: void;
  adopted: void;
  tick: void;
  heartbeat: { nodeId: string; records: MemberRecord[] };
  heartbeatAnswered: void;
  nodes: NodeListing;
  remove: RemovalResult;
  seedDialed: void;
  view: ClusterView;
  health: ClusterHealth;
};

/** One member as `GET /_cluster/nodes` lists it. */
export interface NodeEntry {
  node_id: string;
  name: string;
  peer_id: string;
  http: string;
  /** Its membership state (`joining`, `up`, `leaving`, `left`, `removed`). */
  state: MembershipState;
  /** What the failure detector says of it: `up`, `suspect` or `down`. */
  health: "up" | "suspect" | "down";
  /** Its record's version, `[epoch, origin]`. */
  version: readonly [number, string];
  /** Slots it owns on the ring. */
  slots: number;
}

/** What `GET /_cluster/nodes` answers. */
export interface NodeListing {
  nodes: NodeEntry[];
}

/** What `DELETE /_cluster/nodes/{node_id}` answers. */
export interface RemovalResult {
  node_id: string;
  state: "removed";
  /** Whether it was removed before this request (the request changed nothing). */
  already_removed: boolean;
  /** Slots it owned, now owned by others: without replication their documents are gone. */
  slots_lost: number;
}

/** What the coordinator needs from the node around it. */
export interface CoordinatorDeps {
  readonly self: NodeInfo;
  readonly dataDir: string;
  readonly seeds: readonly string[];
  /** Peer ids behind node ids: written by the coordinator only, read by the peer pool. */
  readonly peers: Map<string, string>;
  /** Asks a peer's coordinator `hello` over a fresh link. */
  readonly sendHello: (peer: string, hello: Hello) => Promise<Hello>;
  readonly dial: (address: string) => Promise<string>;
  readonly keepAlive: (peer: string, addrs: readonly string[]) => Promise<void>;
  /** Whether libp2p has a connection to `peer` now. */
  readonly isConnected: (peer: string) => boolean;
  readonly pool: {
    addNode(node: string): void;
    dropNode(node: string, reason: string): Promise<void>;
  };
  readonly schemas: () => SchemaInfo[];
  /** What peers sent that this node refused (counted by the links, host and coordinator). */
  readonly counters: TrustCounters;
  readonly adoptSchemas: (schemas: readonly SchemaInfo[]) => Promise<void>;
  /** Delivers a message to this coordinator (answers of its own requests, the boot check). */
  readonly tellSelf: (msg: CoordinatorMsg) => void;
  /** Told every new view. */
  readonly onView: (view: ClusterView) => void;
  /** When the boot check compares the kept member list with the peers that answered. */
  readonly bootCheckAfterMs: number;
  /**
   * Asks `node`'s coordinator for a heartbeat, carrying this node's membership records;
   * resolves with the records it answers with (unchecked).
   */
  readonly sendHeartbeat: (node: string, records: readonly MemberRecord[]) => Promise<unknown>;
  /** How often heartbeats go out to every connected member, in ms. */
  readonly heartbeatIntervalMs: number;
  /** Silence after which a member is suspect, in ms. */
  readonly suspectAfterMs: number;
  /** Silence after which a member is down, in ms. */
  readonly downAfterMs: number;
  readonly log: {
    info(message: string): void;
    warn(message: string): void;
    error(message: string): void;
  };
}
