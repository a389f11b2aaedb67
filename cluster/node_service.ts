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
import { IndexNotFoundError } from "../storage/errors.ts";
import type { ShardSearchResult, StoredDocument, WriteOutcome } from "../storage/microshard.ts";
import type { ClientWrite, IndexSummary, NodeOrchestrator } from "../node/orchestrator.ts";
import type { IndexConfig } from "../node/router_actor.ts";

/** The name the node service is exposed under. */
export const NODE_SERVICE = "node";

/** Messages of the node service. */
export type NodeServiceMsg =
  | { type: "write"; writes: readonly ClientWrite[] }
  | { type: "get"; index: string; id: string; routingKey?: string }
  | { type: "searchPages"; index: string; body: unknown }
  | { type: "configure"; index: string; config: IndexConfig }
  | { type: "dropIndex"; index: string }
  | { type: "indexes" };

/** Replies of the node service. */
export type NodeServiceReplies = {
  write: Array<WriteOutcome & { shard_id?: number }>;
  get: StoredDocument | null;
  /** `pages` is empty when the index has no schema on this node yet. */
  searchPages: { pages: ShardSearchResult[]; totalShards: number };
  configure: { index: string };
  dropIndex: { deleted_from_shards: number; total_shards: number };
  indexes: IndexSummary[];
};

/** A ref to a node's service (usually remote). */
export type NodeServiceRef = ActorRef<NodeServiceMsg, NodeServiceReplies>;

/** Builds the node service over the local orchestrator. */
export function createNodeService(
  node: NodeOrchestrator,
): Actor<NodeServiceMsg, NodeServiceReplies> {
  return {
    receive(msg, ctx) {
      switch (msg.type) {
        case "write":
          return ctx.detach(node.write(msg.writes));
        case "get":
          return ctx.detach(node.get(msg.index, msg.id, msg.routingKey));
        case "searchPages":
          return ctx.detach(
            node.searchPages(msg.index, msg.body).then(
              ({ pages }) => ({ pages, totalShards: node.shardCount }),
              (error) => {
                if (error instanceof IndexNotFoundError) {
                  return { pages: [], totalShards: node.shardCount };
                }
                throw error;
              },
            ),
          );
        case "configure":
          return ctx.detach(
            node.configure(msg.index, msg.config).then(() => ({ index: msg.index })),
          );
        case "dropIndex":
          return ctx.detach(
            node.dropIndex(msg.index).catch((error) => {
              if (error instanceof IndexNotFoundError) {
                return { deleted_from_shards: 0, total_shards: node.shardCount };
              }
              throw error;
            }),
          );
        case "indexes":
          return ctx.detach(node.indexes());
      }
    },
  };
}
