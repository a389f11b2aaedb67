/**
 * Moving slots (Cassandra's bootstrap with pending ranges and streaming, Riak's vnode
 * handoff): the part of the coordinator's state that decides which slot moves where, and
 * the life of each move. It runs only inside the coordinator's handler; the work it starts
 * (streaming, dropping) runs outside and reports back as coordinator messages.
 *
 * The life of a slot `S` that owner `A` hands to `B` (the desired owner: the ring over the
 * `up` members):
 *
 * 1. **pending** — A writes `{owners: [A], pending: B}` (a new version) and tells everyone;
 *    from then on A applies each write for S locally and forwards a copy, with A's stamp, to
 *    B before answering (the executor's dual write).
 * 2. **streaming** — A streams S's tombstones and documents to B in pages; B applies each
 *    put-if-newer (by stamp), so the order of snapshot and dual writes does not matter.
 * 3. **fenced** — the stream is done: A's executor routes new requests for S to B and waits
 *    for the dual writes in flight; if one failed, the move is aborted (pending cleared) and
 *    starts again later from scratch.
 * 4. **flipped** — A writes `{owners: [B]}` and tells everyone. A stale caller's request
 *    reaching A is forwarded to B (once: a second forward answers 503).
 * 5. **draining** — once every connected member's table holds the flip, and one broadcast
 *    timeout later (requests routed before then have been answered), A drops its copy.
 *
 * Who may change an entry: only its owner starts or finishes a move of it (so two moves of
 * one slot never conflict); a slot whose owner is removed or left is claimed by its desired
 * owner directly (its documents are lost without replication). At most
 * `maxSlotsMoving` moves run from one node at once.
 *
 * @module
 */

import { CLUSTER_SLOTS } from "../storage/slot.ts";
import { compareVersions } from "./membership.ts";
import type { HashRing } from "./ring.ts";
import { nextEntry, type SlotEntry, type SlotTable, type WireEntry } from "./slot_table.ts";

/** Default moves one node runs at once. */
export const DEFAULT_MAX_SLOTS_MOVING = 4;

/** What the moves need from the coordinator. */
export interface SlotMovesDeps {
  readonly self: string;
  readonly maxSlotsMoving: number;
  /** Time a flipped slot's copy is kept after every member acknowledged the flip, in ms. */
  readonly dropGraceMs: number;
  /** Streams slot `slot` to `to`, then fences it; resolves with the documents streamed. */
  readonly move: (slot: number, to: string) => Promise<number>;
  /** Lifts the fence of an aborted move. */
  readonly abort: (slot: number) => void;
  /** Drops this node's copy of a slot. */
  readonly drop: (slot: number) => Promise<void>;
  /** Schedules a message to the coordinator after `ms`. */
  readonly later: (ms: number, msg: SlotMoveMsg) => void;
  /** Delivers a message to the coordinator. */
  readonly tellSelf: (msg: SlotMoveMsg) => void;
  readonly log: { info(message: string): void; warn(message: string): void };
  /** Owners each slot should have; 1 when absent (the server passes `replication_factor`: 3). */
  readonly replicationFactor?: number;
  /** This node's copy of a slot is leaving (searches leave it out until it is dropped). */
  readonly leave?: (slot: number) => void;
}

/** The coordinator messages the moves report with. */
export type SlotMoveMsg =
  | { type: "slotStreamed"; slot: number; to: string; documents?: number; error?: string }
  | { type: "slotDrop"; slot: number }
  | { type: "slotDropped"; slot: number; error?: string };

/** What the planner knows of the members. */
export interface PlanContext {
  /** The ring over the `up` members: where each slot should be; none when no member is up. */
  readonly desired: HashRing | undefined;
  /** Whether a node can take a slot now (connected and up). */
  readonly isLive: (node: string) => boolean;
  /** Whether a node is gone for good (removed or left). */
  readonly isGone: (node: string) => boolean;
}

