/**
 * Calls from this node to other nodes' services: one node at a time (`unicast`, with retries
 * while the link breaks under a request, the breaker's refusals and the call counters) and
 * every reachable node at once (`gather`, at most `fanoutLimit` requests in flight, each
 * within the broadcast timeout; a node that fails or is late is counted and reported, and the
 * answer still arrives within the timeout).
 *
 * @module
 */

import { NodeUnavailableError } from "../node/errors.ts";
import type {
  ClusterExecutorSettings,
  ClusterExecutorStats,
  ServiceLookup,
} from "./executor_settings.ts";
import type { NodeServiceMsg, NodeServiceReplies } from "./node_service.ts";
import { type ClusterView, reachable } from "./view.ts";
import { within } from "./within.ts";

/** The result of gathering one operation from every node. */
export interface Gathered<T> {
  readonly results: Array<{ node: string; value: T }>;
  readonly failed: Array<{ node: string; error: Error }>;
  /** Nodes asked (this one included when it was asked). */
  readonly contacted: number;
}

/** Unicasts and scatter-gathers to other nodes' services, counted in `counters`. */
export class RemoteCalls {
  readonly #lookup: ServiceLookup;
  readonly #settings: ClusterExecutorSettings;
  readonly #counters: ClusterExecutorStats;

  constructor(
    lookup: ServiceLookup,
    options: {
      readonly settings: ClusterExecutorSettings;
      readonly counters: ClusterExecutorStats;
    },
  ) {
    this.#lookup = lookup;
    this.#settings = options.settings;
    this.#counters = options.counters;
  }

  /** Asks a remote node's service; retries while the link breaks under the request. */
  async unicast<T extends NodeServiceMsg>(
    view: ClusterView,
    node: string,
    msg: T,
    timeoutMs = this.#settings.requestTimeoutMs,
  ): Promise<NodeServiceReplies[T["type"]]> {
    for (let attempt = 0;; attempt++) {
      const member = view.members.get(node);
      if (member?.connected !== true) {
        this.#counters.remote_failures++;
        throw new NodeUnavailableError(node, "not connected", member?.info.name);
      }
      // Fail fast on a sick node; at most `max_in_flight_per_node` calls wait on one node.
      let release: () => void;
      try {
        release = this.#settings.breaker?.enter(view, node) ?? (() => {});
      } catch (error) {
        this.#counters.remote_failures++;
        throw error;
      }
      this.#counters.remote_requests++;
      try {
        const service = await this.#lookup(node);
        return await service.ask(msg, { timeoutMs });
      } catch (error) {
        if (error instanceof NodeUnavailableError && attempt < this.#settings.retryAttempts) {
          this.#counters.remote_retries++;
          continue;
        }
        this.#counters.remote_failures++;
        throw error;
      } finally {
        release();
      }
    }
  }

  /**
   * Runs `work` on every reachable node (this one too unless `local` is false), at most
   * `fanoutLimit` remote requests at once, each within the broadcast timeout.
   */
  async gather<T>(
    view: ClusterView,
    work: (node: string) => Promise<T>,
    options: { local?: boolean } = {},
  ): Promise<Gathered<T>> {
    this.#counters.broadcasts++;
    const targets = reachable(view).filter((node) => options.local !== false || node !== view.self);
    const results: Array<{ node: string; value: T }> = [];
    const failed = unreachable(view);
    const timeoutMs = this.#settings.broadcastTimeoutMs;
    let next = 0;
    const lane = async () => {
      while (next < targets.length) {
        const node = targets[next++]!;
        const late = () => new NodeUnavailableError(node, `no answer within ${timeoutMs} ms`);
        try {
          results.push({ node, value: await within(work(node), timeoutMs, late) });
        } catch (error) {
          failed.push({ node, error: error as Error });
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.#settings.fanoutLimit, targets.length) }, lane),
    );
    this.#counters.broadcast_node_failures += failed.length;
    return { results, failed, contacted: targets.length };
  }
}

/** Members known but not connected: failed at once, nothing waits for them. */
export function unreachable(view: ClusterView): Array<{ node: string; error: Error }> {
  const failed: Array<{ node: string; error: Error }> = [];
  for (const [node, member] of view.members) {
    if (node !== view.self && !member.connected) {
      failed.push({
        node,
        error: new NodeUnavailableError(node, "not connected", member.info.name),
      });
    }
  }
  return failed;
}
