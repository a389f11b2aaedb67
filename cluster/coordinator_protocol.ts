/**
 * What the ClusterCoordinator speaks and needs: its messages and their replies, what
 * `GET /_cluster/nodes` and `DELETE /_cluster/nodes/{id}` answer, and the dependencies it is
 * built with (transport, pool, timers, log) — the coordinator's whole surface, apart from its
 * state, which lives in `_coordinator_state.ts` (the parts of the coordinator beside it).
 *
 * @module
 */

import type { IndexDrop } from "./index_drops.ts";
import type { ClusterHealth } from "./cluster_health.ts";
import type { SlotMoveMsg } from "./slot_moves.ts";
import type { WireEntry } from "./slot_table.ts";
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
    /** The sender's slot table news (unchecked until parsed; see {@linkcode SlotNews}). */
    slots?: unknown;
  }
  | { type: "heartbeatAnswered"; node: string; ok: boolean; records?: unknown; slots?: unknown }
  | SlotMoveMsg
  /** `POST /_cluster/nodes/{id}/_leave` for this node: hand every slot off, then leave. */
  | { type: "leave" }
  /** Keeps the slot table changed this turn (then `slotsPush`). */
  | { type: "slotsFlush" }
  /** Sends the entries changed (and now kept) to every member. */
  | { type: "slotsPush"; entries: Array<[number, WireEntry]> }
  /** A member answered a push. */
  | { type: "slotsPushed"; node: string; entries: Array<[number, WireEntry]>; answer: unknown }
  /** Keeps the slot table merged this turn. */
  | { type: "slotsPersist" }
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
  heartbeat: { nodeId: string; records: MemberRecord[]; slots: SlotNews };
  heartbeatAnswered: void;
  slotStreamed: void;
  slotDrop: void;
  slotDropped: void;
  leave: LeaveResult;
  slotsFlush: void;
  slotsPush: void;
  slotsPushed: void;
  slotsPersist: void;
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
  /** Slots it serves (by the slot table). */
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
  /** Slots it owned alone (no other replica), now owned by others: their documents are gone. */
  slots_lost: number;
}

/**
 * What a heartbeat (and its answer) tells of the sender's slot table: its digest, the whole
 * table when the sender last heard a different digest from the receiver (or when it changed
 * and is pushed), and how many slots the sender is still draining (flipped away, copy kept).
 */
export interface SlotNews {
  digest: string;
  table?: WireEntry[];
  /** The entries changed since the last push (a push carries these instead of the table). */
  entries?: Array<[number, WireEntry]>;
  draining: number;
  /**
   * Slots with a newer entry this node heard and holds back: it names an owner this node has
   * not met yet (`SlotTable.merge`). A push of them is not acknowledged by the answer.
   */
  waiting?: number[];
}

/** What `POST /_cluster/nodes/{node_id}/_leave` answers (at once; poll `GET /_cluster/nodes`). */
export interface LeaveResult {
  node_id: string;
  /** `leaving` while slots are handed off, `left` once none is held. */
  state: "leaving" | "left";
  /** Slots it still serves (they move off it one by one). */
  slots: number;
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
  /** The index drops this node knows (`index_drops.ts`), for its hellos; none when absent. */
  readonly indexDrops?: () => IndexDrop[];
  /** What peers sent that this node refused (counted by the links, host and coordinator). */
  readonly counters: TrustCounters;
  /**
   * Takes a peer's schemas and its index drops: the drops first (an index held here that one
   * drops is dropped), then the schemas not dropped.
   */
  readonly adoptSchemas: (
    schemas: readonly SchemaInfo[],
    drops: readonly IndexDrop[],
  ) => Promise<void>;
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
  readonly sendHeartbeat: (
    node: string,
    records: readonly MemberRecord[],
    slots?: SlotNews,
  ) => Promise<unknown>;
  /** Streams a slot to `to` and fences it (see `SlotMovesDeps.move`); resolves with documents. */
  readonly moveSlot?: (slot: number, to: string) => Promise<number>;
  /** Lifts the fence of an aborted move. */
  readonly abortMove?: (slot: number) => void;
  /** Drops this node's copy of a moved slot. */
  readonly dropSlot?: (slot: number) => Promise<void>;
  /** Keeps the tombstones of these slots (slots moving from here). */
  readonly holdSlots?: (slots: readonly number[]) => void;
  /** Owners per slot; 1 when absent (the server passes `replication_factor`, default 3). */
  readonly replicationFactor?: number;
  /** This node's copy of a slot leaves (it is no longer a replica): searches leave it out. */
  readonly leaveSlot?: (slot: number) => void;
  /** Moves one node runs at once; 4 by default. */
  readonly maxSlotsMoving?: number;
  /** Time a flipped slot's copy is kept after every member acknowledged the flip, in ms. */
  readonly dropGraceMs?: number;
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