interface Draining {
  /** The version of the flip: a member holding it (or newer) has acknowledged. */
  readonly version: readonly [number, string];
  readonly acked: Set<string>;
  dropping: boolean;
}

/** Counters of moves, for health and metrics. */
export interface SlotMoveCounters {
  slots_moved: number;
  documents_moved: number;
  moves_aborted: number;
}

/** The moves of one node. */
export class SlotMoves {
  readonly counters: SlotMoveCounters = { slots_moved: 0, documents_moved: 0, moves_aborted: 0 };
  readonly #deps: SlotMovesDeps;
  readonly #table: SlotTable;
  /** Slots streaming from here, to whom. */
  readonly #streaming = new Map<number, string>();
  /** Slots flipped away from here whose copy is still here. */
  readonly #draining = new Map<number, Draining>();
  /** The ring of the last plan: where slots should be. */
  #desired: HashRing | undefined;

  constructor(table: SlotTable, deps: SlotMovesDeps) {
    this.#table = table;
    this.#deps = deps;
  }

  /** Slots moving from this node: streaming, or flipped and not yet dropped. */
  get moving(): number {
    return this.#streaming.size + this.#draining.size;
  }

  /** Slots whose tombstones must be kept (their move has not ended). */
  heldSlots(): number[] {
    return [...this.#streaming.keys(), ...this.#draining.keys()];
  }

  /**
   * After a restart no stream is running: a pending mark this node left is cleared (a new
   * version), so the move starts again from scratch. Returns whether anything changed.
   */
  clearStalePending(): boolean {
    let changed = false;
    for (const slot of this.#table.pendingSlots()) {
      const entry = this.#table.entry(slot);
      if (entry.owners[0] !== this.#deps.self || this.#streaming.has(slot)) continue;
      this.#table.set(slot, nextEntry(entry, this.#deps.self, { owners: entry.owners }));
      changed = true;
    }
    return changed;
  }

  /**
   * Claims the slots of removed owners that should be here, and starts moves of slots held
   * here that should be elsewhere (at most `maxSlotsMoving` at once). Returns whether the
   * table changed.
   *
   * With replicas (`replicationFactor` > 1, after Dynamo's preference lists) a slot's owners
   * should be its first RF distinct nodes on the ring (`desired.ownersOfSlot`). Only the
   * slot's first owner (its lead) changes its entry: it streams the slot to one missing
   * replica at a time (the move above, per replica), and once every wanted replica is an
   * owner it drops the extra ones from the list (each drains its copy, see `onMerged`).
   */
  plan(context: PlanContext): boolean {
    const desired = context.desired;
    if (desired === undefined) return false;
    this.#desired = desired;
    let changed = false;
    const claimed = new Map<string, number>();
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      const lost = this.#claim(slot, context);
      if (lost !== undefined) {
        if (lost !== "") claimed.set(lost, (claimed.get(lost) ?? 0) + 1);
        changed = true;
        continue;
      }
      changed = this.#planSlot(slot, context) || changed;
    }
    for (const [owner, slots] of claimed) {
      this.#deps.log.warn(
        `claimed ${slots} slots of ${owner}, which is gone (their documents too)`,
      );
    }
    return changed;
  }

  /**
   * A slot whose lead is gone: the first surviving owner takes the lead (answers `""`), or,
   * when no owner survives, the desired lead claims it empty (answers the lost owner).
   * `undefined`: nothing changed here.
   */
  #claim(slot: number, context: PlanContext): string | undefined {
    const { self } = this.#deps;
    const entry = this.#table.entry(slot);
    const lead = entry.owners[0];
    if (lead === undefined || lead === self || !context.isGone(lead)) return undefined;
    const alive = entry.owners.filter((node) => !context.isGone(node));
    if (alive.length > 0) {
      if (alive[0] !== self) return undefined;
      this.#table.set(slot, nextEntry(entry, self, { owners: alive }));
      return "";
    }
    if (this.#wanted(slot)[0] !== self) return undefined;
    this.#table.set(slot, nextEntry(entry, self, { owners: [self] }));
    return lead;
  }

