/**
 * The failure detector: when each member was last heard (a heartbeat answered, or one of
 * its own heartbeats), and from that its state — `up`, `suspect` after `suspectAfterMs` of
 * silence, `down` after `downAfterMs`. The coordinator sends heartbeats on its own timer
 * (a message to itself) and asks for `changes()` on each tick; nothing polls.
 *
 * Cassandra's phi-accrual detector (`FailureDetector.java`, after Hayashibara et al.)
 * scales its threshold by the observed inter-arrival times; with a fixed heartbeat
 * interval on a LAN that reduces to a fixed silence threshold, which is what this uses —
 * two thresholds an operator sets and can reason about, as the brief's `suspect`/`down`
 * states need.
 *
 * @module
 */

/** A member's state as the failure detector sees it. */
export type MemberState = "up" | "suspect" | "down";

/** Options of a {@linkcode FailureDetector}. */
export interface FailureDetectorOptions {
  /** Silence after which a member is suspect, in ms. */
  readonly suspectAfterMs: number;
  /** Silence after which a member is down, in ms. */
  readonly downAfterMs: number;
  /** The clock, in ms (injected by tests). */
  readonly now?: () => number;
}

/** Last-heard times and the states they imply. */
export class FailureDetector {
  readonly #options: FailureDetectorOptions;
  readonly #now: () => number;
  readonly #lastHeard = new Map<string, number>();
  readonly #states = new Map<string, MemberState>();

  constructor(options: FailureDetectorOptions) {
    this.#options = options;
    this.#now = options.now ?? (() => performance.now());
  }

  /** `node` answered or sent a heartbeat just now (or was admitted). */
  heard(node: string): void {
    this.#lastHeard.set(node, this.#now());
    if (!this.#states.has(node)) this.#states.set(node, "up");
  }

  /** Stops watching `node` (its connection is gone). */
  forget(node: string): void {
    this.#lastHeard.delete(node);
    this.#states.delete(node);
  }

  /** The state of `node` as of the last `changes()`; `down` when not watched. */
  state(node: string): MemberState {
    return this.#states.get(node) ?? "down";
  }

  /** Milliseconds since `node` was last heard (`Infinity` when not watched). */
  silentMs(node: string): number {
    const last = this.#lastHeard.get(node);
    return last === undefined ? Infinity : this.#now() - last;
  }

  /** Recomputes every state; returns the members whose state changed, with the new one. */
  changes(): Map<string, MemberState> {
    const changed = new Map<string, MemberState>();
    for (const node of this.#lastHeard.keys()) {
      const silent = this.silentMs(node);
      const state: MemberState = silent >= this.#options.downAfterMs
        ? "down"
        : silent >= this.#options.suspectAfterMs
        ? "suspect"
        : "up";
      if (this.#states.get(node) !== state) {
        this.#states.set(node, state);
        changed.set(node, state);
      }
    }
    return changed;
  }
}
