/**
 * How the router executes Remote and Broadcast decisions: unicast to the owner node with
 * retries and a timeout, bulk writes grouped per owner and forwarded in parallel, and
 * scatter-gather under `broadcast_timeout` with at most `broadcast_fanout_limit` requests
 * in flight. A node that fails or times out in a broadcast is counted (`nodes_failed`,
 * and its shards in `failed_shards`); the answer still arrives within the timeout.
 *
 * @module
 */

import { serializeError } from "../actors/errors.ts";
import type { ClientWrite, IndexSummary, NodeOrchestrator } from "../node/orchestrator.ts";
import type { IndexConfig } from "../node/router_actor.ts";
import type { ShardSearchResult, StoredDocument, WriteOutcome } from "../storage/microshard.ts";
import { IndexNotFoundError } from "../storage/errors.ts";
import { fieldDeclarations } from "../storage/schema.ts";
import { NodeUnavailableError } from "./errors.ts";
import type { NodeServiceMsg, NodeServiceReplies } from "./node_service.ts";
import { type ClusterView, ownerOfWrite, reachable } from "./view.ts";
import type { ActorRef } from "../actors/types.ts";
import { within } from "./within.ts";
import type { NodeBreaker } from "./node_breaker.ts";

/** Settings of remote execution (from `[search]`). */
export interface ClusterOpsSettings {
  /** Time a remote node has to answer one operation of a broadcast, in ms. */
  readonly broadcastTimeoutMs: number;
  /** Time an owner node has to answer a write or point read, in ms. */
  readonly requestTimeoutMs: number;
  /** Extra attempts when the link to the owner broke before it answered. */
  readonly retryAttempts: number;
  /** Remote requests of one broadcast in flight at once. */
  readonly fanoutLimit: number;
  /** Trust (issue 14): time an owner has for a bulk of writes, in ms (point ops: requestTimeoutMs). */
  readonly bulkTimeoutMs?: number;
  /** Trust (issue 14): refuses calls to suspect/down nodes and caps calls in flight per node. */
  readonly breaker?: NodeBreaker;
}

/** Counters for `/_metrics`. */
export interface ClusterOpsStats {
  remote_requests: number;
  remote_retries: number;
  remote_failures: number;
  broadcasts: number;
  broadcast_node_failures: number;
}

/** Finds the node service of a node (a cached remote ref). */
export type ServiceLookup = (
  node: string,
) => Promise<ActorRef<NodeServiceMsg, NodeServiceReplies>>;

/** The result of gathering one operation from every node. */
export interface Gathered<T> {
  readonly results: Array<{ node: string; value: T }>;
  readonly failed: Array<{ node: string; error: Error }>;
  /** Nodes asked (this one included). */
  readonly contacted: number;
}

/** Remote execution for the router. */
export class ClusterOps {
  readonly stats: ClusterOpsStats = {
    remote_requests: 0,
    remote_retries: 0,
    remote_failures: 0,
    broadcasts: 0,
    broadcast_node_failures: 0,
  };
  readonly #lookup: ServiceLookup;
  readonly #settings: ClusterOpsSettings;
  readonly #node: NodeOrchestrator;