  /** The lead's part: restart a stale move, start one to a missing replica, or shrink. */
  #planSlot(slot: number, context: PlanContext): boolean {
    const { self } = this.#deps;
    const entry = this.#table.entry(slot);
    if (entry.owners[0] !== self) return false;
    if (entry.pending !== undefined) {
      // The receiver went away, or this node restarted mid-move: the move starts again.
      if (!this.#streaming.has(slot) || context.isGone(entry.pending)) {
        return this.#abort(slot, "its receiver is gone");
      }
      return false;
    }
    if (this.#draining.has(slot)) return false;
    const want = this.#wanted(slot);
    const missing = want.filter((node) => !entry.owners.includes(node));
    if (missing.length === 0) {
      if (entry.owners.every((node) => want.includes(node))) return false;
      // Every wanted replica holds the slot: the extra ones leave its list.
      this.#flipTo(slot, entry, want);
      return true;
    }
    const to = missing.find((node) => context.isLive(node));
    if (to === undefined || this.#streaming.size >= this.#deps.maxSlotsMoving) return false;
    this.#start(slot, to);
    return true;
  }

  /** The owners a slot should have by the last desired ring: min(RF, members) nodes. */
  #wanted(slot: number): string[] {
    return this.#desired?.ownersOfSlot(slot, this.#deps.replicationFactor ?? 1) ?? [];
  }

