/**
 * The RouterActor: the ingress of every client operation. It turns each operation into a
 * routing decision and executes it:
 *
 * | decision | used for | on one node |
 * | --- | --- | --- |
 * | `local` | writes, deletes, point reads owned here | the NodeOrchestrator's shards |
 * | `remote` | the same, owned by another node | (the cluster adds it) |
 * | `broadcast` | searches, index listing, schema changes | this node is the only target |
 *
 * The router decides in its handler and hands the execution off with `ctx.detach`, so one
 * slow operation never holds the ones behind it: the router serializes decisions, not
 * work. It counts its decisions and failures for the metrics.
 *
 * @module
 */

import type { Actor, ActorRef } from "../actors/types.ts";
import type { SearchAnswer } from "../query/search.ts";
import type { StoredDocument, WriteOutcome } from "../storage/microshard.ts";
import type { Schema } from "../storage/schema.ts";
import type { EngineName } from "../storage/search_index.ts";
import type { ClientWrite, IndexSummary, NodeOrchestrator, SearchPages } from "./orchestrator.ts";

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
  stats: RouterStats;
};

/** A reference to the router. */
export type RouterRef = ActorRef<RouterMsg, RouterReplies>;

/** Where an operation runs. */
export type RoutingDecision =
  | { kind: "local" }
  | { kind: "remote"; node: string }
  | { kind: "broadcast"; nodes: readonly string[] };

/** What the router has done since it started. */
export interface RouterStats {
  /** Operations per decision kind. */
  decisions: { local: number; remote: number; broadcast: number };
  /** Operations that failed (the error reached the client). */
  failures: number;
  /** Operations handed off and not yet answered. */
  inFlight: number;
}

/** The decision for one operation on a node that is alone (the cluster replaces this). */
export function decide(
  msg: Exclude<RouterMsg, { type: "stats" }>,
  self: string,
): RoutingDecision {
  switch (msg.type) {
    case "write":
    case "get":
      return { kind: "local" };
    case "search":
    case "searchPages":
    case "indexes":
    case "configure":
    case "dropIndex":
      return { kind: "broadcast", nodes: [self] };
  }
}

/** Builds the router over this node's orchestrator. */
export function createRouterActor(
  node: NodeOrchestrator,
  options: { self: string },
): Actor<RouterMsg, RouterReplies> {
  const stats: RouterStats = {
    decisions: { local: 0, remote: 0, broadcast: 0 },
    failures: 0,
    inFlight: 0,
  };
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
        return structuredClone(stats);
      }
      const decision = decide(msg, options.self);
      stats.decisions[decision.kind]++;
      if (decision.kind === "remote") {
        throw new Error(`no route to node ${decision.node}: this node runs alone`);
      }
      // Local, or a broadcast whose only target is this node.
      switch (msg.type) {
        case "write":
          return ctx.detach(run(() => node.write(msg.writes)));
        case "get":
          return ctx.detach(run(() => node.get(msg.index, msg.id, msg.routingKey)));
        case "search":
          return ctx.detach(run(() => node.search(msg.index, msg.body)));
        case "searchPages":
          return ctx.detach(run(() => node.searchPages(msg.index, msg.body)));
        case "configure":
          return ctx.detach(run(() => node.configure(msg.index, msg.config)));
        case "dropIndex":
          return ctx.detach(run(() => node.dropIndex(msg.index)));
        case "indexes":
          return ctx.detach(run(() => node.indexes()));
      }
    },
  };
}