  constructor(node: NodeOrchestrator, lookup: ServiceLookup, settings: ClusterOpsSettings) {
    this.#node = node;
    this.#lookup = lookup;
    this.#settings = settings;
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
        this.stats.remote_failures++;
        throw new NodeUnavailableError(node, "not connected", member?.info.name);
      }
      // Trust (issue 14): fail fast on a sick node (cluster/node_breaker.ts).
      let release: () => void;
      try {
        release = this.#settings.breaker?.enter(view, node) ?? (() => {});
      } catch (error) {
        this.stats.remote_failures++;
        throw error;
      }
      this.stats.remote_requests++;
      try {
        const service = await this.#lookup(node);
        return await service.ask(msg, { timeoutMs });
      } catch (error) {
        if (error instanceof NodeUnavailableError && attempt < this.#settings.retryAttempts) {
          this.stats.remote_retries++;
          continue;
        }
        this.stats.remote_failures++;
        throw error;
      } finally {
        release(); // Trust (issue 14)
      }
    }
  }

  /** Writes a batch: schemas evolve everywhere first, then each owner gets its writes. */
  async write(
    view: ClusterView,
    writes: readonly ClientWrite[],
  ): Promise<Array<WriteOutcome & { shard_id?: number }>> {
    const changed = await this.#node.evolveSchemas(writes);
    if (changed.length > 0) {
      await this.gather(
        view,
        (node) =>
          Promise.all(changed.map((change) =>
            this.unicast(view, node, {
              type: "configure",
              index: change.index,
              config: { fields: change.fields, engine: change.engine },
            }, this.#settings.broadcastTimeoutMs)
          )),
        { local: false },
      );
    }
    const groups = new Map<string, number[]>();
    writes.forEach((write, i) => {
      const owner = ownerOfWrite(view, write);
      const list = groups.get(owner) ?? [];
      list.push(i);
      groups.set(owner, list);
    });
    const outcomes: Array<WriteOutcome & { shard_id?: number }> = new Array(writes.length);
    await Promise.all([...groups].map(async ([owner, positions]) => {
      const batch = positions.map((i) => writes[i]!);
      try {
        const results = owner === view.self ? await this.#node.write(batch) : await this.unicast(
          view,
          owner,
          { type: "write", writes: batch },
          // Trust (issue 14): a bulk gets the bulk deadline, a single write the point one.
          batch.length > 1 ? this.#settings.bulkTimeoutMs : undefined,
        );
        positions.forEach((i, k) => (outcomes[i] = results[k]!));
      } catch (error) {
        for (const i of positions) {
          outcomes[i] = {
            ok: false,
            id: String(writes[i]!.id ?? ""),
            error: serializeError(error),
          };
        }
      }
    }));
    return outcomes;
  }

  /** Reads a document from its owner. */
  get(
    view: ClusterView,
    index: string,
    id: string,
    routingKey?: string,
  ): Promise<StoredDocument | null> {
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

  /**
   * Runs `work` on every reachable node (this one through `local`), at most
   * `fanoutLimit` remote requests at once, each within the broadcast timeout.
   */
  async gather<T>(
    view: ClusterView,
    work: (node: string) => Promise<T>,
    options: { local?: boolean } = {},
  ): Promise<Gathered<T>> {
    this.stats.broadcasts++;
    const targets = reachable(view).filter((node) => options.local !== false || node !== view.self);
    const results: Array<{ node: string; value: T }> = [];
    const failed: Array<{ node: string; error: Error }> = [];
    // Members known but not connected are failed at once: nothing waits for them.
    for (const [node, member] of view.members) {
      if (node !== view.self && !member.connected) {
        failed.push({
          node,
          error: new NodeUnavailableError(node, "not connected", member.info.name),
        });
      }
    }
    let next = 0;
    const lane = async () => {
      while (next < targets.length) {
        const node = targets[next++]!;
        try {
          results.push({
            node,
            value: await within(
              work(node),
              this.#settings.broadcastTimeoutMs,
              () =>
                new NodeUnavailableError(
                  node,
                  `no answer within ${this.#settings.broadcastTimeoutMs} ms`,
                ),
            ),
          });
        } catch (error) {
          failed.push({ node, error: error as Error });
        }
      }
    };
    await Promise.all(
      Array.from({ length: Math.min(this.#settings.fanoutLimit, targets.length) }, lane),
    );
    this.stats.broadcast_node_failures += failed.length;
    return { results, failed, contacted: targets.length };
  }

  /** Every node's shard pages for a search (compiled here: the index must be known here). */
  async searchPages(view: ClusterView, index: string, body: unknown) {
    const local = await this.#node.searchPages(index, body);
    const gathered = await this.gather(
      view,
      (node) =>
        this.unicast(
          view,
          node,
          { type: "searchPages", index, body },
          this.#settings.broadcastTimeoutMs,
        ),
      { local: false },
    );
    const pages: ShardSearchResult[] = [...local.pages];
    let totalShards = local.context.totalShards;
    for (const { value } of gathered.results) {
      pages.push(...value.pages);
      totalShards += value.totalShards;
    }
    let failedShards = 0;
    for (const { node } of gathered.failed) {
      const shards = view.members.get(node)?.info.shardCount ?? 0;
      failedShards += shards;
      totalShards += shards;
    }
    return {
      pages,
      search: local.search,
      context: {
        started: local.context.started,
        totalShards,
        failedShards,
        nodesContacted: gathered.contacted + 1,
        nodesFailed: gathered.failed.length,
      },
    };
  }

  /** Declares or extends a schema here (which validates it), then on every other node. */
  async configure(view: ClusterView, index: string, config: IndexConfig) {
    const result = await this.#node.configure(index, config);
    const fields = fieldDeclarations(result.schema);
    await this.gather(view, (node) =>
      this.unicast(view, node, {
        type: "configure",
        index,
        config: {
          fields,
          engine: result.engine,
          ...(config.description === undefined ? {} : { description: config.description }),
        },
      }, this.#settings.broadcastTimeoutMs), { local: false });
    return result;
  }

  /** Deletes an index on every reachable node. */
  async dropIndex(view: ClusterView, index: string) {
    const gathered = await this.gather(
      view,
      (node) =>
        node === view.self
          ? this.#node.dropIndex(index).catch((error) => {
            if (error instanceof IndexNotFoundError) {
              return { deleted_from_shards: 0, total_shards: this.#node.shardCount, missing: true };
            }
            throw error;
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

  /** Every node's indexes, merged by name. */
  async clusterIndexes(view: ClusterView) {
    const gathered = await this.gather(
      view,
      (node) =>
        node === view.self
          ? this.#node.indexes()
          : this.unicast(view, node, { type: "indexes" }, this.#settings.broadcastTimeoutMs),
    );
    const byName = new Map<string, IndexSummary & { nodes: number }>();
    for (const { value } of gathered.results) {
      for (const summary of value) {
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
    }
    const indexes = [...byName.values()].sort((a, b) => (a.name < b.name ? -1 : 1));
    return {
      indexes,
      total_indexes: indexes.length,
      nodes_contacted: gathered.contacted,
      nodes_failed: gathered.failed.length,
      failed_nodes: gathered.failed.map((f) => f.node),
    };
  }
}