  #start(slot: number, to: string): void {
    const entry = this.#table.entry(slot);
    this.#table.set(slot, nextEntry(entry, this.#deps.self, { owners: entry.owners, pending: to }));
    this.#streaming.set(slot, to);
    this.#deps.move(slot, to).then(
      (documents) => this.#deps.tellSelf({ type: "slotStreamed", slot, to, documents }),
      (error) =>
        this.#deps.tellSelf({ type: "slotStreamed", slot, to, error: (error as Error).message }),
    );
  }

  #abort(slot: number, why: string): boolean {
    this.#streaming.delete(slot);
    this.#deps.abort(slot);
    const entry = this.#table.entry(slot);
    if (entry.owners[0] !== this.#deps.self || entry.pending === undefined) return false;
    this.#table.set(slot, nextEntry(entry, this.#deps.self, { owners: entry.owners }));
    this.counters.moves_aborted++;
    this.#deps.log.warn(`the move of slot ${slot} to ${entry.pending} stopped: ${why}; retrying`);
    return true;
  }

  /**
   * A stream ended: on success the slot flips to its receiver and starts draining here;
   * otherwise the move is aborted. Returns whether the table changed.
   */
  onStreamed(msg: Extract<SlotMoveMsg, { type: "slotStreamed" }>): boolean {
    const entry = this.#table.entry(msg.slot);
    const current = entry.owners[0] === this.#deps.self && entry.pending === msg.to &&
      this.#streaming.get(msg.slot) === msg.to;
    if (msg.error !== undefined || !current) {
      return this.#abort(msg.slot, msg.error ?? "the slot changed meanwhile");
    }
    this.#streaming.delete(msg.slot);
    const union = [...entry.owners, msg.to];
    const want = this.#wanted(msg.slot);
    // One replica: the slot moves whole (as before replication). Several: the receiver joins
    // the owners, and the list becomes the wanted one once it holds every wanted replica.
    const owners = (this.#deps.replicationFactor ?? 1) <= 1
      ? [msg.to]
      : want.length > 0 && want.every((node) => union.includes(node))
      ? want
      : union;
    this.#flipTo(msg.slot, entry, owners);
    this.counters.slots_moved++;
    this.counters.documents_moved += msg.documents ?? 0;
    return true;
  }

  /** Writes a slot's new owners; this node drains its copy when it is not one of them. */
  #flipTo(slot: number, entry: SlotEntry, owners: readonly string[]): void {
    const flipped = nextEntry(entry, this.#deps.self, { owners });
    this.#table.set(slot, flipped);
    if (!owners.includes(this.#deps.self)) this.#drain(slot, flipped.version);
  }

  #drain(slot: number, version: readonly [number, string]): void {
    this.#draining.set(slot, { version, acked: new Set(), dropping: false });
    this.#deps.leave?.(slot);
  }

  /**
   * Entries merged from a member (`before`: the table as it was): a slot this node owned and
   * no longer holds (a lead dropped this replica from its list) drains here like a flip.
   */
  onMerged(changed: readonly number[], before: SlotTable): void {
    const { self } = this.#deps;
    for (const slot of changed) {
      const after = this.#table.entry(slot);
      const held = after.owners.includes(self) || after.pending === self;
      if (!before.entry(slot).owners.includes(self) || held) continue;
      if (this.#draining.has(slot) || this.#streaming.has(slot)) continue;
      this.#drain(slot, after.version);
    }
  }

  /**
   * A member answered with its table (or with a digest equal to this node's): the flips it
   * holds are acknowledged by it.
   */
  onMemberTable(node: string, theirs: SlotTable | "same"): void {
    for (const [slot, draining] of this.#draining) {
      const version = theirs === "same" ? undefined : theirs.entry(slot).version;
      if (version === undefined || compareVersions(version, draining.version) >= 0) {
        draining.acked.add(node);
      }
    }
  }

  /**
   * A member answered a push of these entries: it holds each of them (or newer) now. A flip
   * is acknowledged only by a push that carried it (or a later version): the answer to a push
   * sent before the flip says nothing of it.
   */
  onPushAcked(node: string, entries: ReadonlyArray<readonly [number, WireEntry]>): void {
    for (const [slot, entry] of entries) {
      const draining = this.#draining.get(slot);
      if (draining === undefined) continue;
      if (compareVersions([entry[2], entry[3]], draining.version) >= 0) draining.acked.add(node);
    }
  }

  /** Schedules the drop of every flipped slot every member in `members` has acknowledged. */
  checkDrains(members: readonly string[]): void {
    for (const [slot, draining] of this.#draining) {
      if (draining.dropping) continue;
      if (!members.every((node) => node === this.#deps.self || draining.acked.has(node))) continue;
      draining.dropping = true;
      this.#deps.later(this.#deps.dropGraceMs, { type: "slotDrop", slot });
    }
  }

  /**
   * The grace after the last acknowledgement has passed: drop the copy here — unless a member
   * of `members` (those live now) has not acknowledged the flip: one that connected during the
   * grace may hold an older table and assign this slot's searches here. Then the drop waits
   * for its acknowledgement ({@linkcode checkDrains} schedules it again).
   */
  onDrop(slot: number, members: readonly string[]): void {
    const draining = this.#draining.get(slot);
    if (draining === undefined) return;
    const entry = this.#table.entry(slot);
    if (entry.owners.includes(this.#deps.self) || entry.pending === this.#deps.self) {
      // This node became a replica of the slot again meanwhile: its copy stays.
      this.#draining.delete(slot);
      return;
    }
    if (!members.every((node) => node === this.#deps.self || draining.acked.has(node))) {
      draining.dropping = false;
      return;
    }
    this.#deps.drop(slot).then(
      () => this.#deps.tellSelf({ type: "slotDropped", slot }),
      (error) => this.#deps.tellSelf({ type: "slotDropped", slot, error: String(error) }),
    );
  }

  /** The copy is dropped (or the drop failed: it is tried again after the grace). */
  onDropped(slot: number, error: string | undefined): void {
    if (error === undefined) {
      this.#draining.delete(slot);
      return;
    }
    this.#deps.log.warn(`cannot drop the moved slot ${slot}: ${error}; trying again`);
    this.#deps.later(this.#deps.dropGraceMs, { type: "slotDrop", slot });
  }
}
