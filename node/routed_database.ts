/**
 * The database the HTTP API serves: every operation goes through the RouterActor. Only
 * the schema cache and the shard count are read from the orchestrator directly (they are
 * plain reads of state the orchestrator keeps).
 *
 * @module
 */

import type { Database } from "../http/api.ts";
import { type StreamedAnswer, streamedAnswer } from "../query/search.ts";
import type { ClientWrite, NodeOrchestrator } from "./orchestrator.ts";
import type { IndexConfig, RouterRef } from "./router_actor.ts";

/** Default time the router may take to answer one operation, in ms. */
export const DEFAULT_ROUTER_TIMEOUT_MS = 60_000;

/** {@linkcode Database} over the router. */
export class RoutedDatabase implements Database {
  readonly #router: RouterRef;
  readonly #node: NodeOrchestrator;
  readonly #timeoutMs: number;

  constructor(router: RouterRef, node: NodeOrchestrator, options: { timeoutMs?: number } = {}) {
    this.#router = router;
    this.#node = node;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_ROUTER_TIMEOUT_MS;
  }

  get shardCount(): number {
    return this.#node.shardCount;
  }

  schema(index: string) {
    return this.#node.schema(index);
  }

  configure(index: string, config: IndexConfig) {
    return this.#router.ask({ type: "configure", index, config }, { timeoutMs: this.#timeoutMs });
  }

  write(writes: readonly ClientWrite[]) {
    return this.#router.ask({ type: "write", writes }, { timeoutMs: this.#timeoutMs });
  }

  get(index: string, id: string, routingKey?: string) {
    return this.#router.ask(
      routingKey === undefined
        ? { type: "get", index, id }
        : { type: "get", index, id, routingKey },
      { timeoutMs: this.#timeoutMs },
    );
  }

  search(index: string, body: unknown) {
    return this.#router.ask({ type: "search", index, body }, { timeoutMs: this.#timeoutMs });
  }

  /** A search whose hits are merged while the answer is streamed. */
  async searchStream(index: string, body: unknown): Promise<StreamedAnswer> {
    const { pages, search, context } = await this.#router.ask(
      { type: "searchPages", index, body },
      { timeoutMs: this.#timeoutMs },
    );
    return streamedAnswer(pages, search, context);
  }

  dropIndex(index: string) {
    return this.#router.ask({ type: "dropIndex", index }, { timeoutMs: this.#timeoutMs });
  }

  indexes() {
    return this.#router.ask({ type: "indexes" }, { timeoutMs: this.#timeoutMs });
  }

  /** Every node's indexes (on a node alone: this node's). */
  clusterIndexes() {
    return this.#router.ask({ type: "clusterIndexes" }, { timeoutMs: this.#timeoutMs });
  }

  /** The router's counters. */
  routerStats() {
    return this.#router.ask({ type: "stats" }, { timeoutMs: this.#timeoutMs });
  }
}
