/**
 * What `/_cluster/health` shows of the cluster, computed from the coordinator's state:
 * `green` when every member is connected and up; `yellow` when one is suspect, down or
 * lost but a majority is up, or while this node is joining; `red` without a majority, or
 * when every seed refused this node (it is not part of the cluster at all).
 *
 * @module
 */

import type { MemberState } from "./failure_detector.ts";
import type { TrustCounters } from "./trust_counters.ts";
import type { NodeInfo } from "./view.ts";
import { CLUSTER_SLOTS } from "../storage/slot.ts";

/** One member as health lists it. */
export interface MemberHealth {
  node_id: string;
  name: string;
  connected: boolean;
  /** `up`, `suspect` (silent past `suspect_after_ms`) or `down` (past `down_after_ms`, or lost). */
  state: MemberState;
  http: string;
  peer_id: string;
}

/** What `/_cluster/health` shows of the cluster. */
export interface ClusterHealth {
  status: "green" | "yellow" | "red";
  total_nodes: number;
  connected_nodes: number;
  /** True until this node has met a member and holds the cluster's view (no data requests). */
  joining: boolean;
  /** Why this node is not part of the cluster (every seed refused it), when it is not. */
  problem?: string;
  nodes: MemberHealth[];
  /** Differences between the member list kept on disk and the peers that answered at boot. */
  snapshot: { checked: boolean; missing: string[]; unexpected: string[] };
  /** Slots moving between nodes (pending, or flipped with the old copy not yet dropped). */
  rebalancing: { slots_moving: number; slots_total: number };
  telemetry: MeetingCounters & TrustCounters & Record<string, number>;
}

/** What the coordinator counts of its meetings: connections, hellos, dials, view changes. */
export type MeetingCounters = {
  peers_connected: number;
  peers_disconnected: number;
  peers_discovered: number;
  hellos_sent: number;
  hellos_received: number;
  hello_failures: number;
  dial_failures: number;
  view_changes: number;
};

/** Fresh meeting counters, all zero. */
export function meetingCounters(): MeetingCounters {
  return {
    peers_connected: 0,
    peers_disconnected: 0,
    peers_discovered: 0,
    hellos_sent: 0,
    hellos_received: 0,
    hello_failures: 0,
    dial_failures: 0,
    view_changes: 0,
  };
}

/** The coordinator's state health is computed from. */
export interface HealthInput {
  readonly members: ReadonlyArray<{ info: NodeInfo; connected: boolean; state: MemberState }>;
  readonly joining: boolean;
  readonly problem: string | undefined;
  readonly snapshot: ClusterHealth["snapshot"];
  readonly telemetry: ClusterHealth["telemetry"];
  /** Slots moving, as far as this node knows (0 when absent). */
  readonly slotsMoving?: number;
}

/** The health of the cluster as this node sees it. */
export function clusterHealth(input: HealthInput): ClusterHealth {
  const total = input.members.length;
  const connected = input.members.filter((m) => m.connected).length;
  const up = input.members.filter((m) => m.connected && m.state === "up").length;
  const status = (input.joining && input.problem !== undefined) || up < Math.floor(total / 2) + 1
    ? "red"
    : up === total && !input.joining && (input.slotsMoving ?? 0) === 0
    ? "green"
    : "yellow";
  return {
    status,
    total_nodes: total,
    connected_nodes: connected,
    joining: input.joining,
    ...(input.problem === undefined ? {} : { problem: input.problem }),
    nodes: input.members.map((m) => ({
      node_id: m.info.nodeId,
      name: m.info.name,
      connected: m.connected,
      state: m.connected ? m.state : "down",
      http: m.info.http,
      peer_id: m.info.peerId,
    })),
    snapshot: input.snapshot,
    rebalancing: { slots_moving: input.slotsMoving ?? 0, slots_total: CLUSTER_SLOTS },
    telemetry: input.telemetry,
  };
}
