/**
 * The cluster view: what the ClusterCoordinator knows of the cluster at one moment, as an
 * immutable value it hands to the router on every change. Also the data nodes exchange
 * when they meet.
 *
 * @module
 */

import type { IndexDrop } from "./index_drops.ts";
import type { MemberState } from "./failure_detector.ts";
import type { HashRing } from "./ring.ts";
import type { MemberRecord } from "./membership.ts";
import type { SlotTable, WireEntry } from "./slot_table.ts";
import { slotOf } from "../storage/slot.ts";

/** What a node tells about itself when it meets another. */
export interface NodeInfo {
  readonly nodeId: string;
  readonly name: string;
  readonly clusterName: string;
  readonly peerId: string;
  /** libp2p addresses, each ending in `/p2p/<peer id>`. */
  readonly addrs: readonly string[];
  /** The node's HTTP address. */
  readonly http: string;
  /** Local shards (workers) of the node. */
  readonly shardCount: number;
  /** The node's `node.zone` (replicas of a slot go to different zones); absent: none. */
  readonly zone?: string;
}

/** An index's schema as nodes exchange it. */
export interface SchemaInfo {
  readonly index: string;
  readonly engine: string;
  readonly fields: ReadonlyArray<{ name: string; type: string }>;
  /** When the index was born, in ms since the epoch (`index_drops.ts`); absent: unknown. */
  readonly bornAtMs?: number;
}

/** What two nodes exchange when they meet: who they are, whom they know, which schemas. */
export interface Hello {
  readonly info: NodeInfo;
  readonly members: readonly NodeInfo[];
  readonly schemas: readonly SchemaInfo[];
  /** The sender's membership records (absent from a peer of an older version). */
  readonly records?: readonly MemberRecord[];
  /** The sender's slot table (absent from a peer of an older version). */
  readonly slots?: readonly WireEntry[];
  /** The indexes the sender knows were dropped (`index_drops.ts`; absent: none known). */
  readonly drops?: readonly IndexDrop[];
}

/** One member as the view shows it. */
export interface MemberView {
  readonly info: NodeInfo;
  readonly connected: boolean;
  /**
   * The failure detector's verdict: `up`, `suspect` or `down` (always `down` when lost).
   * Absent means `up` when connected (views built by hand, in tests).
   */
  readonly state?: MemberState;
}

/** The cluster as the router routes by it. */
export interface ClusterView {
  /** This node's id. */
  readonly self: string;
  /** Every member, this node included. */
  readonly members: ReadonlyMap<string, MemberView>;
  /** The ring over every member (connected or not: a lost node keeps its slots). */
  readonly ring: HashRing;
  /** True until this node has met a member and holds the cluster's view: no data requests. */
  readonly joining?: boolean;
  /** Who serves each slot (routing goes by it); absent in views built by hand: the ring. */
  readonly slots?: SlotTable;
}

/** The node serving a slot: by the slot table, else (unknown, or no table) by the ring. */
export function ownerOfSlot(view: ClusterView, slot: number): string {
  return view.slots?.ownerOf(slot) ?? view.ring.ownerOfSlot(slot);
}

/** The members a broadcast can reach (this node first). */
export function reachable(view: ClusterView): string[] {
  const nodes = [view.self];
  for (const [node, member] of view.members) {
    if (node !== view.self && member.connected) nodes.push(node);
  }
  return nodes;
}

/** The node that owns a write: by its routing key, else its id. */
export function ownerOfWrite(
  view: ClusterView,
  write: { readonly id: string; readonly routingKey?: string },
): string {
  return ownerOfSlot(view, slotOf(write.routingKey ?? write.id));
}

/** Whether a member can answer now: connected, and not suspect or down (this node always). */
export function isLive(view: ClusterView, node: string): boolean {
  if (node === view.self) return true;
  const member = view.members.get(node);
  return member?.connected === true && (member.state ?? "up") === "up";
}
