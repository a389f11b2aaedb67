/**
 * The state every part of the ClusterCoordinator shares: the members and the peer ids
 * behind them, their membership records, the ring, the slot table, the failure detector,
 * whether this node is still joining — and the few queries and effects on it that every part
 * needs (who is removed, down or live; publishing the view; keeping the member list; timers).
 * It runs only inside the coordinator's handler.
 *
 * @module
 */

import { writeClusterFile } from "./cluster_file.ts";
import { meetingCounters } from "./cluster_health.ts";
import type { CoordinatorDeps, CoordinatorMsg } from "./coordinator_protocol.ts";
import { FailureDetector } from "./failure_detector.ts";
import { type MemberRecord, ownRecord, ownsSlots } from "./membership.ts";
import { HashRing } from "./ring.ts";
import type { SlotTable } from "./slot_table.ts";
import type { ClusterView, MemberView, NodeInfo } from "./view.ts";

/** A member as the coordinator holds it. */
export interface Member {
  info: NodeInfo;
  connected: boolean;
}

/** What the coordinator starts from: what it read from disk at boot. */
export interface CoordinatorBoot {
  /** The member list kept in `cluster.json`. */
  readonly snapshot: readonly NodeInfo[];
  /** The membership records kept with it. */
  readonly kept: readonly MemberRecord[];
  /** The slot table this node starts with. */
  readonly table: SlotTable;
}

/** The coordinator's shared state (see the module doc). */
export class CoordinatorState {
  readonly deps: CoordinatorDeps;
  readonly self: NodeInfo;
  /** The member list read from disk at boot. */
  readonly snapshot: readonly NodeInfo[];
  /** `cluster.json` writes, one at a time. */
  #memberWrite: Promise<void> = Promise.resolve();
  readonly members: Map<string, Member>;
  /** Node ids behind admitted peer ids. */
  readonly byPeer = new Map<string, string>();
  readonly records: Map<string, MemberRecord>;
  readonly table: SlotTable;
  readonly detector: FailureDetector;
  readonly telemetry = meetingCounters();
  /** Members whose heartbeat is unanswered: one at a time per member. */
  readonly awaiting = new Set<string>();
  ring: HashRing;
  /**
   * A node with seeds or a kept member list joins an existing cluster: it takes no data
   * requests until it has met a member and holds the cluster's view (its members, the
   * ring, the schemas). The first node of a new cluster has nothing to wait for.
   */
  joining: boolean;
  readonly #timers = new Set<ReturnType<typeof setTimeout>>();

  constructor(deps: CoordinatorDeps, boot: CoordinatorBoot) {
    this.deps = deps;
    this.self = deps.self;
    this.snapshot = boot.snapshot;
    this.table = boot.table;
    this.members = new Map([[this.self.nodeId, { info: this.self, connected: true }]]);
    this.records = new Map(boot.kept.map((r) => [r.nodeId, r]));
    // Every boot is a new epoch of this node's own record (Cassandra bumps its generation).
    const own = this.records.get(this.self.nodeId);
    this.records.set(this.self.nodeId, ownRecord(own, this.self, "up"));
    this.ring = new HashRing([this.self.nodeId]);
    this.detector = new FailureDetector({
      suspectAfterMs: deps.suspectAfterMs,
      downAfterMs: deps.downAfterMs,
    });
    this.joining = deps.seeds.length > 0 ||
      boot.snapshot.some((info) => info.nodeId !== this.self.nodeId);
  }

  /** Tells this coordinator `msg` after `ms` (cancelled by {@linkcode clearTimers}). */
  later(ms: number, msg: CoordinatorMsg): void {
    const timer = setTimeout(() => {
      this.#timers.delete(timer);
      this.deps.tellSelf(msg);
    }, ms);
    this.#timers.add(timer);
  }

  /** Cancels every message scheduled with {@linkcode later}. */
  clearTimers(): void {
    for (const timer of this.#timers) clearTimeout(timer);
  }

  /** Whether `node` is gone for good: removed or left. */
  isRemoved(node: string): boolean {
    const state = this.records.get(node)?.state;
    return state === "removed" || state === "left";
  }

  /** Whether `node` is down here: not connected, or silent past `down_after_ms`. */
  isDown(node: string): boolean {
    const member = this.members.get(node);
    return member === undefined || !member.connected || this.detector.state(node) === "down";
  }

  /** Connected members (this node included) that are not removed: who must see a flip. */
  liveMembers(): string[] {
    return [...this.members].filter(([id, m]) => m.connected && !this.isRemoved(id))
      .map(([id]) => id);
  }

  /** Rebuilds the ring over the members that own slots: `up` or `leaving` (no record: up). */
  rebuildRing(): void {
    const owners = [...this.members.keys()]
      .filter((id) => ownsSlots(this.records.get(id)?.state ?? "up"));
    this.ring = new HashRing(owners);
  }

  /** The view the router decides by. */
  view(): ClusterView {
    const members = [...this.members].filter(([id]) => !this.isRemoved(id));
    return {
      self: this.self.nodeId,
      // Removed and left members are gone for routing: no slots, no scatter, no failed shards.
      members: new Map<string, MemberView>(members.map(([id, m]) => [id, {
        info: m.info,
        connected: m.connected,
        state: id === this.self.nodeId ? "up" : m.connected ? this.detector.state(id) : "down",
      }])),
      ring: this.ring,
      joining: this.joining,
      slots: this.table.copy(),
    };
  }

  /** Hands the router a new view. */
  publish(): void {
    this.telemetry.view_changes++;
    this.deps.onView(this.view());
  }

  /**
   * Rewrites `cluster.json` (members and records) after the writes before it, so the last
   * snapshot lands last (two at once raced for the same temporary file: one failed with
   * `NotFound`, and an older list could win); a failure is logged.
   */
  keepMembers(): void {
    const file = {
      cluster_name: this.self.clusterName,
      members: [...this.members.values()].map((m) => m.info),
      records: [...this.records.values()],
    };
    this.#memberWrite = this.#memberWrite
      .then(() => writeClusterFile(this.deps.dataDir, file))
      .catch((error) => this.deps.log.warn(`cannot keep the member list: ${error}`));
  }

  /** A member is no longer reachable: no heartbeats to it, its links dropped. */
  disconnect(node: string, reason: string): void {
    const member = this.members.get(node);
    if (member === undefined) return;
    member.connected = false;
    this.detector.forget(node);
    this.awaiting.delete(node);
    void this.deps.pool.dropNode(node, reason);
  }

  /** Asks `address` to be dialed; a failure is counted and logged. */
  dial(address: string): void {
    this.deps.dial(address).catch((error) => {
      this.telemetry.dial_failures++;
      this.deps.log.warn(`cannot dial ${address}: ${(error as Error).message}`);
    });
  }
}
