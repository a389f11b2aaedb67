/**
 * The cluster's {@linkcode Executor}: it decides where an operation runs by the cluster view
 * (which the ClusterCoordinator hands it on every change) and runs it there — unicast to the
 * owner node with retries and a timeout, bulk writes grouped per owner and forwarded in
 * parallel, and scatter-gather under `broadcast_timeout` with at most
 * `broadcast_fanout_limit` requests in flight. A node that fails or times out in a broadcast
 * is counted (`nodes_failed`, and its shards in `failed_shards`); the answer still arrives
 * within the timeout.
 *
 * @module
 */

import { serializeError } from "../actors/errors.ts";
import type { ActorRef } from "../actors/types.ts";
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
} from "../node/executor.ts";
import { MalformedFrameError } from "./errors.ts";
import { NodeUnavailableError } from "../node/errors.ts";
import type { NodeOrchestrator } from "../node/orchestrator.ts";
import type { WriteCommand } from "../node/write_command.ts";
import { gatherPages, type PageSet, type SearchPages, type ShardQuery } from "../query/pipeline.ts";
import { checkedStatsPages } from "./stats_schema.ts";
import type { SearchRequest } from "../query/request.ts";
import type { SearchLimits } from "../query/search.ts";
import { IndexNotFoundError } from "../storage/errors.ts";
import type { StoredDocument } from "../storage/microshard.ts";
import { fieldDeclarations } from "../storage/schema.ts";
import type { NodeServiceMsg, NodeServiceReplies } from "./node_service.ts";
import type { NodeBreaker } from "./node_breaker.ts";
import { HashRing } from "./ring.ts";
import { type ClusterView, ownerOfWrite, reachable } from "./view.ts";
import { within } from "./within.ts";

/** Settings of remote execution (from `[search]` and `[network]`). */
export interface ClusterExecutorSettings {
  /** Time a remote node has to answer one operation of a broadcast, in ms. */
  readonly broadcastTimeoutMs: number;
  /** Time an owner node has to answer a write or point read, in ms. */
  readonly requestTimeoutMs: number;
  /** Extra attempts when the link to the owner broke before it answered. */
  readonly retryAttempts: number;
  /** Remote requests of one broadcast in flight at once. */
  readonly fanoutLimit: number;
  /** Limits of searches compiled here. */
  readonly limits?: SearchLimits;
  /** Time an owner has for a bulk of writes, in ms (point operations: `requestTimeoutMs`). */
  readonly bulkTimeoutMs?: number;
  /** Refuses calls to suspect or down nodes and caps calls in flight per node. */
  readonly breaker?: NodeBreaker;
}

/** Counters for `/_metrics`. */
export type ClusterExecutorStats = {
  remote_requests: number;
  remote_retries: number;
  remote_failures: number;
  broadcasts: number;
  broadcast_node_failures: number;
  /** First-phase statistics from other nodes refused (`stats_schema.ts`). */
  refused_peer_stats: number;
};

/** Finds the node service of a node (a cached remote ref). */
export type ServiceLookup = (
  node: string,
) => Promise<ActorRef<NodeServiceMsg, NodeServiceReplies>>;

/** The result of gathering one operation from every node. */
export interface Gathered<T> {
  readonly results: Array<{ node: string; value: T }>;
  readonly failed: Array<{ node: string; error: Error }>;
  /** Nodes asked (this one included when it was asked). */
  readonly contacted: number;
}

/** The view of a node before the coordinator has met anyone: itself alone. */
export function soloView(self: string, shardCount: number): ClusterView {
  const info = {
    nodeId: self,
    name: self,
    clusterName: "",
    peerId: "",
    addrs: [],
    http: "",
    shardCount,
  };
  return {
    self,
    members: new Map([[self, { info, connected: true }]]),
    ring: new HashRing([self]),
  };
}

