/**
 * The RouterActor: the ingress of every client operation. For each one it asks the
 * {@linkcode Executor} where it runs (the decision it counts), hands the execution off with
 * `ctx.detach`, and counts what failed:
 *
 * | decision | used for | executed by |
 * | --- | --- | --- |
 * | `local` | writes, deletes, point reads owned here; this node's index list | this node's shards |
 * | `remote` | the same, owned by other nodes (a bulk may span several) | the owner nodes, with retries and a timeout |
 * | `broadcast` | searches, schema changes, index drops, the cluster's index list | every reachable node (this one alone: just itself) |
 *
 * Alone, the executor is the {@linkcode LocalExecutor}; in a cluster it is the cluster's
 * executor, which routes by the cluster view. The router serializes decisions, not work:
 * one slow operation never holds the ones behind it.
 *
 * @module
 */

import type { Actor, ActorRef } from "../actors/types.ts";
import { type Handlers, receiveBy } from "../actors/handlers.ts";
import type { StoredDocument } from "../storage/microshard.ts";
import { answerOf, type SearchPages } from "../query/pipeline.ts";
import type { SearchAnswer } from "../query/search.ts";
import type {
  ClusterIndexes,
  DroppedIndex,
  Executor,
  IndexSchema,
  IndexSummary,
  Operation,
  WriteResult,
} from "./executor.ts";

/** Messages of the RouterActor: one per client operation, plus its counters. */
export type RouterMsg = Operation | { readonly type: "stats" };

/** Replies of the RouterActor. */
export type RouterReplies = {
  write: WriteResult[];
  get: StoredDocument | null;
  search: SearchAnswer;
  searchPages: SearchPages;
  configure: IndexSchema;
  dropIndex: DroppedIndex;
  indexes: IndexSummary[];
  clusterIndexes: ClusterIndexes;
  stats: RouterStats;
};

/** A reference to the router. */
export type RouterRef = ActorRef<RouterMsg, RouterReplies>;

/** What the router has done since it started. */
export interface RouterStats {
  /** Operations per decision kind. */
  decisions: { local: number; remote: number; broadcast: number };
  /** Operations that failed (the error reached the client). */
  failures: number;
  /** Operations handed off and not yet answered. */
  inFlight: number;
  /** The executor's own counters (remote requests, retries… in a cluster). */
  executor?: Readonly<Record<string, number>>;
}

/** How each operation runs on an executor: one entry per operation, typed by its reply. */
const RUN: {
  readonly [K in Operation["type"]]: (
    executor: Executor,
    op: Extract<Operation, { type: K }>,
  ) => Promise<RouterReplies[K]>;
} = {
  write: (executor, op) => executor.write(op.commands),
  get: (executor, op) => executor.get(op.index, op.id, op.routingKey),
  search: async (executor, op) => answerOf(await executor.searchPages(op.index, op.request)),
  searchPages: (executor, op) => executor.searchPages(op.index, op.request),
  configure: (executor, op) => executor.configure(op.index, op.config),
  dropIndex: (executor, op) => executor.dropIndex(op.index),
  indexes: (executor) => executor.indexes(),
  clusterIndexes: (executor) => executor.clusterIndexes(),
};

/** Builds the router over an executor. */
export function createRouterActor(executor: Executor): Actor<RouterMsg, RouterReplies> {
  const stats: RouterStats = {
    decisions: { local: 0, remote: 0, broadcast: 0 },
    failures: 0,
    inFlight: 0,
  };
  function route<K extends Operation["type"]>(
    op: Extract<Operation, { type: K }>,
  ): Promise<RouterReplies[K]> {
    stats.decisions[executor.decide(op).kind]++;
    stats.inFlight++;
    const running = (RUN[op.type] as (e: Executor, o: typeof op) => Promise<RouterReplies[K]>)(
      executor,
      op,
    );
    running.then(
      () => stats.inFlight--,
      () => {
        stats.inFlight--;
        stats.failures++;
      },
    );
    return running;
  }
  const handlers: Handlers<RouterMsg, RouterReplies> = {
    write: (op, ctx) => ctx.detach(route(op)),
    get: (op, ctx) => ctx.detach(route(op)),
    search: (op, ctx) => ctx.detach(route(op)),
    searchPages: (op, ctx) => ctx.detach(route(op)),
    configure: (op, ctx) => ctx.detach(route(op)),
    dropIndex: (op, ctx) => ctx.detach(route(op)),
    indexes: (op, ctx) => ctx.detach(route(op)),
    clusterIndexes: (op, ctx) => ctx.detach(route(op)),
    stats: () => {
      const copy: RouterStats = structuredClone(stats);
      const counters = executor.stats();
      if (counters !== undefined) copy.executor = { ...counters };
      return copy;
    },
  };
  return { receive: receiveBy(handlers) };
}
