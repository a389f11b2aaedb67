/**
 * The RouterActor: the ingress of every client operation. It turns each operation into a
 * routing decision and executes it:
 *
 * | decision | used for | executed by |
 * | --- | --- | --- |
 * | `local` | writes, deletes, point reads owned here | the NodeOrchestrator's shards |
 * | `remote` | the same, owned by other nodes (a bulk may span several) | `ClusterOps`: unicast to the owners with retries and a timeout |
 * | `broadcast` | searches, schema changes, index drops, the cluster's index list | `ClusterOps`: scatter-gather over every connected node |
 *
 * Alone, every decision is `local` or a broadcast to itself. In a cluster the router routes
 * by the {@linkcode ClusterView} the ClusterCoordinator sends it (a `view` message) on every
 * change: ownership comes from the view's ring.
 *
 * The router decides in its handler and hands the execution off with `ctx.detach`, so one
 * slow operation never holds the ones behind it: the router serializes decisions, not
 * work. It counts its decisions and failures for the metrics.
 *
 * @module
 */

import type { Actor, ActorRef } from "../actors/types.ts";
import { type SearchAnswer, searchAnswer } from "../query/search.ts";
import type { StoredDocument, WriteOutcome } from "../storage/microshard.ts";
import type { Schema } from "../storage/schema.ts";
import type { EngineName } from "../storage/search_index.ts";
import type { ClientWrite, IndexSummary, NodeOrchestrator, SearchPages } from "./orchestrator.ts";
import type { ClusterOps, ClusterOpsStats } from "../cluster/cluster_ops.ts";
import { type ClusterView, ownerOfWrite, reachable } from "../cluster/view.ts";

/** Index configuration as a client sends it. */
export interface IndexConfig {
  fields?: Array<{ name: string; type: string }>;
  engine?: string;
  description?: string;
}

/** Messages of the RouterActor: one per client operation, plus its counters. */
export type RouterMsg =
  | { type: "write"; writes: readonly ClientWrite[] }
  | { type: "get"; index: string; id: string; routingKey?: string }
  | { type: "search"; index: string; body: unknown }
  | { type: "searchPages"; index: string; body: unknown }
  | { type: "configure"; index: string; config: IndexConfig }
  | { type: "dropIndex"; index: string }
  | { type: "indexes" }
  | { type: "clusterIndexes" }
  | { type: "view"; view: ClusterView }
  | { type: "stats" };

/** Replies of the RouterActor. */
export type RouterReplies = {
  write: Array<WriteOutcome & { shard_id?: number }>;
  get: StoredDocument | null;
  search: SearchAnswer;
  searchPages: SearchPages;
  configure: { schema: Schema; engine: EngineName };
  dropIndex: { deleted_from_shards: number; total_shards: number };
  indexes: IndexSummary[];
  clusterIndexes: ClusterIndexes;
  view: void;
  stats: RouterStats;
};

/** What `/_cluster/_indexes` shows: every node's indexes, merged by name. */
export interface ClusterIndexes {
  indexes: Array<IndexSummary & { nodes: number }>;
  total_indexes: number;
  nodes_contacted: number;
  nodes_failed: number;
  failed_nodes: string[];
}

/** A reference to the router. */
export type RouterRef = ActorRef<RouterMsg, RouterReplies>;

/** Where an operation runs. */
export type RoutingDecision =
  | { kind: "local" }
  | { kind: "remote"; nodes: readonly string[] }
  | { kind: "broadcast"; nodes: readonly string[] };

/** What the router has done since it started. */
export interface RouterStats {
  /** Operations per decision kind. */
  decisions: { local: number; remote: number; broadcast: number };
  /** Operations that failed (the error reached the client). */
  failures: number;
  /** Operations handed off and not yet answered. */
  inFlight: number;
  /** Remote execution counters (in a cluster). */
  cluster?: ClusterOpsStats;
}