/** The decision for one operation by a view (every node computes the same owners). */
export function decideInView(op: Operation, view: ClusterView): RoutingDecision {
  switch (op.type) {
    case "write": {
      const owners = new Set(op.commands.map((command) => ownerOfWrite(view, command)));
      owners.delete(view.self);
      return owners.size === 0 ? { kind: "local" } : { kind: "remote", nodes: [...owners] };
    }
    case "get": {
      const owner = view.ring.ownerOf(op.routingKey ?? op.id);
      return owner === view.self ? { kind: "local" } : { kind: "remote", nodes: [owner] };
    }
    case "indexes":
      return { kind: "local" };
    case "search":
    case "searchPages":
    case "configure":
    case "dropIndex":
    case "clusterIndexes":
      return { kind: "broadcast", nodes: reachable(view) };
  }
}

/** {@linkcode Executor} of a node in a cluster. */
export class ClusterExecutor implements Executor {
  readonly counters: ClusterExecutorStats = {
    remote_requests: 0,
    remote_retries: 0,
    remote_failures: 0,
    broadcasts: 0,
    broadcast_node_failures: 0,
    refused_peer_stats: 0,
  };
  readonly #lookup: ServiceLookup;
  readonly #settings: ClusterExecutorSettings;
  readonly #node: NodeOrchestrator;
  #view: ClusterView;

  constructor(
    node: NodeOrchestrator,
    lookup: ServiceLookup,
    options: ClusterExecutorSettings & { readonly view: ClusterView },
  ) {
    this.#node = node;
    this.#lookup = lookup;
    this.#settings = options;
    this.#view = options.view;
  }

  /** Called with each member that has just become connected (to bring it up to date). */
  onMemberConnected: (node: string) => void = () => {};

  /** The view operations route by from now on (the coordinator calls it on every change). */
  setView(view: ClusterView): void {
    const before = this.#view;
    this.#view = view;
    for (const [node, member] of view.members) {
      if (node === view.self || !member.connected) continue;
      if (before.members.get(node)?.connected !== true) this.onMemberConnected(node);
    }
  }

