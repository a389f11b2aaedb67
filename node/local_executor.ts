/**
 * The executor of a node that runs alone: every operation on its own shards. Writes, point
 * reads and the index list are `local`; searches, schema changes, drops and the cluster's
 * index list are broadcasts to this one node.
 *
 * @module
 */

import { IndexNotFoundError } from "../storage/errors.ts";
import type { StoredDocument } from "../storage/microshard.ts";
import { gatherPages, type SearchPages, type ShardQuery } from "../query/pipeline.ts";
import type { SearchLimits } from "../query/search.ts";
import type { SearchRequest } from "../query/request.ts";
import type {
  ClusterIndexes,
  DroppedIndex,
  Executor,
  IndexConfig,
  IndexSchema,
  IndexSummary,
  Operation,
  RoutingDecision,
  WriteResult,
} from "./executor.ts";
import type { NodeOrchestrator } from "./orchestrator.ts";
import type { WriteCommand } from "./write_command.ts";

/** {@linkcode Executor} over this node's orchestrator only. */
export class LocalExecutor implements Executor {
  readonly #node: NodeOrchestrator;
  readonly #self: string;
  readonly #limits: SearchLimits;

  constructor(node: NodeOrchestrator, options: { self?: string; limits?: SearchLimits } = {}) {
    this.#node = node;
    this.#self = options.self ?? "local";
    this.#limits = options.limits ?? {};
  }

  decide(op: Operation): RoutingDecision {
    switch (op.type) {
      case "write":
      case "get":
      case "indexes":
        return { kind: "local" };
      case "search":
      case "searchPages":
      case "configure":
      case "dropIndex":
      case "clusterIndexes":
        return { kind: "broadcast", nodes: [this.#self] };
    }
  }

  write(commands: readonly WriteCommand[]): Promise<WriteResult[]> {
    return this.#node.write(commands);
  }

  get(index: string, id: string, routingKey?: string): Promise<StoredDocument | null> {
    return this.#node.get(index, id, routingKey);
  }

  searchPages(index: string, request: SearchRequest): Promise<SearchPages> {
    const entry = this.#node.schema(index);
    if (entry === undefined) return Promise.reject(new IndexNotFoundError(index));
    // With several shards, each would read and send its whole top `offset + limit` documents,
    // most of them cut by the merge: they answer without, and the merged page's are read here.
    const fetchPhase = this.#node.shardCount > 1;
    const port = (query: ShardQuery) => this.#node.shardPages(query, { fetchPhase });
    return gatherPages(port, index, request, {
      schema: entry.schema,
      limits: this.#limits,
      oneShard: this.#node.shardCount === 1,
      ...(entry.ranking === undefined ? {} : { ranking: entry.ranking }),
    });
  }

  configure(index: string, config: IndexConfig): Promise<IndexSchema> {
    return this.#node.configure(index, config);
  }

  dropIndex(index: string): Promise<DroppedIndex> {
    return this.#node.dropIndex(index);
  }

  indexes(): Promise<IndexSummary[]> {
    return this.#node.indexes();
  }

  async clusterIndexes(): Promise<ClusterIndexes> {
    const indexes = await this.#node.indexes();
    return {
      indexes: indexes.map((index) => ({ ...index, nodes: 1 })),
      total_indexes: indexes.length,
      nodes_contacted: 1,
      nodes_failed: 0,
      failed_nodes: [],
    };
  }

  stats(): undefined {
    return undefined;
  }
}
