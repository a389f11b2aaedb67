/**
 * Supervision decisions as a pure function of the policy, the restart history and the
 * clock: given why an actor ended, restart it (after a backoff), stop it, or stop it and
 * escalate the failure to its parent. See {@linkcode Supervision} for the table.
 *
 * @module
 */

import { DEFAULT_SUPERVISION, type Supervision } from "./types.ts";

/** Why an actor ended. `requested` is `ref.stop()` or a parent stopping. */
export type ExitReason = "failure" | "normal" | "requested";

/** What the supervisor decided. */
export type Decision =
  | { readonly action: "restart"; readonly delayMs: number }
  | { readonly action: "stop" }
  | { readonly action: "escalate"; readonly reason: string };

/** Merges partial supervision options over the defaults and checks them. */
export function resolveSupervision(partial: Partial<Supervision> = {}): Supervision {
  const supervision: Supervision = {
    policy: partial.policy ?? DEFAULT_SUPERVISION.policy,
    restartLimit: partial.restartLimit ?? DEFAULT_SUPERVISION.restartLimit,
    backoff: partial.backoff ?? DEFAULT_SUPERVISION.backoff,
  };
  const { restartLimit, backoff } = supervision;
  if (!(restartLimit.count >= 0 && restartLimit.withinMs > 0)) {
    throw new RangeError("restartLimit needs count >= 0 and withinMs > 0");
  }
  if (!(backoff.initialMs >= 0 && backoff.maxMs >= backoff.initialMs && backoff.factor >= 1)) {
    throw new RangeError("backoff needs 0 <= initialMs <= maxMs and factor >= 1");
  }
  return supervision;
}

/** Keeps one actor's restart history and decides what follows each exit. */
export class Supervisor {
  readonly supervision: Supervision;
  #restarts: number[] = [];
  #now: () => number;

  /** `now` is injectable so tests control the clock. */
  constructor(supervision: Supervision, now: () => number = Date.now) {
    this.supervision = supervision;
    this.#now = now;
  }

  /** Decides what follows an exit and records a restart when it decides one. */
  decide(reason: ExitReason, detail = ""): Decision {
    if (reason === "requested") return { action: "stop" };
    const { policy, restartLimit, backoff } = this.supervision;
    if (reason === "normal" && policy !== "permanent") return { action: "stop" };
    if (policy === "never") {
      return { action: "escalate", reason: `failed with restart policy "never": ${detail}` };
    }
    const now = this.#now();
    this.#restarts = this.#restarts.filter((at) => now - at < restartLimit.withinMs);
    if (this.#restarts.length >= restartLimit.count) {
      return {
        action: "escalate",
        reason: `more than ${restartLimit.count} restarts within ${restartLimit.withinMs} ms` +
          (detail === "" ? "" : `; last failure: ${detail}`),
      };
    }
    this.#restarts.push(now);
    const n = this.#restarts.length;
    const delayMs = Math.min(backoff.maxMs, backoff.initialMs * backoff.factor ** (n - 1));
    return { action: "restart", delayMs };
  }
}