/** The decision for one operation; without a view the node is alone. */
export function decide(
  msg: Exclude<RouterMsg, { type: "stats" | "view" }>,
  self: string,
  view?: ClusterView,
): RoutingDecision {
  switch (msg.type) {
    case "write": {
      if (view === undefined) return { kind: "local" };
      const owners = new Set(msg.writes.map((write) => ownerOfWrite(view, write)));
      owners.delete(self);
      return owners.size === 0 ? { kind: "local" } : { kind: "remote", nodes: [...owners] };
    }
    case "get": {
      if (view === undefined) return { kind: "local" };
      const owner = view.ring.ownerOf(msg.routingKey ?? msg.id);
      return owner === self ? { kind: "local" } : { kind: "remote", nodes: [owner] };
    }
    case "indexes":
      return { kind: "local" };
    case "search":
    case "searchPages":
    case "configure":
    case "dropIndex":
    case "clusterIndexes":
      return { kind: "broadcast", nodes: view === undefined ? [self] : reachable(view) };
  }
}

/** Builds the router over this node's orchestrator (and, in a cluster, its remote execution). */
export function createRouterActor(
  node: NodeOrchestrator,
  options: { self: string; cluster?: ClusterOps },
): Actor<RouterMsg, RouterReplies> {
  const stats: RouterStats = {
    decisions: { local: 0, remote: 0, broadcast: 0 },
    failures: 0,
    inFlight: 0,
  };
  let view: ClusterView | undefined;
  const run = <T>(work: () => Promise<T>): Promise<T> => {
    stats.inFlight++;
    const running = work();
    running.then(
      () => stats.inFlight--,
      () => {
        stats.inFlight--;
        stats.failures++;
      },
    );
    return running;
  };
  return {
    receive(msg, ctx) {
      if (msg.type === "stats") {
        const copy = structuredClone(stats);
        if (options.cluster !== undefined) copy.cluster = { ...options.cluster.stats };
        return copy;
      }
      if (msg.type === "view") {
        view = msg.view;
        return;
      }
      const cluster = options.cluster;
      const current = cluster === undefined ? undefined : view;
      const decision = decide(msg, options.self, current);
      stats.decisions[decision.kind]++;
      if (cluster === undefined || current === undefined) {
        if (decision.kind === "remote") {
          throw new Error(`no route to ${decision.nodes.join(", ")}: this node runs alone`);
        }
        return ctx.detach(run(() => alone(node, msg)));
      }
      switch (msg.type) {
        case "write":
          return ctx.detach(
            run(() =>
              decision.kind === "local"
                ? node.write(msg.writes)
                : cluster.write(current, msg.writes)
            ),
          );
        case "get":
          return ctx.detach(run(() => cluster.get(current, msg.index, msg.id, msg.routingKey)));
        case "search":
          return ctx.detach(run(async () => {
            const { pages, search, context } = await cluster.searchPages(
              current,
              msg.index,
              msg.body,
            );
            return searchAnswer(pages, search, context);
          }));
        case "searchPages":
          return ctx.detach(run(() => cluster.searchPages(current, msg.index, msg.body)));
        case "configure":
          return ctx.detach(run(() => cluster.configure(current, msg.index, msg.config)));
        case "dropIndex":
          return ctx.detach(run(() => cluster.dropIndex(current, msg.index)));
        case "indexes":
          return ctx.detach(run(() => node.indexes()));
        case "clusterIndexes":
          return ctx.detach(run(() => cluster.clusterIndexes(current)));
      }
    },
  };
}

/** Runs an operation on a node that is alone. */
function alone(
  node: NodeOrchestrator,
  msg: Exclude<RouterMsg, { type: "stats" | "view" }>,
): Promise<RouterReplies[typeof msg.type]> {
  switch (msg.type) {
    case "write":
      return node.write(msg.writes);
    case "get":
      return node.get(msg.index, msg.id, msg.routingKey);
    case "search":
      return node.search(msg.index, msg.body);
    case "searchPages":
      return node.searchPages(msg.index, msg.body);
    case "configure":
      return node.configure(msg.index, msg.config);
    case "dropIndex":
      return node.dropIndex(msg.index);
    case "indexes":
      return node.indexes();
    case "clusterIndexes":
      return node.indexes().then((indexes) => ({
        indexes: indexes.map((index) => ({ ...index, nodes: 1 })),
        total_indexes: indexes.length,
        nodes_contacted: 1,
        nodes_failed: 0,
        failed_nodes: [],
      }));
  }
}
