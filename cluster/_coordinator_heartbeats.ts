/**
 * The coordinator's heartbeats and failure detection: every `heartbeatIntervalMs` it asks
 * each connected member's coordinator for a heartbeat (one unanswered at a time per member),
 * carrying its membership records and its slot news; the {@linkcode FailureDetector} turns
 * silence into `suspect` and `down`. A member's heartbeat, or its answer to ours, says it is
 * alive and brings its records and slot news.
 *
 * @module
 */

import type { Handlers } from "../actors/handlers.ts";
import type { CoordinatorParts } from "./_coordinator_slots.ts";
import type { CoordinatorState } from "./_coordinator_state.ts";
import type { CoordinatorMsg, CoordinatorReplies, SlotNews } from "./coordinator_protocol.ts";
import { PeerRefusedError } from "./errors.ts";
import type { MemberRecord } from "./membership.ts";
import { checkedRecords } from "./peer_input.ts";

/** The coordinator messages the heartbeats handle. */
export type HeartbeatMessages = "tick" | "heartbeat" | "heartbeatAnswered";

/** The heartbeats of one coordinator. */
export class Heartbeats {
  readonly #s: CoordinatorState;
  readonly #parts: CoordinatorParts;

  constructor(parts: CoordinatorParts) {
    this.#s = parts.state;
    this.#parts = parts;
  }

  /** The handlers of the heartbeat messages. */
  handlers(): Pick<Handlers<CoordinatorMsg, CoordinatorReplies>, HeartbeatMessages> {
    return {
      tick: () => this.#tick(),
      heartbeat: (msg) => this.#onHeartbeat(msg.peer, msg.records, msg.slots),
      heartbeatAnswered: (msg) => this.#onAnswered(msg.node, msg.ok, msg.records, msg.slots),
    };
  }

  /** Schedules the next round of heartbeats. */
  scheduleTick(): void {
    this.#s.later(this.#s.deps.heartbeatIntervalMs, { type: "tick" });
  }

  /** Sends a heartbeat to every connected member not awaited; replans; schedules the next. */
  #tick(): void {
    const s = this.#s;
    for (const [node, member] of s.members) {
      if (node === s.self.nodeId || !member.connected || s.awaiting.has(node)) continue;
      if (s.isRemoved(node)) continue;
      s.awaiting.add(node);
      s.deps.sendHeartbeat(node, this.#parts.records.all(), this.#parts.slots.news(node, true))
        .then(
          (answer) =>
            s.deps.tellSelf({
              type: "heartbeatAnswered",
              node,
              ok: true,
              records: (answer as { records?: unknown } | undefined)?.records,
              slots: (answer as { slots?: unknown } | undefined)?.slots,
            }),
          () => s.deps.tellSelf({ type: "heartbeatAnswered", node, ok: false }),
        );
    }
    this.#refreshStates();
    this.#parts.slots.plan();
    this.scheduleTick();
  }

  /** Recomputes member states; publishes a view when one changed. */
  #refreshStates(): void {
    const s = this.#s;
    const changed = s.detector.changes();
    for (const [node, state] of changed) {
      const name = s.members.get(node)?.info.name ?? node;
      if (state === "up") s.deps.log.info(`node ${name} (${node}) answers again: up`);
      else {
        const silentMs = Math.round(s.detector.silentMs(node));
        s.deps.log.warn(`node ${name} (${node}) is ${state}: silent for ${silentMs} ms`);
      }
    }
    if (changed.size > 0) s.publish();
  }

  /** A member's heartbeat (stamped with its connection's peer): it is alive. */
  #onHeartbeat(
    peer: string,
    raw: unknown,
    rawSlots: unknown,
  ): { nodeId: string; records: MemberRecord[]; slots: SlotNews } {
    const s = this.#s;
    const node = s.byPeer.get(peer);
    if (node === undefined || s.members.get(node)?.connected !== true || s.isRemoved(node)) {
      s.deps.counters.refused_requests++;
      throw new PeerRefusedError(peer, "a heartbeat from a peer that is not a member");
    }
    s.detector.heard(node);
    this.#refreshStates();
    this.#parts.records.take(checkedRecords(raw, peer, s.deps.counters), node);
    this.#parts.slots.take(node, rawSlots);
    return {
      nodeId: s.self.nodeId,
      records: this.#parts.records.all(),
      slots: this.#parts.slots.news(node, false),
    };
  }

  /** A member answered our heartbeat (or did not): it is alive, with its records and slots. */
  #onAnswered(node: string, ok: boolean, raw: unknown, rawSlots: unknown): void {
    const s = this.#s;
    s.awaiting.delete(node);
    if (!ok || s.members.get(node)?.connected !== true) return;
    s.detector.heard(node);
    this.#refreshStates();
    const peer = s.members.get(node)!.info.peerId;
    try {
      this.#parts.records.take(checkedRecords(raw, peer, s.deps.counters), node);
      this.#parts.slots.take(node, rawSlots);
    } catch (error) {
      s.deps.log.warn(`refused the records of ${node}: ${(error as Error).message}`);
    }
  }
}
