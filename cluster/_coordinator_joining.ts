/**
 * How the coordinator joins: dialing the seeds (again, with backoff, while joining; a node
 * every seed refuses says so), ending the joining once a member's schemas are adopted, and
 * the one-shot boot check that compares the kept member list with the members that answered.
 *
 * @module
 */

import type { Handlers } from "../actors/handlers.ts";
import type { CoordinatorState } from "./_coordinator_state.ts";
import type { CoordinatorMsg, CoordinatorReplies } from "./coordinator_protocol.ts";
import { SeedTracker } from "./seed_tracker.ts";

/** The coordinator messages the joining handles. */
export type JoiningMessages = "adopted" | "dialSeed" | "seedDialed" | "bootCheck";

/** What the boot check found: members kept but not met, members met but not kept. */
export interface BootCheck {
  checked: boolean;
  missing: string[];
  unexpected: string[];
}

/** How one coordinator joins its cluster. */
export class Joining {
  readonly seeds: SeedTracker;
  readonly boot: BootCheck = { checked: false, missing: [], unexpected: [] };
  readonly #s: CoordinatorState;
  #bootTimer: ReturnType<typeof setTimeout> | undefined;

  constructor(state: CoordinatorState) {
    this.#s = state;
    this.seeds = new SeedTracker(state.deps.seeds);
  }

  /** The handlers of the joining messages. */
  handlers(): Pick<Handlers<CoordinatorMsg, CoordinatorReplies>, JoiningMessages> {
    const s = this.#s;
    return {
      adopted: (msg) => {
        if (s.joining) this.#end(`met ${msg.from}`);
      },
      dialSeed: (msg) => {
        if (s.joining) this.dialSeed(msg.seed);
      },
      seedDialed: (msg) => this.#onSeedDialed(msg.seed, msg.error),
      bootCheck: () => this.#bootCheck(),
    };
  }

  /** Schedules the boot check after `bootCheckAfterMs`. */
  armBootCheck(): void {
    const s = this.#s;
    this.#bootTimer = setTimeout(
      () => s.deps.tellSelf({ type: "bootCheck" }),
      s.deps.bootCheckAfterMs,
    );
  }

  /** Cancels the boot check if it has not run. */
  stop(): void {
    clearTimeout(this.#bootTimer);
  }

  /** Dials a seed; the outcome comes back as `seedDialed`. */
  dialSeed(seed: string): void {
    const s = this.#s;
    s.deps.dial(seed).then(
      () => s.deps.tellSelf({ type: "seedDialed", seed }),
      (error) => s.deps.tellSelf({ type: "seedDialed", seed, error: (error as Error).message }),
    );
  }

  #end(why: string): void {
    this.#s.joining = false;
    this.#s.deps.log.info(`joined the cluster (${why}); taking data requests`);
    this.#s.publish();
  }

  #onSeedDialed(seed: string, error: string | undefined): void {
    const s = this.#s;
    const seeds = this.seeds;
    if (error === undefined) {
      seeds.reached(seed);
      return;
    }
    s.telemetry.dial_failures++;
    const retryMs = seeds.failed(seed, error);
    if (seeds.firstFailure(seed)) {
      s.deps.log.warn(
        `cannot join through seed ${seed}: ${error} (a seed with another network.cluster.psk ` +
          `fails the handshake like this); trying again`,
      );
    }
    const problem = seeds.problem;
    if (problem !== undefined && seeds.firstFailure(seed)) {
      s.deps.log.error(`not part of the cluster: ${problem}`);
    }
    if (s.joining) s.later(retryMs, { type: "dialSeed", seed });
  }

  /** Compares the kept member list with the members that answered since boot. */
  #bootCheck(): void {
    const s = this.#s;
    const boot = this.boot;
    boot.checked = true;
    // Alone on a kept member list, with no seeds to wait for: serve what this node holds.
    if (s.joining && s.deps.seeds.length === 0) this.#end("the boot check");
    const self = s.self.nodeId;
    const known = new Set(s.snapshot.map((info) => info.nodeId));
    boot.missing = s.snapshot
      .filter((info) => info.nodeId !== self && !s.members.get(info.nodeId)?.connected)
      .map((info) => info.nodeId);
    // On a first boot there is no list to compare with: every peer would be "new".
    boot.unexpected = s.snapshot.length === 0 ? [] : [...s.members.values()]
      .filter((m) => m.connected && m.info.nodeId !== self && !known.has(m.info.nodeId))
      .map((m) => m.info.nodeId);
    if (boot.missing.length > 0 || boot.unexpected.length > 0) {
      s.deps.log.warn(
        `cluster at boot differs from the kept member list: missing [${
          boot.missing.join(", ")
        }], new [${boot.unexpected.join(", ")}]`,
      );
    } else {
      s.deps.log.info("cluster at boot matches the kept member list");
    }
  }
}
