/**
 * The ClusterCoordinator: the one owner of the cluster view. Its state — members, which
 * are connected and in which state, the ring, the peer ids behind node ids, whether this
 * node is still joining — changes only in its handler, on messages: libp2p events (fed by
 * the transport as `transport` messages), a peer's `hello` or `heartbeat`, the answers to
 * its own, its timer ticks, and the one-shot boot check. Nothing polls.
 *
 * Meeting a peer: when libp2p has identified a peer that speaks the actor protocol, the
 * coordinator asks the peer's coordinator `hello` with its own node info, the members it
 * knows and its index schemas. A hello admits only its sender, over its own connection:
 * the claimed peer id must be the connection's (Noise-authenticated), and the node id ↔
 * peer id binding (made at the first admission, kept in `cluster.json`) must hold. The
 * members a hello lists are dialed, and admitted by their own hello. Every change
 * publishes a new {@linkcode ClusterView} to the router.
 *
 * Failure detection: every `heartbeatIntervalMs` the coordinator asks each connected
 * member's coordinator for a heartbeat; the {@linkcode FailureDetector} turns silence into
 * `suspect` and `down`, and health turns yellow.
 *
 * Membership (`membership.ts`): every member has a versioned record, merged last-writer-
 * wins from hellos and heartbeats; a node changes only its own, and any member may mark a
 * `down` node `removed` (`remove`), which takes it off the ring, the view and health for
 * good. A node that is lost but not removed stays a member (not connected), keeps its slots
 * on the ring, and its writes fail fast with 503 until it is back. The member list and the
 * records are kept in `cluster.json`; on boot the list is compared with the peers that
 * answer, and the differences are logged and shown in `/_cluster/health`.
 *
 * This file is the facade: it builds the parts, one concept a file, over one shared
 * {@linkcode CoordinatorState} (`_coordinator_state.ts`), and dispatches each message to the
 * part that handles it: meeting peers and hellos (`_coordinator_meeting.ts`), joining through
 * seeds and the boot check (`_coordinator_joining.ts`), heartbeats and failure detection
 * (`_coordinator_heartbeats.ts`), membership records (`_coordinator_records.ts`), the slot
 * table's upkeep and the moves it drives (`_coordinator_slots.ts`), and the operator's
 * requests — list, remove, leave (`_coordinator_admin.ts`).
 *
 * @module
 */

import type { Actor } from "../actors/types.ts";
import { receiveBy } from "../actors/handlers.ts";
import { adminHandlers } from "./_coordinator_admin.ts";
import { Heartbeats } from "./_coordinator_heartbeats.ts";
import { Joining } from "./_coordinator_joining.ts";
import { Meeting } from "./_coordinator_meeting.ts";
import { MemberRecords } from "./_coordinator_records.ts";
import { initialSlotTable, SlotUpkeep } from "./_coordinator_slots.ts";
import { CoordinatorState } from "./_coordinator_state.ts";
import type {
  CoordinatorDeps,
  CoordinatorMsg,
  CoordinatorReplies,
} from "./coordinator_protocol.ts";
import { type ClusterHealth, clusterHealth } from "./cluster_health.ts";
import type { MemberRecord } from "./membership.ts";
import type { SlotTable } from "./slot_table.ts";
import type { NodeInfo } from "./view.ts";

export type {
  CoordinatorDeps,
  CoordinatorMsg,
  CoordinatorReplies,
  LeaveResult,
  NodeEntry,
  NodeListing,
  RemovalResult,
  SlotNews,
} from "./coordinator_protocol.ts";
export type { ClusterHealth } from "./cluster_health.ts";
export { initialSlotTable } from "./_coordinator_slots.ts";

/**
 * Builds the coordinator; `snapshot` is the member list read from disk at boot, `kept` the
 * membership records kept with it, `slots` the slot table kept beside them.
 */
export function createCoordinator(
  deps: CoordinatorDeps,
  snapshot: readonly NodeInfo[],
  kept: readonly MemberRecord[] = [],
  slots?: SlotTable,
): Actor<CoordinatorMsg, CoordinatorReplies> {
  const table = initialSlotTable(deps.self.nodeId, {
    kept: slots,
    seeds: deps.seeds,
    snapshot,
    records: kept,
  });
  const state = new CoordinatorState(deps, { snapshot, kept, table });
  const records = new MemberRecords(state);
  const upkeep = new SlotUpkeep(state, records);
  const parts = { state, records, slots: upkeep };
  const meeting = new Meeting(parts);
  const heartbeats = new Heartbeats(parts);
  const joining = new Joining(state);
  return {
    onStart() {
      joining.armBootCheck();
      for (const info of snapshot) {
        if (info.nodeId === state.self.nodeId || info.clusterName !== state.self.clusterName) {
          continue;
        }
        meeting.learn(info, false);
      }
      for (const node of state.members.keys()) if (state.isRemoved(node)) deps.peers.delete(node);
      state.rebuildRing();
      state.keepMembers();
      upkeep.moves.clearStalePending();
      upkeep.persist();
      state.publish();
      for (const seed of deps.seeds) joining.dialSeed(seed);
      heartbeats.scheduleTick();
      for (const info of snapshot) {
        if (info.nodeId === state.self.nodeId || state.isRemoved(info.nodeId)) continue;
        for (const address of info.addrs) state.dial(address);
      }
    },
    onStop() {
      joining.stop();
      state.clearTimers();
    },
    receive: receiveBy<CoordinatorMsg, CoordinatorReplies>({
      ...meeting.handlers(),
      ...heartbeats.handlers(),
      ...upkeep.handlers(),
      ...joining.handlers(),
      ...adminHandlers(parts),
      view: () => state.view(),
      health: () => health(state, { slots: upkeep, joining }),
    }),
  };
}

/** `/_cluster/health` as this coordinator sees it. */
function health(
  state: CoordinatorState,
  parts: { readonly slots: SlotUpkeep; readonly joining: Joining },
): ClusterHealth {
  const boot = parts.joining.boot;
  const members = [...state.members.values()].filter((m) => !state.isRemoved(m.info.nodeId));
  return clusterHealth({
    members: members.map((m) => ({
      ...m,
      state: m.info.nodeId === state.self.nodeId ? "up" : state.detector.state(m.info.nodeId),
    })),
    joining: state.joining,
    problem: parts.joining.seeds.problem,
    snapshot: { checked: boot.checked, missing: boot.missing, unexpected: boot.unexpected },
    telemetry: { ...state.telemetry, ...state.deps.counters, ...parts.slots.moves.counters },
    slotsMoving: parts.slots.slotsMoving(),
  });
}
