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
import { type ClusterView, ownerOfSlot, reachable } from "./view.ts";
import { placementKey } from "../node/write_command.ts";
import { CLUSTER_SLOTS, SLOT_FIELD, slotOf } from "../storage/slot.ts";
import type { Plan } from "../storage/search_index.ts";
import { encodeStamp } from "../storage/hlc.ts";
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
  /** Documents (and tombstones) per page of a moving slot's stream; 500 by default. */
  readonly movePageDocs?: number;
}

/**
 * Which node answers each slot in one search: `owners[slot]` indexes `nodes` (about 1 KiB on
 * the wire, sent with every shard-pages request of a cluster search).
 */
export interface SlotAssignment {
  readonly nodes: readonly string[];
  readonly owners: readonly number[];
}

/** Default documents per page of a moving slot's stream. */
export const DEFAULT_MOVE_PAGE_DOCS = 500;

/** The stamp of a document stored before stamps were: older than every stamped write. */
const UNSTAMPED = encodeStamp({ ms: 0, counter: 0, tag: "" });

/** The dual writes of one moving slot: those in flight, and whether one failed. */
interface DualWrites {
  readonly inFlight: Set<Promise<unknown>>;
  failed: boolean;
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
      const owners = new Set(
        op.commands.map((command) => ownerOfSlot(view, slotOf(placementKey(command)))),
      );
      owners.delete(view.self);
      return owners.size === 0 ? { kind: "local" } : { kind: "remote", nodes: [...owners] };
    }
    case "get": {
      const owner = ownerOfSlot(view, slotOf(op.routingKey ?? op.id));
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
  /** Slots whose stream has ended: their requests go to the receiver (see `fenceSlot`). */
  readonly #fenced = new Map<number, string>();
  readonly #dual = new Map<number, DualWrites>();
  /** Local writes not yet answered, per slot (see `#writeOwned`). */
  readonly #localWrites = new Map<number, Set<Promise<unknown>>>();
  /** Slots streamed away from here whose copy is not dropped yet (searches leave them out). */
  readonly #movedAway = new Set<number>();
  /** Slots another node copied documents of to here (a move to here, maybe not finished). */
  readonly #received = new Set<number>();

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
    for (const [slot, to] of this.#fenced) {
      if (view.slots?.ownerOf(slot) === to) {
        this.#fenced.delete(slot);
        this.#dual.delete(slot);
      }
    }
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
    await this.#spreadSchemas(this.#view, this.#node.planSchemas(commands));
    // The view after the schemas spread: a move may have started meanwhile.
    return await this.#route(this.#view, commands, { hops: 0, ingress: true });
  }

  /**
   * Writes another node sent here (`hops`: how often they were forwarded already): those of
   * slots served here run here; the others go to their owner once (a stale caller's), and a
   * second forward fails with 503 (the table is changing: retry), so nothing loops.
   */
  serveWrite(commands: readonly WriteCommand[], hops: number): Promise<WriteResult[]> {
    return this.#route(this.#view, commands, { hops, ingress: false });
  }

  /** The node that serves a slot here, for a request forwarded `hops` times. */
  #ownerFor(view: ClusterView, slot: number, hops: number): string {
    const fenced = this.#fenced.get(slot);
    if (fenced !== undefined) return fenced;
    // Forwarded by the owner to its slot's receiver: the owner has fenced it (it flips next).
    if (hops > 0 && view.slots?.entry(slot).pending === view.self) return view.self;
    return ownerOfSlot(view, slot);
  }

  async #route(
    view: ClusterView,
    commands: readonly WriteCommand[],
    how: { readonly hops: number; readonly ingress: boolean },
  ): Promise<WriteResult[]> {
    const groups = new Map<string, number[]>();
    commands.forEach((command, i) => {
      const owner = this.#ownerFor(view, slotOf(placementKey(command)), how.hops);
      const list = groups.get(owner);
      if (list === undefined) groups.set(owner, [i]);
      else list.push(i);
    });
    const outcomes: WriteResult[] = new Array(commands.length);
    await Promise.all([...groups].map(async ([owner, positions]) => {
      const batch = positions.map((i) => commands[i]!);
      try {
        if (owner !== view.self && !how.ingress && how.hops > 0) {
          throw new NodeUnavailableError(owner, "its slots are changing owner; retry");
        }
        const results = owner === view.self ? await this.#writeOwned(view, batch) : await this
          .unicast(
            view,
            owner,
            { type: "write", commands: batch, hops: how.ingress ? 0 : how.hops + 1 },
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

  /**
   * Writes commands of slots served here. A slot being moved gets a dual write: applied here,
   * then copied (with this node's stamp and version) to its receiver before the answer; a
   * copy that fails makes the move start again (see `fenceSlot`).
   */
  #writeOwned(view: ClusterView, batch: readonly WriteCommand[]): Promise<WriteResult[]> {
    const run = this.#writeOwnedNow(view, batch);
    // Every local write is in flight for its slots until it is answered: a move that starts
    // meanwhile waits for it before its snapshot (it was decided without the dual write).
    for (const slot of new Set(batch.map((command) => slotOf(placementKey(command))))) {
      let writes = this.#localWrites.get(slot);
      if (writes === undefined) this.#localWrites.set(slot, writes = new Set());
      writes.add(run);
      run.finally(() => {
        writes.delete(run);
        if (writes.size === 0 && this.#localWrites.get(slot) === writes) {
          this.#localWrites.delete(slot);
        }
      }).catch(() => {});
    }
    return run;
  }

  #writeOwnedNow(view: ClusterView, batch: readonly WriteCommand[]): Promise<WriteResult[]> {
    const receivers = new Map<string, number[]>();
    const slots = new Set<number>();
    batch.forEach((command, k) => {
      const slot = slotOf(placementKey(command));
      const to = view.slots?.entry(slot).pending;
      if (to === undefined || to === view.self || this.#fenced.has(slot)) return;
      slots.add(slot);
      const list = receivers.get(to);
      if (list === undefined) receivers.set(to, [k]);
      else list.push(k);
    });
    if (receivers.size === 0) return this.#node.write(batch);
    const duals = [...slots].map((slot) => this.#dualOf(slot));
    const run = this.#node.write(batch, { withStamps: true }).then(async (results) => {
      await Promise.all([...receivers].map(async ([to, positions]) => {
        const copies = positions.flatMap((k) => copyOf(batch[k]!, results[k]!));
        if (copies.length === 0) return;
        try {
          const answers = await this.unicast(view, to, { type: "copy", commands: copies });
          if (answers.some((answer) => !answer.ok)) throw new Error("a copy was refused");
        } catch {
          for (const dual of duals) dual.failed = true;
        }
      }));
      return results.map(withoutStamp);
    });
    for (const dual of duals) {
      dual.inFlight.add(run);
      run.finally(() => dual.inFlight.delete(run)).catch(() => {});
    }
    return run;
  }

  #dualOf(slot: number): DualWrites {
    let dual = this.#dual.get(slot);
    if (dual === undefined) this.#dual.set(slot, dual = { inFlight: new Set(), failed: false });
    return dual;
  }

  /**
   * Streams one slot to its receiver `to` (its tombstones, then its documents, page by page
   * from every local shard; the receiver applies each put-if-newer), then fences it: new
   * requests for it go to `to`, and the dual writes in flight are awaited. Resolves with the
   * documents streamed; rejects when the stream or a dual write failed (the caller aborts).
   */
  async streamSlot(slot: number, to: string): Promise<number> {
    this.#dual.set(slot, { inFlight: new Set(), failed: false });
    // Writes decided before the slot was pending (no dual write) land before the snapshot.
    await Promise.allSettled([...this.#localWrites.get(slot) ?? []]);
    const pageDocs = this.#settings.movePageDocs ?? DEFAULT_MOVE_PAGE_DOCS;
    let documents = 0;
    const send = async (commands: WriteCommand[]) => {
      if (commands.length === 0) return;
      const answers = await this.unicast(
        this.#view,
        to,
        { type: "copy", commands },
        this.#settings.bulkTimeoutMs,
      );
      const refused = answers.find((answer) => !answer.ok);
      if (refused !== undefined && !refused.ok) {
        throw new Error(`${to} refused a copy of "${refused.id}": ${refused.error.message}`);
      }
    };
    for (const { index } of this.#node.schemaList()) {
      for (let shard = 0; shard < this.#node.shardCount; shard++) {
        let after: string | undefined;
        do {
          const page = await this.#node.slotTombstones(index, slot, {
            shard,
            limit: pageDocs,
            ...(after === undefined ? {} : { afterId: after }),
          });
          await send(page.tombstones.map((t) => ({
            op: "delete",
            index,
            id: t.id,
            stamp: t.stamp,
            version: t.version,
            ...(t.routingKey === undefined ? {} : { routingKey: t.routingKey }),
          })));
          after = page.next;
        } while (after !== undefined);
        do {
          const page = await this.#node.slotPage(index, slot, {
            shard,
            limit: pageDocs,
            ...(after === undefined ? {} : { afterId: after }),
          });
          await send(page.documents.map((d) => ({
            op: "put",
            index,
            id: d.id,
            doc: d.doc,
            stamp: d.stamp ?? UNSTAMPED,
            version: d.version,
            ...(d.routingKey === undefined ? {} : { routingKey: d.routingKey }),
          })));
          documents += page.documents.length;
          after = page.next;
        } while (after !== undefined);
      }
    }
    if (!await this.fenceSlot(slot, to)) {
      throw new Error(`a write to slot ${slot} could not be copied to ${to}`);
    }
    this.#movedAway.add(slot);
    return documents;
  }

  /**
   * Routes a slot's requests to its receiver from now on and waits for the dual writes in
   * flight; resolves with whether every dual write since the move began reached it.
   */
  async fenceSlot(slot: number, to: string): Promise<boolean> {
    this.#fenced.set(slot, to);
    const dual = this.#dualOf(slot);
    await Promise.allSettled([...dual.inFlight]);
    return !dual.failed;
  }

  /**
   * Copies of another node's writes arrived (a slot moving here): their slots are left out
   * of searches until the coordinator of a search assigns them here.
   */
  noteCopies(commands: readonly WriteCommand[]): void {
    for (const command of commands) this.#received.add(slotOf(placementKey(command)));
  }

  /** An aborted move: the slot's requests are served here again. */
  abortMove(slot: number): void {
    this.#fenced.delete(slot);
    this.#dual.delete(slot);
    this.#movedAway.delete(slot);
  }

  /** Drops this node's copy of a slot that moved away (every index, every shard). */
  async dropSlot(slot: number): Promise<void> {
    for (const { index } of this.#node.schemaList()) {
      await this.#node.dropSlot(index, slot).catch((error) => {
        if (!(error instanceof IndexNotFoundError)) throw error;
      });
    }
    this.#movedAway.delete(slot);
  }

  /** Reads a document from its owner. */
  get(index: string, id: string, routingKey?: string): Promise<StoredDocument | null> {
    return this.serveGet({ index, id, ...(routingKey === undefined ? {} : { routingKey }) }, -1);
  }

  /**
   * A point read: here when the slot is served here, else from its owner (`hops` -1 at the
   * ingress; a read forwarded once already fails with 503 rather than loop).
   */
  serveGet(
    read: { readonly index: string; readonly id: string; readonly routingKey?: string },
    hops: number,
  ): Promise<StoredDocument | null> {
    const view = this.#view;
    const { index, id, routingKey } = read;
    const owner = this.#ownerFor(view, slotOf(routingKey ?? id), Math.max(hops, 0));
    if (owner === view.self) return this.#node.get(index, id, routingKey);
    if (hops >= 1) {
      return Promise.reject(
        new NodeUnavailableError(owner, "its slots are changing owner; retry"),
      );
    }
    return this.unicast(view, owner, {
      type: "get",
      index,
      id,
      hops: hops + 1,
      ...(routingKey === undefined ? {} : { routingKey }),
    });
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
    const assignment = this.#assignmentOf(view);
    const gathered = await this.gather(view, (node) => {
      const reason = excluded.get(node);
      if (reason !== undefined) return Promise.reject(reason);
      if (node === view.self) return this.servePages(query, assignment);
      return this.unicast(
        view,
        node,
        { type: "shardPages", query, assignment },
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

  /**
   * Which node answers each slot in a search coordinated here: the slot's owner by this
   * node's table (fences included), so every slot is answered by exactly one node.
   */
  #assignmentOf(view: ClusterView): SlotAssignment {
    const nodes: string[] = [];
    const index = new Map<string, number>();
    const owners = Array.from({ length: CLUSTER_SLOTS }, (_, slot) => {
      const owner = this.#ownerFor(view, slot, 0);
      let at = index.get(owner);
      if (at === undefined) index.set(owner, at = nodes.push(owner) - 1);
      return at;
    });
    return { nodes, owners };
  }

  /**
   * This node's shard pages of a search another node coordinates (or this one): the slots
   * this node holds but the coordinator assigned to another node (a slot it is receiving, or
   * one it moved away and has not dropped yet) are left out in the engines, by the internal
   * `_slot` value every document is indexed with (`SLOT_FIELD`), so a moving slot is counted
   * once.
   */
  async servePages(query: ShardQuery, assignment?: SlotAssignment): Promise<PageSet> {
    const excluded = assignment === undefined ? [] : this.#excludedSlots(assignment);
    if (excluded.length === 0) return await this.#node.shardPages(query);
    const left: Plan = {
      kind: "or",
      children: excluded.map((slot): Plan => ({ kind: "eq", field: SLOT_FIELD, value: slot })),
    };
    const plan: Plan = { kind: "and", children: [query.plan, { kind: "not", child: left }] };
    return await this.#node.shardPages({ ...query, plan });
  }

  /** The slots this node may hold documents of that `assignment` gives to another node. */
  #excludedSlots(assignment: SlotAssignment): number[] {
    const view = this.#view;
    const excluded: number[] = [];
    for (let slot = 0; slot < CLUSTER_SLOTS; slot++) {
      const assigned = assignment.nodes[assignment.owners[slot] ?? -1];
      if (assigned === view.self) continue;
      const entry = view.slots?.entry(slot);
      const held = this.#movedAway.has(slot) || this.#received.has(slot) ||
        entry?.pending === view.self || ownerOfSlot(view, slot) === view.self;
      if (held) excluded.push(slot);
    }
    return excluded;
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

/** The copy of a write applied here, as its slot's receiver applies it (none for no change). */
function copyOf(command: WriteCommand, result: WriteResult): WriteCommand[] {
  if (!result.ok || result.stamp === undefined || result.result === "unchanged") return [];
  const { index, id } = command;
  const placed = command.routingKey === undefined ? {} : { routingKey: command.routingKey };
  const stamped = { stamp: result.stamp, version: result.version };
  return command.op === "put"
    ? [{ op: "put", index, id, doc: command.doc, ...placed, ...stamped }]
    : [{ op: "delete", index, id, ...placed, ...stamped }];
}

/** A result without the stamp it carried for the dual write. */
function withoutStamp(result: WriteResult): WriteResult {
  if (!result.ok || result.stamp === undefined) return result;
  const { stamp: _stamp, ...rest } = result;
  return rest;
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
