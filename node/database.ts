/**
 * The database a node serves: the {@linkcode Database} interface the HTTP API (and, later,
 * the embedded module API) speaks, and {@linkcode RoutedDatabase}, which sends every
 * operation through the RouterActor. Requests arrive here already parsed and checked for
 * shape (`parseWrite`, `parseSearchRequest`).
 *
 * @module
 */

import type { StoredDocument } from "../storage/microshard.ts";
import { type StreamedAnswer, streamOf } from "../query/pipeline.ts";
import type { SearchAnswer } from "../query/search.ts";
import type { SearchRequest } from "../query/request.ts";
import type {
  ClusterIndexes,
  DroppedIndex,
  IndexConfig,
  IndexSchema,
  IndexSummary,
  WriteResult,
} from "./executor.ts";
import type { NodeOrchestrator } from "./orchestrator.ts";
import type { RouterRef, RouterStats } from "./router_actor.ts";
import type { ParsedWrite, WriteCommand } from "./write_command.ts";

/** Default time the router may take to answer one operation, in ms. */
export const DEFAULT_ROUTER_TIMEOUT_MS = 60_000;

/** What a node offers its clients. */
export interface Database {
  /** Local shards of this node. */
  readonly shardCount: number;
  /** The node's schema of an index, if it exists. */
  schema(index: string): IndexSchema | undefined;
  configure(index: string, config: IndexConfig): Promise<IndexSchema>;
  /** Writes checked commands; outcomes in command order. */
  write(commands: readonly WriteCommand[]): Promise<WriteResult[]>;
  get(index: string, id: string, routingKey?: string): Promise<StoredDocument | null>;
  search(index: string, request: SearchRequest): Promise<SearchAnswer>;
  /** A search whose hits are merged as they are read; the footer comes last. */
  searchStream(index: string, request: SearchRequest): Promise<StreamedAnswer>;
  dropIndex(index: string): Promise<DroppedIndex>;
  indexes(): Promise<IndexSummary[]>;
  /** Every node's indexes merged by name, with `nodes_contacted` and `nodes_failed`. */
  clusterIndexes(): Promise<ClusterIndexes>;
}

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

  schema(index: string): IndexSchema | undefined {
    return this.#node.schema(index);
  }

  configure(index: string, config: IndexConfig): Promise<IndexSchema> {
    return this.#router.ask({ type: "configure", index, config }, { timeoutMs: this.#timeoutMs });
  }

  write(commands: readonly WriteCommand[]): Promise<WriteResult[]> {
    return this.#router.ask({ type: "write", commands }, { timeoutMs: this.#timeoutMs });
  }

  get(index: string, id: string, routingKey?: string): Promise<StoredDocument | null> {
    return this.#router.ask(
      routingKey === undefined
        ? { type: "get", index, id }
        : { type: "get", index, id, routingKey },
      { timeoutMs: this.#timeoutMs },
    );
  }

  search(index: string, request: SearchRequest): Promise<SearchAnswer> {
    return this.#router.ask({ type: "search", index, request }, { timeoutMs: this.#timeoutMs });
  }

  async searchStream(index: string, request: SearchRequest): Promise<StreamedAnswer> {
    return streamOf(
      await this.#router.ask(
        { type: "searchPages", index, request },
        { timeoutMs: this.#timeoutMs },
      ),
    );
  }

  dropIndex(index: string): Promise<DroppedIndex> {
    return this.#router.ask({ type: "dropIndex", index }, { timeoutMs: this.#timeoutMs });
  }

  indexes(): Promise<IndexSummary[]> {
    return this.#router.ask({ type: "indexes" }, { timeoutMs: this.#timeoutMs });
  }

  clusterIndexes(): Promise<ClusterIndexes> {
    return this.#router.ask({ type: "clusterIndexes" }, { timeoutMs: this.#timeoutMs });
  }

  /** The router's counters. */
  routerStats(): Promise<RouterStats> {
    return this.#router.ask({ type: "stats" }, { timeoutMs: this.#timeoutMs });
  }
}

/**
 * Writes a client's parsed batch: the accepted commands in one call, the refused items
 * answered with their own errors; outcomes in item order.
 */
export async function writeBatch(
  db: Pick<Database, "write">,
  items: readonly ParsedWrite[],
): Promise<WriteResult[]> {
  const commands = items.flatMap((item) => item.ok ? [item.command] : []);
  const written = commands.length === 0 ? [] : await db.write(commands);
  let next = 0;
  return items.map((item) =>
    item.ok
      ? written[next++]!
      : { ok: false, id: item.id, error: { name: item.error.name, message: item.error.message } }
  );
}
