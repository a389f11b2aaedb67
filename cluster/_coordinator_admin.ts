/**
 * What an operator asks the coordinator (`/_cluster/nodes`): the member list with states and
 * slots, removing a `down` member for good (any member may: it takes it off the ring, the
 * view and health), and this node leaving (it hands every slot off, then has left).
 *
 * @module
 */

import type { Handlers } from "../actors/handlers.ts";
import type { CoordinatorParts } from "./_coordinator_slots.ts";
import type { CoordinatorState } from "./_coordinator_state.ts";
import type {
  CoordinatorMsg,
  CoordinatorReplies,
  LeaveResult,
  NodeListing,
  RemovalResult,
} from "./coordinator_protocol.ts";
import { MembershipRefusedError, UnknownNodeError } from "./errors.ts";
import { type MemberRecord, nodeListing, removalRecord } from "./membership.ts";

/** The coordinator messages an operator sends. */
export type AdminMessages = "nodes" | "remove" | "leave";

/** The handlers of the operator's requests. */
export function adminHandlers(
  parts: CoordinatorParts,
): Pick<Handlers<CoordinatorMsg, CoordinatorReplies>, AdminMessages> {
  return {
    nodes: () => listNodes(parts.state),
    remove: (msg) => removeNode(parts, msg.nodeId),
    leave: () => leave(parts),
  };
}

/** `GET /_cluster/nodes`: every member with its state and the slots it owns. */
function listNodes(s: CoordinatorState): NodeListing {
  return nodeListing([...s.members.values()].map((m) => m.info), {
    recordOf: (node) => s.records.get(node),
    healthOf: (node) =>
      node === s.self.nodeId ? "up" : s.isDown(node) ? "down" : s.detector.state(node),
    slots: s.table.spread(),
  });
}

/** `DELETE /_cluster/nodes/{id}`: forgets a down node for good (any member may). */
function removeNode(parts: CoordinatorParts, nodeId: string): RemovalResult {
  const s = parts.state;
  const member = s.members.get(nodeId);
  if (member === undefined) throw new UnknownNodeError(nodeId);
  // A member kept from a cluster.json written before records is up, at the oldest version.
  const record: MemberRecord = s.records.get(nodeId) ?? {
    nodeId,
    peerId: member.info.peerId,
    addrs: member.info.addrs,
    state: "up",
    version: [0, nodeId],
  };
  if (record.state === "removed") {
    return { node_id: nodeId, state: "removed", already_removed: true, slots_lost: 0 };
  }
  if (nodeId === s.self.nodeId) {
    throw new MembershipRefusedError(`node ${nodeId} is this node: a live node leaves instead`);
  }
  if (!s.isDown(nodeId)) {
    throw new MembershipRefusedError(
      `node ${nodeId} is ${s.detector.state(nodeId)}, not down: a live node leaves ` +
        `(POST /_cluster/nodes/${nodeId}/_leave) instead`,
    );
  }
  // Lost: the slots it held alone. A slot with other replicas keeps its documents on them.
  const slotsLost = s.table.soleOwned(nodeId);
  parts.records.take([removalRecord(record, s.self.nodeId)], s.self.nodeId);
  parts.slots.plan();
  s.deps.log.warn(
    `removed node ${nodeId}: ${slotsLost} slots it held alone have new owners, their data is lost`,
  );
  return { node_id: nodeId, state: "removed", already_removed: false, slots_lost: slotsLost };
}

/** `POST /_cluster/nodes/{this node}/_leave`: hand every slot off, then leave. */
function leave(parts: CoordinatorParts): LeaveResult {
  const s = parts.state;
  if (s.records.get(s.self.nodeId)!.state === "up") {
    s.deps.log.info("leaving the cluster: handing every slot off");
    parts.records.setOwnState("leaving");
    parts.slots.plan();
  }
  const state = s.records.get(s.self.nodeId)!.state;
  return {
    node_id: s.self.nodeId,
    state: state === "left" ? "left" : "leaving",
    slots: s.table.spread().get(s.self.nodeId) ?? 0,
  };
}