  /** Sends `msg` to every other connected node (within the broadcast timeout). */
  spread<T extends NodeServiceMsg>(msg: T): Promise<Gathered<NodeServiceReplies[T["type"]]>> {
    const view = this.#view;
    return this.gather(
      view,
      (node) => this.unicast(view, node, msg, this.#settings.broadcastTimeoutMs),
      { local: false },
    );
  }

  /** Sends `msg` to one node (within the broadcast timeout). */
  sendTo<T extends NodeServiceMsg>(node: string, msg: T): Promise<NodeServiceReplies[T["type"]]> {
    return this.unicast(this.#view, node, msg, this.#settings.broadcastTimeoutMs);
  }

  decide(op: Operation): RoutingDecision {
    return decideInView(op, this.#view);
  }

  stats(): Readonly<Record<string, number>> {
    return { ...this.counters, ...this.#settings.breaker?.stats };
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
        this.counters.remote_failures++;
        throw new NodeUnavailableError(node, "not connected", member?.info.name);
      }
      // Fail fast on a sick node; at most `max_in_flight_per_node` calls wait on one node.
      let release: () => void;
      try {
        release = this.#settings.breaker?.enter(view, node) ?? (() => {});
      } catch (error) {
        this.counters.remote_failures++;
        throw error;
      }
      this.counters.remote_requests++;
      try {
        const service = await this.#lookup(node);
        return await service.ask(msg, { timeoutMs });
      } catch (error) {
        if (error instanceof NodeUnavailableError && attempt < this.#settings.retryAttempts) {
          this.counters.remote_retries++;
          continue;
        }
        this.counters.remote_failures++;
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
    this.counters.broadcasts++;
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
    this.counters.broadcast_node_failures += failed.length;
    return { results, failed, contacted: targets.length };
  }

  /** Asks every other reachable node to adopt schema changes (within the broadcast timeout). */
  async #spreadSchemas(view: ClusterView, changed: ReturnType<NodeOrchestrator["schemaList"]>) {
    if (changed.length === 0) return;
    await this.gather(
      view,
      (node) =>
        this.unicast(
          view,
          node,
          { type: "adoptSchemas", schemas: changed },
          this.#settings.broadcastTimeoutMs,
        ),
      { local: false },
    );
  }

  /** Writes a batch: new fields reach every node first, then each owner gets its writes. */
  async write(commands: readonly WriteCommand[]): Promise<WriteResult[]> {
    const view = this.#view;
    await this.#spreadSchemas(view, this.#node.planSchemas(commands));
    const groups = new Map<string, number[]>();
    commands.forEach((command, i) => {
      const owner = ownerOfWrite(view, command);
      const list = groups.get(owner);
      if (list === undefined) groups.set(owner, [i]);
      else list.push(i);
    });
    const outcomes: WriteResult[] = new Array(commands.length);
    await Promise.all([...groups].map(async ([owner, positions]) => {
      const batch = positions.map((i) => commands[i]!);
      try {
        const results = owner === view.self ? await this.#node.write(batch) : await this.unicast(
          view,
          owner,
          { type: "write", commands: batch },
          // A bulk gets the bulk deadline, a single write the point one.
          batch.length > 1 ? this.#settings.bulkTimeoutMs : undefined,
        );
        positions.forEach((i, k) => (outcomes[i] = results[k]!));
      } catch (error) {
        for (const i of positions) {
          outcomes[i] = { ok: false, id: commands[i]!.id, error: serializeError(error) };
        }
      }
    }));
    return outcomes;
  }

  /** Reads a document from its owner. */
  get(index: string, id: string, routingKey?: string): Promise<StoredDocument | null> {
    const view = this.#view;
    const owner = view.ring.ownerOf(routingKey ?? id);
    if (owner === view.self) return this.#node.get(index, id, routingKey);
    return this.unicast(
      view,
      owner,
      routingKey === undefined
        ? { type: "get", index, id }
        : { type: "get", index, id, routingKey },
    );
  }

  /** Compiles here (the index must be known here), then gathers every node's shard pages. */
  searchPages(index: string, request: SearchRequest): Promise<SearchPages> {
    const entry = this.#node.schema(index);
    if (entry === undefined) return Promise.reject(new IndexNotFoundError(index));
    const view = this.#view;
    // Nodes whose statistics are not in this search's sums (refused, or not answered): not
    // asked to score with them, so no node's scores are skewed; the answer counts them failed.
    const excluded = new Map<string, Error>();
    return gatherPages((query) => this.#pagesEverywhere(view, query, excluded), index, request, {
      schema: entry.schema,
      limits: this.#settings.limits ?? {},
      ...(entry.ranking === undefined ? {} : { ranking: entry.ranking }),
    });
  }

  async #pagesEverywhere(
    view: ClusterView,
    query: ShardQuery,
    excluded: Map<string, Error>,
  ): Promise<PageSet> {
    const gathered = await this.gather(view, (node) => {
      const reason = excluded.get(node);
      if (reason !== undefined) return Promise.reject(reason);
      if (node === view.self) return this.#node.shardPages(query);
      return this.unicast(
        view,
        node,
        { type: "shardPages", query },
        this.#settings.broadcastTimeoutMs,
      )
        .then((set) => query.phase === "stats" ? this.#checkedStats(set, node) : set);
    });
    if (query.phase === "stats") {
      for (const { node, error } of gathered.failed) {
        excluded.set(
          node,
          error instanceof MalformedFrameError
            ? error
            : new NodeUnavailableError(node, "its statistics are not in this search's sums"),
        );
      }
    }
    const pages = gathered.results.flatMap(({ value }) => value.pages);
    let totalShards = gathered.results.reduce((sum, { value }) => sum + value.totalShards, 0);
    let failedShards = 0;
    for (const { node } of gathered.failed) {
      const shards = view.members.get(node)?.info.shardCount ?? 0;
      failedShards += shards;
      totalShards += shards;
    }
    return {
      pages,
      totalShards,
      failedShards,
      nodesContacted: gathered.contacted,
      nodesFailed: gathered.failed.length,
    };
  }

  /**
   * Another node's statistics, checked before they are added up: nonsense is refused and
   * counted, never summed into the scores; the node is not asked to score (its shards count
   * as failed in the answer).
   */
  #checkedStats(set: PageSet, node: string): PageSet {
    try {
      return checkedStatsPages(set, node);
    } catch (error) {
      this.counters.refused_peer_stats++;
      throw error;
    }
  }

