/**
 * The node service: the actor through which other nodes reach this node's data. It is
 * what a remote routing decision lands on — the owner's writes, deletes and point reads,
 * a broadcast's shard pages, schema changes, index listings — and runs each on the local
 * NodeOrchestrator, never routing again (so a request cannot bounce between nodes).
 * Every operation is detached: the service serializes nothing.
 *
 * @module
 */

import type { Actor, ActorRef } from "../actors/types.ts";
import { type Handlers, receiveBy } from "../actors/handlers.ts";
import type { DroppedIndex, IndexConfig, IndexSummary, WriteResult } from "../node/executor.ts";
import type { NodeOrchestrator } from "../node/orchestrator.ts";
import type { WriteCommand } from "../node/write_command.ts";
import type { PageSet, ShardQuery } from "../query/pipeline.ts";
import { IndexNotFoundError } from "../storage/errors.ts";
import { checkRanking } from "../storage/ranking_config.ts";
import { parseCorpusStats } from "./stats_schema.ts";
import type { StoredDocument } from "../storage/microshard.ts";
import type { KeyChange, KeySnapshot, KeyStore } from "../security/key_store.ts";

/** The name the node service is exposed under. */
export const NODE_SERVICE = "node";

/** A schema as nodes exchange it: the index, its engine and its fields. */
export interface SchemaChange {
  readonly index: string;
  readonly engine: string;
  readonly fields: ReadonlyArray<{ readonly name: string; readonly type: string }>;
}

/** Messages of the node service. */
export type NodeServiceMsg =
  | { type: "write"; commands: readonly WriteCommand[] }
  | { type: "get"; index: string; id: string; routingKey?: string }
  | { type: "shardPages"; query: ShardQuery }
  | { type: "configure"; index: string; config: IndexConfig }
  | { type: "adoptSchemas"; schemas: readonly SchemaChange[] }
  | { type: "dropIndex"; index: string }
  | { type: "indexes" }
  /** An API key created or deleted on another node. */
  | { type: "applyKeys"; change: KeyChange }
  /** Another node's whole key set, when the two meet (merged: deletions are kept). */
  | { type: "applyKeySnapshot"; snapshot: KeySnapshot };

/** Replies of the node service. */
export type NodeServiceReplies = {
  write: WriteResult[];
  get: StoredDocument | null;
  /** No pages (but the shard count) when the index has no schema on this node yet. */
  shardPages: PageSet;
  configure: { index: string };
  /** The schemas this node refused (a conflicting type), with the reason. */
  adoptSchemas: { refused: string[] };
  dropIndex: DroppedIndex;
  indexes: IndexSummary[];
  applyKeys: { applied: boolean };
  applyKeySnapshot: { applied: boolean };
};

/** A ref to a node's service (usually remote). */
export type NodeServiceRef = ActorRef<NodeServiceMsg, NodeServiceReplies>;

/** The answer of a key message on a node without a key store. */
function none(): Promise<{ applied: boolean }> {
  return Promise.resolve({ applied: false });
}

/**
 * A shard query from another node with the parts that decide scores checked: the summed
 * statistics (shape and ranges, as a peer's answers are) and the ranking settings (against
 * the index's schema here).
 */
function checkedQuery(query: ShardQuery, node: NodeOrchestrator): ShardQuery {
  if (query.stats !== undefined) parseCorpusStats(query.stats, "the search's statistics");
  if (query.ranking !== undefined) {
    const entry = node.schema(query.index);
    if (entry !== undefined) checkRanking(query.ranking, entry.schema);
  }
  return query;
}

/** Builds the node service over the local orchestrator (and the node's API keys). */
export function createNodeService(
  node: NodeOrchestrator,
  options: { readonly keys?: KeyStore } = {},
): Actor<NodeServiceMsg, NodeServiceReplies> {
  const keys = options.keys;
  const missing = <T>(fallback: T) => (error: unknown): T => {
    if (error instanceof IndexNotFoundError) return fallback;
    throw error;
  };
  const handlers: Handlers<NodeServiceMsg, NodeServiceReplies> = {
    // Outcomes cross to another node: an error keeps its name and message, never its stack.
    write: (msg, ctx) =>
      ctx.detach(
        node.write(msg.commands).then((results) =>
          results.map((result) =>
            result.ok
              ? result
              : { ...result, error: { name: result.error.name, message: result.error.message } }
          )
        ),
      ),
    get: (msg, ctx) => ctx.detach(node.get(msg.index, msg.id, msg.routingKey)),
    shardPages: (msg, ctx) =>
      ctx.detach(
        Promise.resolve().then(() => node.shardPages(checkedQuery(msg.query, node)))
          .catch(missing({ pages: [], totalShards: node.shardCount })),
      ),
    configure: (msg, ctx) =>
      ctx.detach(node.configure(msg.index, msg.config).then(() => ({ index: msg.index }))),
    adoptSchemas: (msg) => ({ refused: node.adoptSchemas(msg.schemas) }),
    dropIndex: (msg, ctx) =>
      ctx.detach(
        node.dropIndex(msg.index).catch(
          missing({ deleted_from_shards: 0, total_shards: node.shardCount }),
        ),
      ),
    indexes: (_msg, ctx) => ctx.detach(node.indexes()),
    applyKeys: (msg, ctx) =>
      ctx.detach(keys?.apply(msg.change).then(() => ({ applied: true })) ?? none()),
    applyKeySnapshot: (msg, ctx) =>
      ctx.detach(keys?.applySnapshot(msg.snapshot).then(() => ({ applied: true })) ?? none()),
  };
  return { receive: receiveBy(handlers) };
}
