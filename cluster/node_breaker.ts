/**
 * The per-node circuit breaker of remote calls: a node the failure detector calls
 * `suspect` or `down` gets no new point operations, and at most `maxInFlightPerNode`
 * requests go to one node at once. Past either, the call fails at once with
 * `NodeUnavailableError` (503 naming the node) instead of waiting for its deadline, so
 * one sick node cannot fill the HTTP concurrency limit with requests that will time out.
 *
 * @module
 */

import { NodeUnavailableError } from "./errors.ts";
import type { ClusterView } from "./view.ts";

/** Requests to one node in flight at once, by default. */
export const DEFAULT_MAX_IN_FLIGHT_PER_NODE = 64;

/** What the breaker refused, for `/_metrics`. */
export interface BreakerStats {
  /** Calls refused because the node was suspect or down. */
  refused_unhealthy: number;
  /** Calls refused because too many were in flight to the node. */
  refused_in_flight: number;
}

/** Admits remote calls per node. */
export class NodeBreaker {
  readonly stats: BreakerStats = { refused_unhealthy: 0, refused_in_flight: 0 };
  readonly #maxInFlightPerNode: number;
  readonly #inFlight = new Map<string, number>();

  constructor(options: { maxInFlightPerNode?: number } = {}) {
    this.#maxInFlightPerNode = options.maxInFlightPerNode ?? DEFAULT_MAX_IN_FLIGHT_PER_NODE;
  }

  /** Requests to `node` in flight now. */
  inFlight(node: string): number {
    return this.#inFlight.get(node) ?? 0;
  }

  /**
   * Admits one call to `node`, or throws `NodeUnavailableError`. The returned function
   * must be called once the call settles.
   */
  enter(view: ClusterView, node: string): () => void {
    const member = view.members.get(node);
    const state = member?.state ?? "up";
    if (state !== "up") {
      this.stats.refused_unhealthy++;
      throw new NodeUnavailableError(
        node,
        `it is ${state} (no heartbeat answered lately)`,
        member?.info.name,
      );
    }
    const now = this.inFlight(node);
    if (now >= this.#maxInFlightPerNode) {
      this.stats.refused_in_flight++;
      throw new NodeUnavailableError(
        node,
        `${now} requests to it are in flight (network.cluster.max_in_flight_per_node)`,
        member?.info.name,
      );
    }
    this.#inFlight.set(node, now + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = this.inFlight(node) - 1;
      if (left <= 0) this.#inFlight.delete(node);
      else this.#inFlight.set(node, left);
    };
  }
}
