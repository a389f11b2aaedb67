/**
 * What this node's executor knows of each slot beyond the slot table, shared by its writes,
 * moves and searches: the slots fenced to their receiver (their requests go there), the dual
 * writes of each moving slot, the local writes not yet answered per slot (a move waits for
 * them before its snapshot), the slots streamed away whose copy is not dropped yet, and the
 * slots another node copied documents of to here.
 *
 * @module
 */

import type { WriteCommand } from "../node/write_command.ts";
import { placementKey } from "../node/write_command.ts";
import { slotOf } from "../storage/slot.ts";
import { type ClusterView, ownerOfSlot } from "./view.ts";

/** The dual writes of one moving slot: those in flight, and whether one failed. */
export interface DualWrites {
  readonly inFlight: Set<Promise<unknown>>;
  failed: boolean;
}

/** The per-slot state of one node's executor (see the module doc). */
export class SlotStates {
  /** Slots whose stream has ended: their requests go to the receiver (see `fence`). */
  readonly #fenced = new Map<number, string>();
  readonly #dual = new Map<number, DualWrites>();
  /** Local writes not yet answered, per slot (see `trackLocalWrite`). */
  readonly #localWrites = new Map<number, Set<Promise<unknown>>>();
  /** Slots streamed away from here whose copy is not dropped yet (searches leave them out). */
  readonly #movedAway = new Set<number>();
  /**
   * Slots another node copied documents of to here (a move to here, maybe not finished), and
   * the slots found holding documents at start.
   */
  readonly #received = new Set<number>();

  /** Whether a slot's requests go to its receiver (its stream has ended). */
  isFenced(slot: number): boolean {
    return this.#fenced.has(slot);
  }

  /** The node that serves a slot here, for a request forwarded `hops` times. */
  ownerFor(view: ClusterView, slot: number, hops: number): string {
    const fenced = this.#fenced.get(slot);
    if (fenced !== undefined) return fenced;
    // Forwarded by the owner to its slot's receiver: the owner has fenced it (it flips next).
    if (hops > 0 && view.slots?.entry(slot).pending === view.self) return view.self;
    return ownerOfSlot(view, slot);
  }

  /** A new view: fenced slots whose receiver is an owner now (flipped) are settled. */
  settle(view: ClusterView): void {
    for (const [slot, to] of this.#fenced) {
      // Flipped: the receiver is an owner now (the owner, with one replica).
      if (view.slots?.entry(slot).owners.includes(to) === true) {
        this.#fenced.delete(slot);
        this.#dual.delete(slot);
      }
    }
  }

  /** The dual writes of a moving slot (created empty when there are none yet). */
  dualOf(slot: number): DualWrites {
    let dual = this.#dual.get(slot);
    if (dual === undefined) this.#dual.set(slot, dual = { inFlight: new Set(), failed: false });
    return dual;
  }

  /** A slot's stream begins: its dual writes start over, none failed. */
  beginDual(slot: number): void {
    this.#dual.set(slot, { inFlight: new Set(), failed: false });
  }

  /** Counts `run` among the dual writes in flight of `duals` until it settles. */
  trackDual(duals: readonly DualWrites[], run: Promise<unknown>): void {
    for (const dual of duals) {
      dual.inFlight.add(run);
      run.finally(() => dual.inFlight.delete(run)).catch(() => {});
    }
  }

  /**
   * Every local write is in flight for its slots until it is answered: a move that starts
   * meanwhile waits for it before its snapshot (it was decided without the dual write).
   */
  trackLocalWrite(batch: readonly WriteCommand[], run: Promise<unknown>): void {
    for (const slot of new Set(batch.map((command) => slotOf(placementKey(command))))) {
      let writes = this.#localWrites.get(slot);
      if (writes === undefined) this.#localWrites.set(slot, writes = new Set());
      writes.add(run);
      run.finally(() => {
        writes.delete(run);
        if (writes.size === 0 && this.#localWrites.get(slot) === writes) {
          this.#localWrites.delete(slot);
        }
      }).catch(() => {});
    }
  }

  /** The local writes of a slot not yet answered. */
  localWritesOf(slot: number): Promise<unknown>[] {
    return [...this.#localWrites.get(slot) ?? []];
  }

  /**
   * Routes a slot's requests to its receiver from now on and waits for the dual writes in
   * flight; resolves with whether every dual write since the move began reached it.
   */
  async fence(slot: number, to: string): Promise<boolean> {
    this.#fenced.set(slot, to);
    const dual = this.dualOf(slot);
    await Promise.allSettled([...dual.inFlight]);
    return !dual.failed;
  }

  /** This node's copy of a slot is no longer the one searches count (moved away, or left). */
  markMovedAway(slot: number): void {
    this.#movedAway.add(slot);
  }

  /** This node's copy of a slot that moved away is dropped. */
  markDropped(slot: number): void {
    this.#movedAway.delete(slot);
  }

  /** An aborted move: the slot's requests are served here again. */
  abort(slot: number): void {
    this.#fenced.delete(slot);
    this.#dual.delete(slot);
    this.#movedAway.delete(slot);
  }

  /** Copies of another node's writes arrived here: their slots are noted as received. */
  noteReceived(commands: readonly WriteCommand[]): void {
    for (const command of commands) this.#received.add(slotOf(placementKey(command)));
  }

  /** Slots this node holds documents of, as read from its shards (at start). */
  noteHeld(slots: Iterable<number>): void {
    for (const slot of slots) this.#received.add(slot);
  }

  /** Whether this node may hold documents of a slot (served, moving here or away, received). */
  mayHold(view: ClusterView, slot: number): boolean {
    const entry = view.slots?.entry(slot);
    return this.#movedAway.has(slot) || this.#received.has(slot) ||
      entry?.pending === view.self || entry?.owners.includes(view.self) === true ||
      ownerOfSlot(view, slot) === view.self;
  }
}