  /** Declares or extends a schema here (which validates it), then on every other node. */
  async configure(index: string, config: IndexConfig): Promise<IndexSchema> {
    const view = this.#view;
    const result = await this.#node.configure(index, config);
    const fields = fieldDeclarations(result.schema);
    const description = config.description === undefined ? {} : { description: config.description };
    await this.gather(view, (node) =>
      this.unicast(view, node, {
        type: "configure",
        index,
        config: {
          fields,
          engine: result.engine,
          ...description,
          ...(config.ranking === undefined || result.ranking === undefined
            ? {}
            : { ranking: result.ranking }),
        },
      }, this.#settings.broadcastTimeoutMs), { local: false });
    return result;
  }

  /** Deletes an index on every reachable node. */
  async dropIndex(index: string): Promise<DroppedIndex> {
    const view = this.#view;
    const gathered = await this.gather(
      view,
      (node) =>
        node === view.self
          ? this.#node.dropIndex(index).catch((error) => {
            if (!(error instanceof IndexNotFoundError)) throw error;
            return { deleted_from_shards: 0, total_shards: this.#node.shardCount };
          })
          : this.unicast(
            view,
            node,
            { type: "dropIndex", index },
            this.#settings.broadcastTimeoutMs,
          ),
    );
    const deleted = gathered.results.reduce((sum, r) => sum + r.value.deleted_from_shards, 0);
    if (deleted === 0 && gathered.failed.length === 0) throw new IndexNotFoundError(index);
    return {
      deleted_from_shards: deleted,
      total_shards: gathered.results.reduce((sum, r) => sum + r.value.total_shards, 0),
    };
  }

  indexes(): Promise<IndexSummary[]> {
    return this.#node.indexes();
  }

  /** Every node's indexes, merged by name. */
  async clusterIndexes(): Promise<ClusterIndexes> {
    const view = this.#view;
    const gathered = await this.gather(
      view,
      (node) =>
        node === view.self
          ? this.#node.indexes()
          : this.unicast(view, node, { type: "indexes" }, this.#settings.broadcastTimeoutMs),
    );
    const indexes = mergeSummaries(gathered.results.map(({ value }) => value));
    return {
      indexes,
      total_indexes: indexes.length,
      nodes_contacted: gathered.contacted,
      nodes_failed: gathered.failed.length,
      failed_nodes: gathered.failed.map((f) => f.node),
    };
  }
}

/** Members known but not connected: failed at once, nothing waits for them. */
function unreachable(view: ClusterView): Array<{ node: string; error: Error }> {
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

/** Nodes' index lists merged by name (counts summed, fields united), sorted by name. */
function mergeSummaries(lists: ReadonlyArray<readonly IndexSummary[]>) {
  const byName = new Map<string, IndexSummary & { nodes: number }>();
  for (const summary of lists.flat()) {
    const entry = byName.get(summary.name);
    if (entry === undefined) {
      byName.set(summary.name, { ...summary, fields: [...summary.fields], nodes: 1 });
      continue;
    }
    entry.document_count += summary.document_count;
    entry.shard_count += summary.shard_count;
    entry.memory_bytes += summary.memory_bytes;
    entry.fields = [...new Set([...entry.fields, ...summary.fields])].sort();
    entry.field_count = entry.fields.length;
    entry.nodes++;
  }
  return [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
}
